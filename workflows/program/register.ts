// The register of what was built and done (建设台账), kept in the program's stream: service stations
// (county, town, village level) and training sessions, each optionally linked to the subproject and
// milestone that delivered it, and values entered with evidence for targets no register measures.
// The figures the targets are measured by (R-EV-1) come from here. Pure: today is ctx.now's Beijing day.
import { DomainError, invalid, ruleViolations, type Violation } from '../errors';
import { formatWan, sumFen, wanText, type Fen } from '../money';
import { shanghaiDay } from '../time';
import type { CommandContext, DocumentRef, ProgramDefinition } from './types';

export const STATION_LEVELS = { county: '县级', town: '镇级', village: '村级' } as const;
export type StationLevel = keyof typeof STATION_LEVELS;

/** A linked deliverable: the subproject and, optionally, the milestone of its contract. */
export interface Delivered {
  seq: number | null;
  milestone: string | null;
}

export interface StationEntry extends Delivered {
  level: StationLevel;
  name: string | null;
  /** 镇（街）; none for the county centre */
  town: string | null;
  /** 行政村 (village level only) */
  village: string | null;
  poorVillage: boolean;
  operator: string;
  openedOn: string; // YYYY-MM-DD
}
export interface Station extends StationEntry {
  id: string; // S1, S2, …
  by: string;
  at: string;
}

export interface TrainingEntry extends Delivered {
  date: string;
  place: string;
  trainees: number;
  personTimes: number;
  /** R-AC-1: the training archive is complete (an incomplete one counts for no subsidy and no target) */
  archiveComplete: boolean;
}
export interface TrainingSession extends TrainingEntry {
  id: string; // T1, T2, …
  by: string;
  at: string;
}

export interface IndicatorValue {
  indicator: string;
  value: string; // decimal text in the indicator's unit
  asOf: string; // the day the figure is for
  evidence: DocumentRef;
  files: string[]; // SHA-256 of uploaded evidence
  by: string;
  at: string;
}

/** A unit that received support under a per-unit cap of the table (R-FUND-5): a loan to a borrower,
 * a demonstration town or village, a rural-products sub-item, a station's subsidy. */
export interface FundedEntry extends Delivered {
  /** the cap's item in the table's unitCaps (loan, demo_town, demo_village, upward_subitem, …) */
  item: string;
  /** who or what received it: the borrower, the town, the village, the sub-item */
  unit: string;
  amount: Fen;
  date: string;
}
export interface Funded extends FundedEntry {
  id: string; // U1, U2, …
  by: string;
  at: string;
}

export interface Register {
  stations: Station[];
  trainings: TrainingSession[];
  values: IndicatorValue[];
  /** absent in registers stored before it existed */
  funded?: Funded[];
}
export const EMPTY_REGISTER: Register = { stations: [], trainings: [], values: [], funded: [] };
export const fundedOf = (r: Register): Funded[] => r.funded ?? [];

export type RegisterCommand =
  | {
      type: 'RegisterStations';
      stations: StationEntry[];
      /** facts: the milestone keys of each linked subproject's contract (the engine reads them) */
      milestones?: Record<number, string[]>;
      /** where the rows came from (a CSV file's name and SHA-256), for the record */
      source?: string | null;
      /** the CSV line of each row, for the refusals (not stored) */
      lines?: number[];
    }
  | {
      type: 'RegisterTrainings';
      sessions: TrainingEntry[];
      milestones?: Record<number, string[]>;
      source?: string | null;
      lines?: number[];
    }
  | {
      type: 'RegisterFundedUnits';
      entries: FundedEntry[];
      milestones?: Record<number, string[]>;
      source?: string | null;
      lines?: number[];
    }
  | {
      type: 'RecordIndicatorValue';
      indicator: string;
      value: string;
      asOf: string;
      evidence: DocumentRef;
      files?: string[];
    };

export type RegisterEvent =
  | {
      type: 'StationsRegistered';
      data: { entries: Station[]; by: string; at: string; source: string | null };
    }
  | {
      type: 'TrainingsRegistered';
      data: { entries: TrainingSession[]; by: string; at: string; source: string | null };
    }
  | {
      type: 'FundedUnitsRegistered';
      data: { entries: Funded[]; by: string; at: string; source: string | null };
    }
  | { type: 'IndicatorValueRecorded'; data: IndicatorValue };

type RowRef = { field: string; where: string; row: number };
const rowRef = (list: string, i: number, lines?: number[]): RowRef => ({
  field: `${list}[${i}]`,
  where: lines?.[i] !== undefined ? `第 ${lines[i]} 行` : `第 ${i + 1} 条`,
  row: lines?.[i] ?? i + 1,
});

function linkViolations(
  def: ProgramDefinition,
  e: Delivered,
  r: RowRef,
  milestones: Record<number, string[]> | undefined,
  out: Violation[],
) {
  if (e.seq === null) {
    if (e.milestone !== null)
      out.push({
        rule: 'R-EV-1',
        field: `${r.field}.milestone`,
        message: `${r.where}：给出了里程碑 ${e.milestone} 但没有给出分项目序号`,
        message_en: `row ${r.row}: a milestone without its subproject`,
        figures: { row: r.row },
      });
    return;
  }
  const plan = def.subprojects.find((s) => s.seq === e.seq);
  if (!plan) {
    out.push({
      rule: 'R-EV-1',
      field: `${r.field}.seq`,
      message: `${r.where}：没有分项目 ${e.seq}`,
      message_en: `row ${r.row}: no subproject ${e.seq}`,
      figures: { row: r.row, seq: e.seq },
    });
    return;
  }
  if (e.milestone !== null && !(milestones?.[e.seq] ?? []).includes(e.milestone))
    out.push({
      rule: 'R-EV-1',
      field: `${r.field}.milestone`,
      message: `${r.where}：分项目${e.seq}「${plan.name}」的承办协议中没有里程碑 ${e.milestone}`,
      message_en: `row ${r.row}: subproject ${e.seq}'s contract has no milestone ${e.milestone}`,
      figures: { row: r.row, seq: e.seq, milestone: e.milestone },
    });
}

const notAfterToday = (day: string, today: string, field: string, r: RowRef, what: string) =>
  day > today
    ? [
        {
          rule: 'R-EV-1',
          field: `${r.field}.${field}`,
          message: `${r.where}：${what} ${day} 晚于今天（${today}），台账只登记已经建成或已经举办的`,
          message_en: `row ${r.row}: ${field} ${day} is after today (${today})`,
          figures: { row: r.row, [field]: day },
        },
      ]
    : [];

/** A station's identity in the register: one county centre by name, one town station per town, one
 * village point per administrative village. */
const stationKey = (s: StationEntry) =>
  s.level === 'county'
    ? `county|${s.name ?? ''}`
    : s.level === 'town'
      ? `town|${s.town}`
      : `village|${s.town}|${s.village}`;

const stationName = (s: StationEntry) =>
  s.level === 'county'
    ? `县级中心「${s.name ?? ''}」`
    : s.level === 'town'
      ? `${s.town}镇级服务站`
      : `${s.town}${s.village}村级服务点`;

/** R-EV-1: each row complete for its level, dated no later than today, linked to a subproject and
 * milestone that exist, and not registered before (in the register or earlier in the file). All rows
 * are checked; one bad row refuses the whole batch, naming each bad row. */
export function decideRegisterStations(
  def: ProgramDefinition,
  reg: Register,
  cmd: Extract<RegisterCommand, { type: 'RegisterStations' }>,
  ctx: CommandContext,
): RegisterEvent[] {
  if (!cmd.stations.length)
    throw invalid('没有要登记的服务站点', 'no stations to register', 'stations');
  const today = shanghaiDay(ctx.now);
  const out: Violation[] = [];
  const known = new Map(reg.stations.map((s) => [stationKey(s), `已登记的 ${s.id}`]));
  cmd.stations.forEach((e, i) => {
    const r = rowRef('stations', i, cmd.lines);
    const need = (field: keyof StationEntry, zh: string) =>
      out.push({
        rule: 'R-EV-1',
        field: `${r.field}.${field}`,
        message: `${r.where}：${STATION_LEVELS[e.level]}站点须填写${zh}`,
        message_en: `row ${r.row}: a ${e.level} station needs ${field}`,
        figures: { row: r.row },
      });
    const forbid = (field: keyof StationEntry, zh: string) =>
      out.push({
        rule: 'R-EV-1',
        field: `${r.field}.${field}`,
        message: `${r.where}：${STATION_LEVELS[e.level]}站点不填${zh}`,
        message_en: `row ${r.row}: a ${e.level} station takes no ${field}`,
        figures: { row: r.row },
      });
    if (e.level === 'county') {
      if (!e.name) need('name', '名称');
      if (e.town) forbid('town', '镇（街）');
    } else if (!e.town) need('town', '所在镇（街）');
    if (e.level === 'village' && !e.village) need('village', '所在行政村');
    if (e.level !== 'village' && e.village) forbid('village', '行政村');
    if (e.level !== 'village' && e.poorVillage) forbid('poorVillage', '贫困村标记');
    out.push(...notAfterToday(e.openedOn, today, 'openedOn', r, '开业日期'));
    linkViolations(def, e, r, cmd.milestones, out);
    const key = stationKey(e);
    const prior = known.get(key);
    if (prior)
      out.push({
        rule: 'R-EV-1',
        field: r.field,
        message: `${r.where}：${stationName(e)}已登记（${prior}），不重复登记`,
        message_en: `row ${r.row}: this station is already registered (${prior})`,
        figures: { row: r.row },
      });
    else known.set(key, r.where);
  });
  if (out.length) throw ruleViolations(out);
  const n = reg.stations.length;
  return [
    {
      type: 'StationsRegistered',
      data: {
        entries: cmd.stations.map((e, i) => ({
          ...e,
          id: `S${n + i + 1}`,
          by: ctx.actor.username,
          at: ctx.now,
        })),
        by: ctx.actor.username,
        at: ctx.now,
        source: cmd.source ?? null,
      },
    },
  ];
}

/** R-EV-1: each session held no later than today, person-times not fewer than trainees, linked to what
 * exists. One bad row refuses the batch, naming each bad row. */
export function decideRegisterTrainings(
  def: ProgramDefinition,
  reg: Register,
  cmd: Extract<RegisterCommand, { type: 'RegisterTrainings' }>,
  ctx: CommandContext,
): RegisterEvent[] {
  if (!cmd.sessions.length)
    throw invalid('没有要登记的培训', 'no training sessions to register', 'sessions');
  const today = shanghaiDay(ctx.now);
  const out: Violation[] = [];
  cmd.sessions.forEach((e, i) => {
    const r = rowRef('sessions', i, cmd.lines);
    out.push(...notAfterToday(e.date, today, 'date', r, '培训日期'));
    if (e.personTimes < e.trainees)
      out.push({
        rule: 'R-EV-1',
        field: `${r.field}.personTimes`,
        message: `${r.where}：培训人次 ${e.personTimes} 少于培训人数 ${e.trainees}`,
        message_en: `row ${r.row}: person-times ${e.personTimes} < trainees ${e.trainees}`,
        figures: { row: r.row, trainees: e.trainees, personTimes: e.personTimes },
      });
    linkViolations(def, e, r, cmd.milestones, out);
  });
  if (out.length) throw ruleViolations(out);
  const n = reg.trainings.length;
  return [
    {
      type: 'TrainingsRegistered',
      data: {
        entries: cmd.sessions.map((e, i) => ({
          ...e,
          id: `T${n + i + 1}`,
          by: ctx.actor.username,
          at: ctx.now,
        })),
        by: ctx.actor.username,
        at: ctx.now,
        source: cmd.source ?? null,
      },
    },
  ];
}

/** R-EV-1: a figure entered for a target the register does not measure, with its evidence. */
export function decideRecordIndicatorValue(
  def: ProgramDefinition,
  cmd: Extract<RegisterCommand, { type: 'RecordIndicatorValue' }>,
  ctx: CommandContext,
): RegisterEvent[] {
  const all = [...(def.indicators ?? []), ...def.subprojects.flatMap((s) => s.indicators ?? [])];
  const ind = all.find((i) => i.id === cmd.indicator);
  if (!ind)
    throw new DomainError(
      'NOT-FOUND',
      'not_found',
      `绩效目标 ${cmd.indicator} 不存在`,
      `indicator ${cmd.indicator} not found`,
      { field: 'indicator' },
    );
  const refuse = (field: string, zh: string, en: string) =>
    ruleViolations([
      { rule: 'R-EV-1', field, message: zh, message_en: en, figures: { indicator: ind.id } },
    ]);
  if (ind.measure === 'register')
    throw refuse(
      'indicator',
      `指标「${ind.name}」由建设台账计算，不能录入数值：请登记服务站点或培训`,
      `indicator ${ind.id} is measured from the register; register stations or trainings instead`,
    );
  const today = shanghaiDay(ctx.now);
  if (cmd.asOf > today)
    throw refuse(
      'asOf',
      `数值日期 ${cmd.asOf} 晚于今天（${today}）`,
      `asOf ${cmd.asOf} is after today (${today})`,
    );
  return [
    {
      type: 'IndicatorValueRecorded',
      data: {
        indicator: ind.id,
        value: cmd.value,
        asOf: cmd.asOf,
        evidence: cmd.evidence,
        files: cmd.files ?? [],
        by: ctx.actor.username,
        at: ctx.now,
      },
    },
  ];
}

export function evolveRegister(reg: Register, e: RegisterEvent): Register {
  switch (e.type) {
    case 'StationsRegistered':
      return { ...reg, stations: [...reg.stations, ...e.data.entries] };
    case 'TrainingsRegistered':
      return { ...reg, trainings: [...reg.trainings, ...e.data.entries] };
    case 'FundedUnitsRegistered':
      return { ...reg, funded: [...fundedOf(reg), ...e.data.entries] };
    case 'IndicatorValueRecorded':
      return { ...reg, values: [...reg.values, e.data] };
  }
}

/** R-FUND-5: each supported unit within the table's per-unit cap for its item — a borrower's loans
 * together at most the loan cap (Shicheng: 20万 per borrower), a demonstration town at most 20万, a
 * village 10万, a rural-products sub-item 50万; an item capped on average (town centres 10万, village
 * stations 2.5万) at most that on average over all its units. Counted with what the register already
 * holds; every excess named with its figures, and nothing registered. */
export function decideRegisterFundedUnits(
  def: ProgramDefinition,
  reg: Register,
  cmd: Extract<RegisterCommand, { type: 'RegisterFundedUnits' }>,
  ctx: CommandContext,
): RegisterEvent[] {
  if (!cmd.entries.length) throw invalid('没有要登记的补助对象', 'nothing to register', 'entries');
  const today = shanghaiDay(ctx.now);
  const out: Violation[] = [];
  const totals = new Map<string, Fen>();
  for (const f of fundedOf(reg))
    totals.set(`${f.item}|${f.unit}`, (totals.get(`${f.item}|${f.unit}`) ?? 0) + f.amount);
  const touched = new Set<string>();
  cmd.entries.forEach((e, i) => {
    const r = rowRef('entries', i, cmd.lines);
    const cap = def.unitCaps.find((c) => c.item === e.item);
    if (!cap) {
      out.push({
        rule: 'R-FUND-5',
        field: `${r.field}.item`,
        message: `${r.where}：资金安排表没有补助上限项目「${e.item}」（有：${def.unitCaps.map((c) => `${c.item} ${c.name}`).join('、') || '无'}）`,
        message_en: `row ${r.row}: the table has no per-unit cap ${e.item}`,
        figures: { row: r.row, item: e.item },
      });
      return;
    }
    out.push(...notAfterToday(e.date, today, 'date', r, '补助日期'));
    linkViolations(def, e, r, cmd.milestones, out);
    if (e.amount <= 0)
      out.push({
        rule: 'R-FUND-5',
        field: `${r.field}.amount`,
        message: `${r.where}：金额应大于 0`,
        message_en: `row ${r.row}: the amount must be positive`,
        figures: { row: r.row },
      });
    const key = `${e.item}|${e.unit}`;
    const prior = totals.get(key) ?? 0;
    const total = prior + e.amount;
    totals.set(key, total);
    touched.add(e.item);
    if (cap.maxPerUnit !== undefined && total > cap.maxPerUnit)
      out.push({
        rule: 'R-FUND-5',
        field: `${r.field}.amount`,
        message: `${r.where}：${cap.name}「${e.unit}」${prior ? `已有 ${wanText(prior)}，加上本笔 ${wanText(e.amount)} 合计 ` : ''}${wanText(total)} > 每个不超过 ${wanText(cap.maxPerUnit)}（R-FUND-5）`,
        message_en: `row ${r.row}: ${e.item} "${e.unit}" totals ${formatWan(total)} > cap ${formatWan(cap.maxPerUnit)} per unit (万元)`,
        figures: {
          row: r.row,
          item: e.item,
          unit: e.unit,
          prior: formatWan(prior),
          amount: formatWan(e.amount),
          total: formatWan(total),
          cap: formatWan(cap.maxPerUnit),
        },
      });
  });
  for (const cap of def.unitCaps.filter(
    (c) => c.maxAveragePerUnit !== undefined && touched.has(c.item),
  )) {
    const units = [...totals.entries()].filter(([k]) => k.startsWith(`${cap.item}|`));
    const sum = sumFen(units.map(([, v]) => v));
    if (sum > cap.maxAveragePerUnit! * units.length)
      out.push({
        rule: 'R-FUND-5',
        field: 'entries',
        message: `${cap.name} ${units.length} 个合计 ${wanText(sum)}，平均超过每个 ${wanText(cap.maxAveragePerUnit!)}（上限合计 ${wanText(cap.maxAveragePerUnit! * units.length)}）`,
        message_en: `${cap.item}: ${units.length} units total ${formatWan(sum)} > average cap ${formatWan(cap.maxAveragePerUnit!)} × ${units.length} (万元)`,
        figures: {
          item: cap.item,
          units: units.length,
          total: formatWan(sum),
          average: formatWan(cap.maxAveragePerUnit!),
        },
      });
  }
  if (out.length) throw ruleViolations(out);
  const n = fundedOf(reg).length;
  return [
    {
      type: 'FundedUnitsRegistered',
      data: {
        entries: cmd.entries.map((e, i) => ({
          ...e,
          id: `U${n + i + 1}`,
          by: ctx.actor.username,
          at: ctx.now,
        })),
        by: ctx.actor.username,
        at: ctx.now,
        source: cmd.source ?? null,
      },
    },
  ];
}
