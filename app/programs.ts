// Program use cases: import a budget table, record a gate act, advance a phase, record and close findings.
import type { ReadModelViews } from '../activities/store/event-store';
import { programAggregate } from '../engine/aggregates';
import { reportsOf, type ActiveProgram, type ProgramCommand } from '../workflows/program/decider';
import {
  definitionFromTable,
  tableFromDefinition,
  type ProgramTable,
} from '../workflows/program/table';
import { budgetWorkbook, inCells, parseBudgetWorkbook } from './budget-xlsx';
import { ROLE_NAMES, type Actor } from '../workflows/program/types';
import { forbidden } from '../workflows/errors';
import type { AppContext } from './context';
import type {
  AdvanceBody,
  AnswerReportBody,
  CloseFindingBody,
  FindingBody,
  GateActBody,
  In,
} from './inputs';
import { liveSubprojects, loadProgram } from './queries';
import { fundUseRows, periodOf, type FundUseBody } from './fund-use';
import { idempotent, outcomeAnswers } from './idempotency';
import { CommandOutcome } from './result';
import { programView } from './views';

async function runProgramCommand(
  ctx: AppContext,
  actor: Actor,
  code: string,
  cmd: ProgramCommand,
  reason?: string,
  extraViews?: ReadModelViews,
) {
  const r = await ctx.engine.execute(programAggregate, code, cmd, {
    actor,
    reason,
    ...(extraViews ? { extraViews } : {}),
  });
  const state = r.state;
  if (state.status === 'empty') throw new Error('unreachable: a program command left no program');
  return new CommandOutcome(r.version, r.events, () => viewOf(ctx, code, state, r.version));
}

const viewOf = async (ctx: AppContext, code: string, state: ActiveProgram, version: number) =>
  programView(
    state,
    version,
    ctx.engine.clock.now().toISOString(),
    await liveSubprojects(ctx, code),
  );

/** R-FUND-1..5 are checked by the decider: a refused table stores nothing. */
export async function importProgram(
  ctx: AppContext,
  actor: Actor,
  table: In<typeof ProgramTable>,
  reason = '导入资金安排表',
) {
  const definition = definitionFromTable(table);
  const outcome = await runProgramCommand(
    ctx,
    actor,
    definition.code,
    { type: 'CreateProgram', definition },
    reason,
  );
  return { code: definition.code, definition, outcome };
}

/** The same import from the county's Excel workbook (app/budget-xlsx.ts): the workbook becomes the JSON
 * table, checked and imported as above; every refusal, the rules' included, names its sheet and cell. */
export async function importProgramXlsx(
  ctx: AppContext,
  actor: Actor,
  bytes: Buffer,
  reason = '导入资金安排表（XLSX）',
) {
  const { table, cells } = await parseBudgetWorkbook(bytes);
  try {
    return await importProgram(ctx, actor, table, reason);
  } catch (e) {
    throw inCells(e, cells);
  }
}

/** A program's budget table as it was imported (in 万元), to read back or import elsewhere. */
export async function programTable(ctx: AppContext, code: string) {
  const { state } = await loadProgram(ctx, code);
  return tableFromDefinition(state.def);
}

/** The budget table as an XLSX workbook in the counties' layout: importing it gives the same program. */
export const programTableXlsx = async (ctx: AppContext, code: string) =>
  budgetWorkbook(await programTable(ctx, code));

/** The empty workbook a county fills in (the layout the import reads, with its 填写说明). */
export const budgetTemplateXlsx = () => budgetWorkbook(null);

/** A use case that is one program command built from the target and the input; `reason` goes to the
 * audit record. */
function programUseCase<T extends { code: string }, I extends { reason?: string }>(
  toCommand: (t: T, input: I, ctx: AppContext) => ProgramCommand | Promise<ProgramCommand>,
) {
  return async (ctx: AppContext, actor: Actor, t: T, input: I) =>
    runProgramCommand(ctx, actor, t.code, await toCommand(t, input, ctx), input.reason);
}
type GateKey = Extract<ProgramCommand, { type: 'RecordGateAct' }>['gate'];

export const recordGateAct = programUseCase(
  (t: { code: string; gate: GateKey }, input: In<typeof GateActBody>) => ({
    type: 'RecordGateAct',
    gate: t.gate,
    document: input.document,
  }),
);

/** R-PH-1, R-PH-2: the computed gate "every subproject settled" reads each subproject's own status. */
export const advancePhase = programUseCase(
  async (t: { code: string }, input: In<typeof AdvanceBody>, ctx) => ({
    type: 'AdvancePhase',
    to: input.to,
    subprojectStatuses: Object.fromEntries(
      Object.entries(await liveSubprojects(ctx, t.code)).map(([k, v]) => [k, v.status]),
    ),
  }),
);

/** Records a finding, once per Idempotency-Key when one is sent (app/idempotency.ts): a client's retry
 * of a finding it sent does not record it twice. */
export const recordFinding = (
  ctx: AppContext,
  actor: Actor,
  t: { code: string },
  input: In<typeof FindingBody>,
  idempotencyKey?: string,
) =>
  idempotent(ctx, actor, idempotencyKey, {
    command: 'recordFinding',
    request: { target: t, input },
    run: (views) =>
      runProgramCommand(
        ctx,
        actor,
        t.code,
        { type: 'RecordFinding', origin: input.origin, title: input.title, due: input.due ?? null },
        input.reason,
        views,
      ),
    ...outcomeAnswers(ctx, async () => {
      const { state, version } = await ctx.engine.read(programAggregate, t.code);
      if (state.status === 'empty') throw new Error('unreachable: a keyed command left nothing');
      return viewOf(ctx, t.code, state, version);
    }),
  });

export const closeFinding = programUseCase(
  (t: { code: string; id: string }, input: In<typeof CloseFindingBody>) => ({
    type: 'CloseFinding',
    findingId: t.id,
    document: input.document,
  }),
);

/** R-PUB-1: the office answers a report from the public; its sender reads the answer by the receipt. */
export const answerReport = programUseCase(
  (t: { code: string; id: string }, input: In<typeof AnswerReportBody> & { reason?: string }) => ({
    type: 'AnswerReport',
    reportId: t.id,
    text: input.text,
  }),
);

/** The reports from the public with their senders' contacts: personal data, for the office and the
 * supervisors only (R-PUB-1). */
export async function programReports(ctx: AppContext, actor: Actor, code: string) {
  if (actor.role !== 'office' && actor.role !== 'supervisor')
    throw forbidden(
      'R-PUB-1',
      `角色「${ROLE_NAMES[actor.role]}」无权查看举报`,
      'only the office and the supervisors read reports',
    );
  const { state } = await loadProgram(ctx, code);
  return {
    items: reportsOf(state).map((r) => ({
      id: r.id,
      seq: r.seq,
      subject:
        r.seq === null
          ? '项目'
          : `分项目${r.seq} ${state.def.subprojects.find((x) => x.seq === r.seq)?.name ?? ''}`,
      text: r.text,
      at: r.at,
      receipt: r.sender.receipt,
      name: r.sender.name,
      phone: r.sender.phone,
      answer: r.answer,
    })),
  };
}

/** R-FUND-9: the office publishes a month's or a quarter's central funds' use, figures from the ledger;
 * the event's effect issues the numbered notice. */
export const publishFundUse = programUseCase(
  async (t: { code: string }, input: In<typeof FundUseBody>, ctx) => {
    const period = periodOf(input.period);
    const { state } = await loadProgram(ctx, t.code);
    return { type: 'PublishFundUse', period, rows: await fundUseRows(ctx, state, period) };
  },
);
