// The register of what was built and done (R-EV-1): service stations and training sessions entered as
// JSON rows or imported from a CSV file, and values entered with evidence for the targets no register
// measures. A refused batch or file stores nothing, and the refusal names every bad row.
import { parse } from 'csv-parse/sync';
import type { z } from 'zod';
import { programAggregate } from '../engine/aggregates';
import { DomainError, forbidden, invalid, type Violation } from '../workflows/errors';
import type { ProgramCommand } from '../workflows/program/decider';
import { parseMoney } from '../workflows/money';
import {
  STATION_LEVELS,
  type FundedEntry,
  type StationEntry,
  type TrainingEntry,
} from '../workflows/program/register';
import type { Actor } from '../workflows/program/types';
import type { AppContext } from './context';
import { filesFor, resolveFileFields } from './files';
import {
  FundedRow,
  StationRow,
  TrainingRow,
  type FundedBody,
  type In,
  type IndicatorValueBody,
  type RegisterCsvBody,
  type StationsBody,
  type TrainingsBody,
} from './inputs';
import { loadProgram, loadSubproject } from './queries';
import { idempotent, outcomeAnswers } from './idempotency';
import { CommandOutcome } from './result';
import { programRegisterView } from './views';

type StationIn = In<typeof StationRow>;
type TrainingIn = In<typeof TrainingRow>;

const linkOf = (r: { seq?: number; milestone?: string }) => ({
  seq: r.seq ?? null,
  milestone: r.milestone ?? null,
});
const stationEntry = (r: StationIn): StationEntry => ({
  level: r.level,
  name: r.name ?? null,
  town: r.town ?? null,
  village: r.village ?? null,
  poorVillage: r.poorVillage,
  operator: r.operator,
  openedOn: r.openedOn,
  ...linkOf(r),
});
const trainingEntry = (r: TrainingIn): TrainingEntry => ({
  date: r.date,
  place: r.place,
  trainees: r.trainees,
  personTimes: r.personTimes,
  archiveComplete: r.archiveComplete,
  ...linkOf(r),
});

/** The milestone keys of the contracts of the subprojects the rows name (facts for the decider). A
 * contractor registers only what its own organisation delivers (R-TD-3): every row names a subproject
 * awarded to it. */
async function milestonesOf(
  ctx: AppContext,
  actor: Actor,
  code: string,
  rows: { seq: number | null }[],
) {
  const seqs = [...new Set(rows.map((r) => r.seq).filter((s): s is number => s !== null))];
  if (actor.role === 'contractor') {
    const loose = rows.findIndex((r) => r.seq === null);
    if (loose !== -1)
      throw forbidden(
        'R-TD-3',
        `第 ${loose + 1} 条没有注明分项目：承办企业只能登记本单位承办的分项目交付的内容`,
        'a contractor registers only what its own subprojects delivered: every row names its subproject',
      );
  }
  const out: Record<number, string[]> = {};
  await Promise.all(
    seqs.map(async (seq) => {
      const { state } = await loadSubproject(ctx, code, seq);
      if (
        actor.role === 'contractor' &&
        (state.status !== 'active' || state.award?.org !== actor.org)
      )
        throw forbidden(
          'R-TD-3',
          `分项目 ${seq} 不是本单位承办的，不能登记其台账`,
          `subproject ${seq} is not awarded to your organisation`,
        );
      out[seq] =
        state.status === 'active' ? (state.contract?.milestones ?? []).map((m) => m.key) : [];
    }),
  );
  return out;
}

/** Where a batch came from: a CSV file's name and its lines; the client's Idempotency-Key. */
type Origin = { source?: string; lines?: number[]; key?: string };

/** One register command; once per Idempotency-Key when one is sent (app/idempotency.ts), so that a
 * client's retry of a batch of trainings does not count its person-times twice. */
async function runRegister(
  ctx: AppContext,
  actor: Actor,
  code: string,
  cmd: ProgramCommand,
  reason: string | undefined,
  key: string | undefined,
) {
  await loadProgram(ctx, code); // 404 for an unknown program before anything else
  const view = async () =>
    programRegisterView((await loadProgram(ctx, code)).state, ctx.engine.clock.now().toISOString());
  const { milestones: _facts, ...request } = cmd as ProgramCommand & { milestones?: unknown };
  return idempotent(ctx, actor, key, {
    command: cmd.type,
    request: { code, request, reason: reason ?? null },
    run: async (views) => {
      const r = await ctx.engine.execute(programAggregate, code, cmd, {
        actor,
        reason,
        ...(views ? { extraViews: views } : {}),
      });
      return new CommandOutcome(r.version, r.events, view);
    },
    ...outcomeAnswers(ctx, view),
  });
}

export async function registerStations(
  ctx: AppContext,
  actor: Actor,
  t: { code: string },
  input: In<typeof StationsBody>,
  from: Origin = {},
) {
  const stations = input.stations.map(stationEntry);
  return runRegister(
    ctx,
    actor,
    t.code,
    {
      type: 'RegisterStations',
      stations,
      milestones: await milestonesOf(ctx, actor, t.code, stations),
      source: from.source ?? null,
      ...(from.lines ? { lines: from.lines } : {}),
    },
    input.reason,
    from.key,
  );
}

export async function registerTrainings(
  ctx: AppContext,
  actor: Actor,
  t: { code: string },
  input: In<typeof TrainingsBody>,
  from: Origin = {},
) {
  const sessions = input.sessions.map(trainingEntry);
  return runRegister(
    ctx,
    actor,
    t.code,
    {
      type: 'RegisterTrainings',
      sessions,
      milestones: await milestonesOf(ctx, actor, t.code, sessions),
      source: from.source ?? null,
      ...(from.lines ? { lines: from.lines } : {}),
    },
    input.reason,
    from.key,
  );
}

/** R-FUND-5: supported units (loans per borrower, demonstration towns and villages, sub-items) within
 * the table's per-unit caps; amounts in 万元, exact to the fen (every bad amount named, 400). */
export async function registerFundedUnits(
  ctx: AppContext,
  actor: Actor,
  t: { code: string },
  input: In<typeof FundedBody>,
  from: Origin = {},
) {
  const problems: Violation[] = [];
  const entries: FundedEntry[] = input.entries.map((r, i) => {
    let amount = 0;
    try {
      amount = parseMoney(r.amount, '万元', {
        field: from.lines ? `第 ${from.lines[i]} 行` : `entries[${i}].amount`,
      });
    } catch (e) {
      if (!(e instanceof DomainError)) throw e;
      problems.push(...e.violations.map((v) => ({ ...v, field: `entries[${i}].amount` })));
    }
    return { item: r.item, unit: r.unit, amount, date: r.date, ...linkOf(r) };
  });
  if (problems.length)
    throw new DomainError(
      'MONEY-FORMAT',
      'invalid',
      problems.map((p) => p.message).join('；'),
      problems.map((p) => p.message_en).join('; '),
      { violations: problems },
    );
  return runRegister(
    ctx,
    actor,
    t.code,
    {
      type: 'RegisterFundedUnits',
      entries,
      milestones: await milestonesOf(ctx, actor, t.code, entries),
      source: from.source ?? null,
      ...(from.lines ? { lines: from.lines } : {}),
    },
    input.reason,
    from.key,
  );
}

export async function recordIndicatorValue(
  ctx: AppContext,
  actor: Actor,
  t: { code: string; indicator: string },
  input: In<typeof IndicatorValueBody>,
  key?: string,
) {
  if (input.files.length) await resolveFileFields(ctx, { files: input.files }, actor); // cited files exist
  return runRegister(
    ctx,
    actor,
    t.code,
    {
      type: 'RecordIndicatorValue',
      indicator: t.indicator,
      value: input.value,
      asOf: input.asOf,
      evidence: input.evidence,
      files: input.files,
    },
    input.reason,
    key,
  );
}

// ---- CSV ----------------------------------------------------------------------------------------------

type Column<R> = {
  key: keyof R & string;
  names: string[];
  kind: 'text' | 'int' | 'bool' | 'level';
};
const STATION_COLUMNS: Column<StationIn>[] = [
  { key: 'level', names: ['级别', 'level'], kind: 'level' },
  { key: 'name', names: ['名称', '站点名称', 'name'], kind: 'text' },
  { key: 'town', names: ['镇街', '镇（街）', '乡镇', '镇', 'town'], kind: 'text' },
  { key: 'village', names: ['行政村', '村', 'village'], kind: 'text' },
  { key: 'poorVillage', names: ['贫困村', 'poorVillage'], kind: 'bool' },
  { key: 'operator', names: ['运营主体', '运营单位', 'operator'], kind: 'text' },
  { key: 'openedOn', names: ['开业日期', 'openedOn'], kind: 'text' },
  { key: 'seq', names: ['分项目', '分项目序号', 'seq'], kind: 'int' },
  { key: 'milestone', names: ['里程碑', 'milestone'], kind: 'text' },
];
const TRAINING_COLUMNS: Column<TrainingIn>[] = [
  { key: 'date', names: ['日期', '培训日期', 'date'], kind: 'text' },
  { key: 'place', names: ['地点', '培训地点', 'place'], kind: 'text' },
  { key: 'trainees', names: ['培训人数', '人数', 'trainees'], kind: 'int' },
  { key: 'personTimes', names: ['培训人次', '人次', 'personTimes'], kind: 'int' },
  { key: 'archiveComplete', names: ['档案齐全', '培训档案齐全', 'archiveComplete'], kind: 'bool' },
  { key: 'seq', names: ['分项目', '分项目序号', 'seq'], kind: 'int' },
  { key: 'milestone', names: ['里程碑', 'milestone'], kind: 'text' },
];
type FundedIn = In<typeof FundedRow>;
const FUNDED_COLUMNS: Column<FundedIn>[] = [
  { key: 'item', names: ['补助项目', 'item'], kind: 'text' },
  { key: 'unit', names: ['补助对象', '借款人', 'unit'], kind: 'text' },
  { key: 'amount', names: ['金额（万元）', '金额', 'amount'], kind: 'text' },
  { key: 'date', names: ['日期', 'date'], kind: 'text' },
  { key: 'seq', names: ['分项目', '分项目序号', 'seq'], kind: 'int' },
  { key: 'milestone', names: ['里程碑', 'milestone'], kind: 'text' },
];
const LEVELS: Record<string, string> = {
  ...Object.fromEntries(Object.keys(STATION_LEVELS).map((k) => [k, k])),
  ...Object.fromEntries(Object.entries(STATION_LEVELS).map(([k, v]) => [v, k])),
  县级中心: 'county',
  镇级服务站: 'town',
  村级服务点: 'village',
};
const TRUE = ['是', 'true', '1', 'y', 'yes', '齐全'];
const FALSE = ['否', 'false', '0', 'n', 'no', '不齐全', '不全'];

/** Rows of a CSV file as the row schema's input, each with its line; every bad cell, unknown or
 * missing column named (400), nothing decided. */
function rowsOfCsv<R>(
  csv: Buffer,
  columns: Column<R>[],
  schema: z.ZodType<R>,
  what: string,
): { rows: R[]; lines: number[] } {
  let table: { record: string[]; info: { lines: number } }[];
  try {
    table = parse(csv, {
      relax_column_count: true,
      skip_empty_lines: true,
      trim: true,
      bom: true,
      info: true,
    }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (e) {
    throw invalid(
      `${what}文件不是有效的 CSV：${(e as Error).message}`,
      'the file is not valid CSV',
      'file',
    );
  }
  const header = table[0]?.record;
  const body = table.slice(1);
  if (!header || !body.length)
    throw invalid(
      `${what}文件没有数据行（首行为表头，其后每行一条）`,
      'the file has no data rows',
      'file',
    );
  const problems: Violation[] = [];
  const bad = (field: string, message: string, message_en: string) =>
    problems.push({ rule: 'INVALID-INPUT', field, message, message_en });
  const at: (Column<R> | null)[] = header.map((h) => {
    const c = columns.find((x) => x.names.some((n) => n.toLowerCase() === h.toLowerCase()));
    if (!c) bad(`file.header.${h}`, `表头「${h}」不是可识别的列`, `unknown column "${h}"`);
    return c ?? null;
  });
  const rows: R[] = [];
  const lines: number[] = [];
  body.forEach(({ record: cells, info }) => {
    const line = info.lines; // the file's own line (the header is line 1)
    const raw: Record<string, unknown> = {};
    cells.forEach((cell, k) => {
      const c = at[k];
      if (!c || cell === '') return;
      const v = cell.trim();
      if (v.includes('\u0000')) {
        // PostgreSQL keeps no NUL in text: named here rather than refused by the database
        bad(
          `line[${line}].${c.key}`,
          `第 ${line} 行「${c.names[0]}」含有空字符`,
          `line ${line} ${c.key}: NUL`,
        );
        return;
      }
      if (c.kind === 'int') raw[c.key] = /^\d+$/.test(v) ? Number(v) : v;
      else if (c.kind === 'bool')
        raw[c.key] = TRUE.includes(v.toLowerCase())
          ? true
          : FALSE.includes(v.toLowerCase())
            ? false
            : v;
      else if (c.kind === 'level') raw[c.key] = LEVELS[v] ?? v;
      else raw[c.key] = v;
    });
    const r = schema.safeParse(raw);
    if (r.success) {
      rows.push(r.data);
      lines.push(line);
      return;
    }
    for (const issue of r.error.issues) {
      const key = String(issue.path[0] ?? '');
      const col = columns.find((c) => c.key === key)?.names[0] ?? key;
      bad(
        `line[${line}].${key}`,
        `第 ${line} 行「${col}」：${issue.message}`,
        `line ${line} ${key}: ${issue.code}`,
      );
    }
  });
  if (problems.length)
    throw new DomainError(
      'INVALID-INPUT',
      'invalid',
      `${what}文件有 ${problems.length} 处错误，未登记任何内容：${problems.map((p) => p.message).join('；')}`,
      `the file has ${problems.length} errors; nothing was registered: ${problems.map((p) => p.message_en).join('; ')}`,
      { violations: problems },
    );
  return { rows, lines };
}

/** CSV columns (Chinese or English headers), for the documentation and the console. */
export const STATION_CSV_HEADER = STATION_COLUMNS.map((c) => c.names[0]).join(',');
export const TRAINING_CSV_HEADER = TRAINING_COLUMNS.map((c) => c.names[0]).join(',');
export const FUNDED_CSV_HEADER = FUNDED_COLUMNS.map((c) => c.names[0]).join(',');

/** A CSV file of supported units (R-FUND-5), checked as registerFundedUnits checks rows. */
export async function importFundedCsv(
  ctx: AppContext,
  actor: Actor,
  t: { code: string },
  file: { csv: Buffer; source: string; reason?: string; key?: string },
) {
  const { rows, lines } = rowsOfCsv(file.csv, FUNDED_COLUMNS, FundedRow, '补助对象');
  return registerFundedUnits(
    ctx,
    actor,
    t,
    { entries: rows, reason: file.reason },
    { source: file.source, lines, key: file.key },
  );
}

export async function importFundedFile(
  ctx: AppContext,
  actor: Actor,
  t: { code: string },
  input: In<typeof RegisterCsvBody>,
  key?: string,
) {
  await loadProgram(ctx, t.code);
  return importFundedCsv(ctx, actor, t, {
    ...(await uploadedCsv(ctx, actor, input.file)),
    reason: input.reason,
    key,
  });
}

/** A CSV file's stations: the shape of every row first (400 naming each bad cell), then the rules of
 * the register (422 naming each bad row by its line); either way nothing is stored. */
export async function importStationsCsv(
  ctx: AppContext,
  actor: Actor,
  t: { code: string },
  file: { csv: Buffer; source: string; reason?: string; key?: string },
) {
  const { rows, lines } = rowsOfCsv(file.csv, STATION_COLUMNS, StationRow, '服务站点');
  return registerStations(
    ctx,
    actor,
    t,
    { stations: rows, reason: file.reason },
    { source: file.source, lines, key: file.key },
  );
}

export async function importTrainingsCsv(
  ctx: AppContext,
  actor: Actor,
  t: { code: string },
  file: { csv: Buffer; source: string; reason?: string; key?: string },
) {
  const { rows, lines } = rowsOfCsv(file.csv, TRAINING_COLUMNS, TrainingRow, '培训');
  return registerTrainings(
    ctx,
    actor,
    t,
    { sessions: rows, reason: file.reason },
    { source: file.source, lines, key: file.key },
  );
}

/** An uploaded CSV file (POST /api/files), the caller's own upload or one it may read. */
async function uploadedCsv(ctx: AppContext, actor: Actor, sha: string) {
  const f = (
    await filesFor<{ name: string; content: Buffer }>(ctx, actor, [sha], 'sha256, name, content')
  ).get(sha);
  if (!f)
    throw invalid(
      '文件不存在（先 POST /api/files 上传 CSV）',
      'file not found: upload it first',
      'file',
    );
  return { csv: Buffer.from(f.content), source: `${f.name}（SHA-256 ${sha}）` };
}

export async function importStationsFile(
  ctx: AppContext,
  actor: Actor,
  t: { code: string },
  input: In<typeof RegisterCsvBody>,
  key?: string,
) {
  await loadProgram(ctx, t.code);
  return importStationsCsv(ctx, actor, t, {
    ...(await uploadedCsv(ctx, actor, input.file)),
    reason: input.reason,
    key,
  });
}

export async function importTrainingsFile(
  ctx: AppContext,
  actor: Actor,
  t: { code: string },
  input: In<typeof RegisterCsvBody>,
  key?: string,
) {
  await loadProgram(ctx, t.code);
  return importTrainingsCsv(ctx, actor, t, {
    ...(await uploadedCsv(ctx, actor, input.file)),
    reason: input.reason,
    key,
  });
}
