// Delivery and money use cases (R-AC-1..5, R-FUND-5, R-FUND-7, R-FUND-8): milestones with evidence,
// pre-evaluation, the office's decision, acceptance objections, tranche releases and recoveries.
import { programRemaining } from '../activities/funds';
import {
  StreamIntegrityError,
  trancheLedgerPaid,
  type ReadModelViews,
} from '../activities/store/event-store';
import { subprojectAggregate, subprojectKey } from '../engine/aggregates';
import { parseMoney, type Fen } from '../workflows/money';
import { SOURCE_NAMES, type Actor } from '../workflows/program/types';
import { assertMayAccess } from '../workflows/subproject/access';
import { ledgerOf, trancheDisbursed } from '../workflows/subproject/delivery';
import type { SubprojectState } from '../workflows/subproject/types';
import type { AppContext } from './context';
import { resolveFileFields } from './files';
import { idempotent, requestHash } from './idempotency';
import type {
  AcceptanceObjectionBody,
  AcceptanceResolveBody,
  DecisionBody,
  PreEvaluationBody,
  RecoveryBody,
  ReleaseBody,
  SubmissionBody,
  In,
} from './inputs';
import { loadSubproject } from './queries';
import { markReplayed } from './result';
import { ledgerView } from './subproject-views';
import {
  keyedSubprojectUseCase,
  runSubprojectCommand,
  subprojectUseCase,
  type SubprojectRef,
} from './subprojects';
import { money } from './views';

export type MilestoneRef = SubprojectRef & { key: string };

/** The contractor submits a milestone (or resubmits it after rectification) citing its uploaded files. */
export async function submitMilestone(
  ctx: AppContext,
  actor: Actor,
  t: MilestoneRef,
  input: In<typeof SubmissionBody>,
) {
  let cited: Awaited<ReturnType<typeof resolveFileFields>>;
  try {
    cited = await resolveFileFields(
      ctx,
      {
        files: input.files,
        ...Object.fromEntries(
          Object.entries(input.archive ?? {}).map(([k, v]) => [`archive.${k}`, v]),
        ),
      },
      actor,
    );
  } catch (e) {
    // R-TD-3 comes first: another organisation's contractor learns nothing about files
    assertMayAccess((await loadSubproject(ctx, t.code, t.seq)).state, actor);
    throw e;
  }
  const { files, ...archiveFields } = cited; // the command's precheck applies R-TD-3 on the state it decides on
  const archive = input.archive
    ? Object.fromEntries(Object.keys(input.archive).map((k) => [k, archiveFields[`archive.${k}`]]))
    : null;
  return runSubprojectCommand(ctx, actor, t, {
    type: 'SubmitMilestone',
    milestone: t.key,
    deliverable: input.deliverable,
    counts: input.counts,
    files,
    archive,
  });
}

export const preEvaluate = subprojectUseCase(
  (t: MilestoneRef, input: In<typeof PreEvaluationBody>) => ({
    type: 'PreEvaluate',
    milestone: t.key,
    opinion: input.opinion,
    findings: input.findings,
    recommendation: input.recommendation,
  }),
);

export const decideMilestone = subprojectUseCase(
  (t: MilestoneRef, input: In<typeof DecisionBody>) => ({
    type: 'DecideMilestone',
    milestone: t.key,
    decision: input.decision,
    defects: input.defects,
    rectificationDeadline: input.rectificationDeadline ?? null,
  }),
);

export const raiseAcceptanceObjection = keyedSubprojectUseCase(
  'raiseAcceptanceObjection',
  (t: MilestoneRef, input: In<typeof AcceptanceObjectionBody>) => ({
    type: 'RaiseAcceptanceObjection',
    milestone: t.key,
    text: input.text,
  }),
);

export const resolveAcceptanceObjection = subprojectUseCase(
  (t: MilestoneRef & { id: string }, input: In<typeof AcceptanceResolveBody>) => ({
    type: 'ResolveAcceptanceObjection',
    milestone: t.key,
    objectionId: t.id,
    decision: input.decision,
  }),
);

/**
 * The release cross-check (issue 12.7): what the subproject's state says was paid out of the tranche
 * must be what `ledger_entry` recorded, both written in one statement by every release. A difference
 * means one of them was changed behind the application's back: deciding on either could pay twice.
 */
function assertLedgerAgrees(s: SubprojectState, streamId: string, tranche: string, paid: Fen) {
  if (s.status !== 'active') return;
  const inState = trancheDisbursed(s, tranche);
  if (inState !== paid)
    throw new StreamIntegrityError(
      streamId,
      null,
      null,
      `分期 ${tranche} 的已拨付金额在状态中为 ${inState} 分，资金台账（ledger_entry）中为 ${paid} 分，二者不符`,
      `tranche ${tranche}: the state says ${inState} fen were paid, ledger_entry ${paid} fen`,
    );
}

/**
 * Finance releases a tranche (R-FUND-7), once per idempotency key (app/idempotency.ts): the same key
 * and request answer the first release again and pay nothing more (`replayed`), another request under
 * the key is refused (422 IDEMPOTENCY-MISMATCH). The key also goes into the release's event, so a key
 * used before the idempotency table existed still pays once (the decider's own check). The program's
 * remaining budget per source is read and spent under the program's funds lock, so releases on
 * different subprojects and parcel payments of one program never together exceed it; under the same
 * lock the tranche's payments in the state are cross-checked against `ledger_entry` (assertLedgerAgrees).
 */
export async function releaseTranche(
  ctx: AppContext,
  actor: Actor,
  t: SubprojectRef & { tranche: string },
  input: In<typeof ReleaseBody>,
  idempotencyKey: string,
) {
  type Released = Awaited<ReturnType<typeof releaseOnce>>;
  return idempotent(ctx, actor, idempotencyKey, {
    command: 'releaseTranche',
    request: { target: t, input },
    run: (views) => releaseOnce(ctx, actor, t, input, idempotencyKey, views),
    store: (out) => out,
    replay: (stored) => ({ ...(stored as Released), replayed: true }),
    // the release's event carries the key: running it again finds it and pays nothing
    rebuild: () => releaseOnce(ctx, actor, t, input, idempotencyKey, undefined),
  });
}

async function releaseOnce(
  ctx: AppContext,
  actor: Actor,
  t: SubprojectRef & { tranche: string },
  input: In<typeof ReleaseBody>,
  idempotencyKey: string,
  views: ReadModelViews | undefined,
) {
  const amount: Fen | null = input.amount
    ? parseMoney(input.amount, '万元', { field: 'amount' })
    : null;
  const key = subprojectKey(t.code, t.seq);
  const streamId = subprojectAggregate.streamId(key);
  const r = await ctx.fundsLock.run(t.code, async () => {
    const [remaining, paid] = await Promise.all([
      programRemaining(ctx.pool, t.code),
      trancheLedgerPaid(ctx.pool, streamId, t.tranche),
    ]);
    return ctx.engine.execute(
      subprojectAggregate,
      key,
      {
        type: 'ReleaseTranche',
        tranche: t.tranche,
        amount,
        idempotencyKey,
        requestHash: requestHash({ tranche: t.tranche, amount }),
        programRemaining: remaining,
      },
      {
        actor,
        reason: input.reason,
        precheck: (s) => {
          assertMayAccess(s, actor);
          assertLedgerAgrees(s, streamId, t.tranche, paid);
        },
        ...(views ? { extraViews: views } : {}),
      },
    );
  });
  if (r.state.status !== 'active') throw new Error('unreachable: a release left no subproject');
  const d = r.state.delivery.disbursements.find((x) => x.idempotencyKey === idempotencyKey);
  if (!d) throw new Error('unreachable: a release recorded no disbursement');
  const out = {
    disbursement: { ...d, amount: money(d.amount), sourceName: SOURCE_NAMES[d.source] },
    replayed: r.events.length === 0,
    ledger: ledgerView(ledgerOf(r.state)),
  };
  return out.replayed ? markReplayed(out) : out;
}

/** Finance records money paid back after a clawback (partial or full), once per idempotency key
 * (app/idempotency.ts; the recovery's id is the key, so a key used before the table existed still
 * records once). */
export const recordRecovery = (
  ctx: AppContext,
  actor: Actor,
  t: SubprojectRef,
  input: In<typeof RecoveryBody>,
  idempotencyKey: string,
) =>
  keyedSubprojectUseCase('recordRecovery', (_t: SubprojectRef, i: In<typeof RecoveryBody>) => ({
    type: 'RecordRecovery',
    source: i.source,
    amount: parseMoney(i.amount, '万元', { field: 'amount' }),
    reference: i.reference ?? null,
    idempotencyKey,
  }))(ctx, actor, t, input, idempotencyKey);
