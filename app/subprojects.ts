// Procurement use cases of a subproject (R-TD-1..3): tender, sealed bids, opening, scores, candidate
// publicity with objections, award or designation, and the contract with milestones and tranches.
import { programAggregate, subprojectAggregate, subprojectKey } from '../engine/aggregates';
import type { CommandMeta } from '../engine/engine';
import { invalid } from '../workflows/errors';
import { parseMoney, parseYuan } from '../workflows/money';
import { programFacts } from '../workflows/program/facts';
import type { Actor } from '../workflows/program/types';
import { assertMayAccess } from '../workflows/subproject/access';
import type { SubprojectCommand } from '../workflows/subproject/decider';
import type { SubprojectState } from '../workflows/subproject/types';
import { endOfDayShanghai } from '../workflows/time';
import type { AppContext } from './context';
import type {
  AwardBody,
  BidBody,
  CandidateBody,
  ContractBody,
  DesignationBody,
  OpeningBody,
  ScoresBody,
  TenderBody,
  TenderObjectionBody,
  TenderResolveBody,
  In,
} from './inputs';
import { idempotent, outcomeAnswers } from './idempotency';
import { CommandOutcome, markReplayed } from './result';
import { subprojectView } from './subproject-views';

/** Which subproject: the program's code and the subproject's number in its budget table. */
export interface SubprojectRef {
  code: string;
  seq: number;
}

const programFactsOf = async (ctx: AppContext, t: SubprojectRef) =>
  programFacts((await ctx.engine.read(programAggregate, t.code)).state, t.seq);

/** Runs a subproject command with R-TD-3 checked on the very state it is decided on; answers with the
 * actor's view of the result. */
export async function runSubprojectCommand(
  ctx: AppContext,
  actor: Actor,
  t: SubprojectRef,
  cmd: SubprojectCommand,
  reason?: string,
  extra: Omit<CommandMeta<SubprojectState>, 'actor' | 'reason' | 'precheck'> = {},
) {
  let empty = false;
  let r;
  try {
    r = await ctx.engine.execute(subprojectAggregate, subprojectKey(t.code, t.seq), cmd, {
      actor,
      reason,
      precheck: (s) => {
        assertMayAccess(s, actor);
        empty = s.status === 'empty';
      },
      ...extra,
    });
  } catch (e) {
    // "no such program or subproject" rather than "nothing procured yet"
    if (empty && cmd.type !== 'OpenTender' && cmd.type !== 'DesignateContractor')
      await programFactsOf(ctx, t);
    throw e;
  }
  const { state, version } = r;
  if (state.status === 'empty')
    throw new Error('unreachable: a subproject command left no subproject');
  return new CommandOutcome(version, r.events, () => subprojectView(state, actor, version));
}

/**
 * A use case that is one subproject command: `toCommand` builds the command from the target and the
 * input (reading what else it needs through `ctx`); the input's `reason` goes to the audit record.
 */
export function subprojectUseCase<T extends SubprojectRef, I>(
  toCommand: (t: T, input: I, ctx: AppContext) => SubprojectCommand | Promise<SubprojectCommand>,
) {
  return async (ctx: AppContext, actor: Actor, t: T, input: I) =>
    runSubprojectCommand(ctx, actor, t, await toCommand(t, input, ctx), reasonOf(input));
}

/**
 * A use case that is one subproject command creating a record (an objection, a recovery), once per
 * Idempotency-Key when one is sent (app/idempotency.ts): the same key and request replay the first
 * answer, another request under the key is refused. Without a key it runs as any other command.
 */
export function keyedSubprojectUseCase<T extends SubprojectRef, I>(
  command: string,
  toCommand: (t: T, input: I, ctx: AppContext) => SubprojectCommand | Promise<SubprojectCommand>,
) {
  return async (ctx: AppContext, actor: Actor, t: T, input: I, idempotencyKey?: string) =>
    idempotent(ctx, actor, idempotencyKey, {
      command,
      request: { target: t, input },
      run: async (views) => {
        const out = await runSubprojectCommand(
          ctx,
          actor,
          t,
          await toCommand(t, input, ctx),
          reasonOf(input),
          views ? { extraViews: views } : {},
        );
        // nothing appended under a key: the decider found the key in the state (a recovery keyed
        // before the idempotency table existed), the first request stands
        return views && !out.appended.length ? markReplayed(out) : out;
      },
      ...outcomeAnswers(ctx, async () => {
        const { state, version } = await ctx.engine.read(
          subprojectAggregate,
          subprojectKey(t.code, t.seq),
        );
        if (state.status === 'empty') throw new Error('unreachable: a keyed command left nothing');
        return subprojectView(state, actor, version);
      }),
    });
}

/** The audit record's reason, when the input has one. */
export const reasonOf = (input: unknown): string | undefined =>
  input && typeof input === 'object' && 'reason' in input && typeof input.reason === 'string'
    ? input.reason
    : undefined;

/** A date alone means the end of that Beijing day. */
const toInstant = (v: string) =>
  /^\d{4}-\d{2}-\d{2}$/.test(v) ? new Date(endOfDayShanghai(v)).toISOString() : v;

export const openTender = subprojectUseCase(
  async (t: SubprojectRef, input: In<typeof TenderBody>, ctx) => ({
    type: 'OpenTender',
    program: await programFactsOf(ctx, t),
    bidDeadline: toInstant(input.bidDeadline),
    announcement: {
      title: input.announcement.title,
      number: input.announcement.number ?? null,
      qualifications: input.announcement.qualifications,
      documents: input.announcement.documents,
    },
  }),
);

export const submitBid = subprojectUseCase((_t: SubprojectRef, input: In<typeof BidBody>) => ({
  type: 'SubmitBid',
  price: parseYuan(input.price, 'price'),
  proposal: input.proposal,
  documents: input.documents,
}));

export const withdrawBid = subprojectUseCase((_t: SubprojectRef, _input: undefined) => ({
  type: 'WithdrawBid',
}));

export const openBids = subprojectUseCase((_t: SubprojectRef, input: In<typeof OpeningBody>) => ({
  type: 'OpenBids',
  invalid: input.invalid,
}));

/** Scores 0–100 with two decimals, kept as integer hundredths. */
export const scoreBids = subprojectUseCase((_t: SubprojectRef, input: In<typeof ScoresBody>) => ({
  type: 'ScoreBids',
  scores: input.scores.map((x) => ({
    org: x.org,
    score: Math.round(x.score * 100),
    comment: x.comment ?? null,
  })),
}));

export const proposeCandidate = subprojectUseCase(
  (_t: SubprojectRef, input: In<typeof CandidateBody>) => ({
    type: 'ProposeCandidate',
    org: input.org,
  }),
);

export const raiseTenderObjection = keyedSubprojectUseCase(
  'raiseTenderObjection',
  (_t: SubprojectRef, input: In<typeof TenderObjectionBody>) => ({
    type: 'RaiseObjection',
    text: input.text,
  }),
);

export const resolveTenderObjection = subprojectUseCase(
  (t: SubprojectRef & { id: string }, input: In<typeof TenderResolveBody>) => ({
    type: 'ResolveObjection',
    objectionId: t.id,
    decision: input.decision,
  }),
);

export const award = subprojectUseCase((_t: SubprojectRef, _input: In<typeof AwardBody>) => ({
  type: 'Award',
}));

/** Direct, designated and government-purchase subprojects: the organisation must be registered. */
export const designateContractor = subprojectUseCase(
  async (t: SubprojectRef, input: In<typeof DesignationBody>, ctx) => {
    if (!(await ctx.prisma.organisation.findUnique({ where: { name: input.org } }))) {
      throw invalid(
        `组织「${input.org}」尚未登记（用 shifan user add --org 登记其用户）`,
        `organisation ${input.org} is not registered`,
        'org',
      );
    }
    return {
      type: 'DesignateContractor',
      program: await programFactsOf(ctx, t),
      org: input.org,
      document: input.document ?? null,
    };
  },
);

/** Tranche amounts are 万元 strings, exact to the fen. */
export const signContract = subprojectUseCase(
  (_t: SubprojectRef, input: In<typeof ContractBody>) => ({
    type: 'SignContract',
    number: input.number ?? null,
    document: input.document,
    milestones: input.milestones.map((m) => ({
      key: m.key,
      title: m.title,
      deliverables: m.deliverables,
      due: m.due,
      evidenceRequired: m.evidenceRequired,
    })),
    tranches: input.tranches.map((tr, i) => ({
      key: tr.key,
      milestone: tr.milestone,
      source: tr.source,
      amount: parseMoney(tr.amount, '万元', { field: `tranches[${i}].amount` }),
    })),
  }),
);
