// Program use cases: import a budget table, record a gate act, advance a phase, record and close findings.
import type { z } from 'zod';
import { programAggregate } from '../engine/aggregates';
import type { ProgramCommand } from '../workflows/program/decider';
import { definitionFromTable, type ProgramTable } from '../workflows/program/table';
import type { Actor } from '../workflows/program/types';
import type { AppContext } from './context';
import type { AdvanceBody, CloseFindingBody, FindingBody, GateActBody } from './inputs';
import { liveSubprojects } from './queries';
import { CommandOutcome } from './result';
import { programView } from './views';

async function runProgramCommand(
  ctx: AppContext,
  actor: Actor,
  code: string,
  cmd: ProgramCommand,
  reason?: string,
) {
  const r = await ctx.engine.execute(programAggregate, code, cmd, { actor, reason });
  const state = r.state;
  if (state.status === 'empty') throw new Error('unreachable: a program command left no program');
  return new CommandOutcome(r.version, r.events, async () =>
    programView(
      state,
      r.version,
      ctx.engine.clock.now().toISOString(),
      await liveSubprojects(ctx, code),
    ),
  );
}

/** R-FUND-1..5 are checked by the decider: a refused table stores nothing. */
export async function importProgram(
  ctx: AppContext,
  actor: Actor,
  table: z.output<typeof ProgramTable>,
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

export const recordGateAct = (
  ctx: AppContext,
  actor: Actor,
  t: { code: string; gate: Extract<ProgramCommand, { type: 'RecordGateAct' }>['gate'] },
  input: z.output<typeof GateActBody>,
) =>
  runProgramCommand(
    ctx,
    actor,
    t.code,
    { type: 'RecordGateAct', gate: t.gate, document: input.document },
    input.reason,
  );

/** R-PH-1, R-PH-2: the computed gate "every subproject settled" reads each subproject's own status. */
export async function advancePhase(
  ctx: AppContext,
  actor: Actor,
  t: { code: string },
  input: z.output<typeof AdvanceBody>,
) {
  const statuses = Object.fromEntries(
    Object.entries(await liveSubprojects(ctx, t.code)).map(([k, v]) => [k, v.status]),
  );
  return runProgramCommand(
    ctx,
    actor,
    t.code,
    { type: 'AdvancePhase', to: input.to, subprojectStatuses: statuses },
    input.reason,
  );
}

export const recordFinding = (
  ctx: AppContext,
  actor: Actor,
  t: { code: string },
  input: z.output<typeof FindingBody>,
) =>
  runProgramCommand(
    ctx,
    actor,
    t.code,
    { type: 'RecordFinding', origin: input.origin, title: input.title, due: input.due ?? null },
    input.reason,
  );

export const closeFinding = (
  ctx: AppContext,
  actor: Actor,
  t: { code: string; id: string },
  input: z.output<typeof CloseFindingBody>,
) =>
  runProgramCommand(
    ctx,
    actor,
    t.code,
    { type: 'CloseFinding', findingId: t.id, document: input.document },
    input.reason,
  );
