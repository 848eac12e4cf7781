// Delivery and money of a contracted subproject (R-AC-1..5, R-FUND-5, R-FUND-7, R-FUND-8): milestones
// submitted with evidence, pre-evaluated by a third party, decided by the office, publicised, then the
// tranches released exactly once per idempotency key; rejection → rectification with a deadline; final
// failure → public naming, termination and a clawback with its own deadline. Pure.
import { assertNever, conflict, DomainError, forbidden, invalid, rule } from '../errors';
import { formatYuan, sumFen, wanText, type Fen } from '../money';
import {
  SOURCE_NAMES,
  SOURCES,
  TRAINING_ARCHIVE_ITEMS,
  type CommandContext,
  type Decide,
  type Funding,
  type PublicSender,
  type Source,
} from '../program/types';
import { addDays, beijingText, endOfDayShanghai, shanghaiDay } from '../time';
import type {
  Clawback,
  FileRef,
  MilestoneState,
  Objection,
  SubprojectCore,
  Tranche,
} from './types';

export type DeliveryCommand =
  | {
      type: 'SubmitMilestone';
      milestone: string;
      deliverable: string;
      counts: Record<string, number>;
      files: FileRef[];
      archive: Record<string, FileRef[]> | null;
    }
  | {
      type: 'PreEvaluate';
      milestone: string;
      opinion: string;
      findings: string[];
      recommendation: 'accept' | 'reject';
    }
  | {
      type: 'DecideMilestone';
      milestone: string;
      decision: 'accept' | 'reject';
      defects: string[];
      rectificationDeadline: string | null;
    }
  /** `sender`: raised by the public through the column (R-PUB-1), with its receipt */
  | {
      type: 'RaiseAcceptanceObjection';
      milestone: string;
      text: string;
      sender?: PublicSender | null;
    }
  | {
      type: 'ResolveAcceptanceObjection';
      milestone: string;
      objectionId: string;
      decision: 'upheld' | 'dismissed';
    }
  /** programRemaining: the program's budget per source minus what has been paid across all its subprojects (facts from the ledger) */
  | {
      type: 'ReleaseTranche';
      tranche: string;
      amount: Fen | null;
      idempotencyKey: string;
      requestHash: string;
      programRemaining: Funding;
    }
  | {
      type: 'RecordRecovery';
      source: Source;
      amount: Fen;
      reference: string | null;
      idempotencyKey: string;
    };

export type DeliveryEvent =
  | {
      type: 'MilestoneSubmitted';
      data: {
        milestone: string;
        round: number;
        by: string;
        at: string;
        deliverable: string;
        counts: Record<string, number>;
        files: FileRef[];
        archive: Record<string, FileRef[]> | null;
      };
    }
  | {
      type: 'MilestonePreEvaluated';
      data: {
        milestone: string;
        round: number;
        by: string;
        at: string;
        opinion: string;
        findings: string[];
        recommendation: 'accept' | 'reject';
      };
    }
  | {
      type: 'MilestoneAccepted';
      data: {
        milestone: string;
        round: number;
        by: string;
        at: string;
        reason: string | null;
        publicityEnds: string;
      };
    }
  | {
      type: 'RectificationOrdered';
      data: {
        milestone: string;
        round: number;
        by: string;
        at: string;
        reason: string | null;
        defects: string[];
        deadline: string;
      };
    }
  | {
      type: 'AcceptanceObjectionRaised';
      data: {
        milestone: string;
        id: string;
        by: string;
        org: string | null;
        text: string;
        at: string;
        sender?: PublicSender;
      };
    }
  | {
      type: 'AcceptanceObjectionResolved';
      data: {
        milestone: string;
        id: string;
        decision: 'upheld' | 'dismissed';
        by: string;
        at: string;
        reason: string;
      };
    }
  | { type: 'AcceptancePublicityEnded'; data: { milestone: string; at: string } }
  | {
      type: 'MilestoneFailed';
      data: {
        milestone: string;
        at: string;
        by: string;
        reason: string;
        cause: 'final_rejection' | 'deadline_missed';
      };
    }
  | { type: 'SubprojectTerminated'; data: { at: string; reason: string } }
  | {
      type: 'ContractorNamed';
      data: { org: string; at: string; reason: string; subproject: string };
    }
  | {
      type: 'ClawbackDemanded';
      data: { at: string; deadline: string; demanded: Funding; reason: string };
    }
  | {
      type: 'TrancheReleased';
      data: {
        id: string;
        idempotencyKey: string;
        requestHash: string;
        tranche: string;
        milestone: string;
        source: Source;
        amount: Fen;
        at: string;
        by: string;
      };
    }
  | {
      type: 'RecoveryRecorded';
      data: {
        id: string;
        idempotencyKey: string;
        source: Source;
        amount: Fen;
        at: string;
        by: string;
        reference: string | null;
      };
    }
  | { type: 'ClawbackSettled'; data: { at: string } }
  | { type: 'ClawbackOverdue'; data: { at: string; outstanding: Funding } };

export const MILESTONE_STATUS_NAMES: Record<MilestoneState['status'], string> = {
  planned: '未提交',
  submitted: '已提交，待第三方预评',
  pre_evaluated: '已预评，待办公室决定',
  publicity: '验收合格，公示中',
  accepted: '验收合格，公示期满',
  rectifying: '整改中',
  failed: '验收不合格（终止）',
};

export function newMilestone(key: string): MilestoneState {
  return {
    key,
    status: 'planned',
    round: 0,
    rejections: 0,
    submissions: [],
    evaluation: null,
    decisions: [],
    publicity: null,
    rectification: null,
  };
}

const zero = (): Funding => ({ central: 0, local: 0, enterprise: 0 });

// Refusals of both halves of the subproject decider (procurement in decider.ts, delivery here).
export { conflict, invalid, rule };

function milestoneOf(s: SubprojectCore, key: string): MilestoneState {
  if (!s.contract)
    throw conflict('R-TD-2', '尚未签订承办协议，没有里程碑', 'no contract yet, so no milestones');
  const m = s.delivery.milestones[key];
  if (!m)
    throw new DomainError(
      'NOT-FOUND',
      'not_found',
      `里程碑 ${key} 不在承办协议中（协议里程碑：${Object.keys(s.delivery.milestones).join('、')}）`,
      `milestone ${key} is not in the contract`,
      { field: 'milestone' },
    );
  return m;
}
function notTerminated(s: SubprojectCore): void {
  if (s.delivery.terminated)
    throw conflict(
      'R-AC-5',
      `分项目已于 ${beijingText(s.delivery.terminated.at)} 终止：${s.delivery.terminated.reason}`,
      'the subproject is terminated',
    );
}
/** R-AC-5: a milestone of the contract, while the subproject is not terminated. */
function liveMilestone(s: SubprojectCore, key: string): MilestoneState {
  notTerminated(s);
  return milestoneOf(s, key);
}
/** R-TD-1, R-AC-3: an objection that was raised and is not resolved yet. */
export function unresolvedObjection(
  objections: Objection[],
  id: string,
  field?: string,
): Objection {
  const o = objections.find((x) => x.id === id);
  if (!o)
    throw new DomainError(
      'NOT-FOUND',
      'not_found',
      `异议 ${id} 不存在`,
      `objection ${id} not found`,
      {
        field,
      },
    );
  if (o.resolution)
    throw conflict('CONFLICT', `异议 ${o.id} 已处理`, `objection ${o.id} is already resolved`);
  return o;
}
const publicityEnd = (now: string, days: number) =>
  new Date(endOfDayShanghai(addDays(shanghaiDay(now), days))).toISOString();

/** R-AC-1: the archive items a training milestone still lacks. */
export function missingArchive(
  s: SubprojectCore,
  archive: Record<string, FileRef[]> | null,
): string[] {
  if (s.delivery.direction !== 'training') return [];
  return s.policy.trainingArchive.filter((item) => !archive?.[item]?.length);
}
const archiveText = (items: string[]) =>
  items.map((i) => TRAINING_ARCHIVE_ITEMS[i] ?? i).join('、');

/** Money of one subproject per source (R-FUND-8). */
export interface SubprojectLedger {
  budgeted: Funding;
  contracted: Funding;
  releasable: Funding;
  disbursed: Funding;
  clawbackDemanded: Funding;
  recovered: Funding;
  outstanding: Funding;
}
export function trancheDisbursed(s: SubprojectCore, tranche: string): Fen {
  return sumFen(s.delivery.disbursements.filter((d) => d.tranche === tranche).map((d) => d.amount));
}
export function ledgerOf(s: SubprojectCore): SubprojectLedger {
  const L: SubprojectLedger = {
    budgeted: { ...s.budget },
    contracted: zero(),
    releasable: zero(),
    disbursed: zero(),
    clawbackDemanded: zero(),
    recovered: zero(),
    outstanding: zero(),
  };
  for (const t of s.contract?.tranches ?? []) {
    L.contracted[t.source] += t.amount;
    const m = s.delivery.milestones[t.milestone];
    if (!s.delivery.terminated && m?.status === 'accepted')
      L.releasable[t.source] += t.amount - trancheDisbursed(s, t.key);
  }
  for (const d of s.delivery.disbursements) L.disbursed[d.source] += d.amount;
  const c = s.delivery.clawback;
  if (c)
    for (const src of SOURCES) {
      L.clawbackDemanded[src] = c.demanded[src];
      L.recovered[src] = c.recovered[src];
      L.outstanding[src] = c.demanded[src] - c.recovered[src];
    }
  return L;
}

/** Every milestone accepted and every tranche paid in full. */
export function fullyDelivered(s: SubprojectCore): boolean {
  if (!s.contract || s.delivery.terminated) return false;
  return (
    Object.values(s.delivery.milestones).every((m) => m.status === 'accepted') &&
    s.contract.tranches.every((t) => trancheDisbursed(s, t.key) === t.amount)
  );
}

/** R-AC-5: naming, termination and the clawback of everything paid so far (per source). */
function fail(
  s: SubprojectCore,
  milestone: string,
  cause: 'final_rejection' | 'deadline_missed',
  reason: string,
  ctx: CommandContext,
): DeliveryEvent[] {
  const now = ctx.now;
  const paid = zero();
  for (const d of s.delivery.disbursements) paid[d.source] += d.amount;
  const org = s.award?.org ?? '';
  return [
    {
      type: 'MilestoneFailed',
      data: { milestone, at: now, by: ctx.actor.username, reason, cause },
    },
    {
      type: 'SubprojectTerminated',
      data: {
        at: now,
        reason: `里程碑 ${milestone} ${cause === 'deadline_missed' ? '整改期限届满未重新提交' : '整改后仍未通过验收'}`,
      },
    },
    {
      type: 'ContractorNamed',
      data: { org, at: now, reason, subproject: `${s.programCode} 分项目${s.seq}「${s.name}」` },
    },
    {
      type: 'ClawbackDemanded',
      data: {
        at: now,
        deadline: publicityEnd(now, s.policy.clawbackDays),
        demanded: paid,
        reason: `追回分项目${s.seq}已拨付资金`,
      },
    },
    ...(sumFen(SOURCES.map((x) => paid[x])) === 0
      ? [{ type: 'ClawbackSettled', data: { at: now } } as DeliveryEvent]
      : []),
  ];
}

/** A rejection: rectification while rounds remain, otherwise failure (R-AC-4, R-AC-5). */
function reject(
  s: SubprojectCore,
  m: MilestoneState,
  defects: string[],
  deadline: string | null,
  ctx: CommandContext,
): DeliveryEvent[] {
  if (m.rejections >= s.policy.maxRectificationRounds) {
    return fail(
      s,
      m.key,
      'final_rejection',
      `整改 ${m.rejections} 次后仍未通过验收：${defects.join('；')}`,
      ctx,
    );
  }
  const due = deadline ?? addDays(shanghaiDay(ctx.now), s.policy.rectificationDays);
  if (due <= shanghaiDay(ctx.now))
    throw invalid(
      '整改期限须晚于今天',
      'the rectification deadline must be after today',
      'rectificationDeadline',
    );
  return [
    {
      type: 'RectificationOrdered',
      data: {
        milestone: m.key,
        round: m.round,
        by: ctx.actor.username,
        at: ctx.now,
        reason: ctx.reason ?? null,
        defects,
        deadline: new Date(endOfDayShanghai(due)).toISOString(),
      },
    },
  ];
}

/** The part of the delivery decider for one command type. */
type On<T extends DeliveryCommand['type']> = Decide<
  SubprojectCore,
  DeliveryCommand,
  DeliveryEvent,
  T
>;

/** R-AC-1, R-AC-2, R-AC-4: the awarded contractor submits (or resubmits within the deadline). */
const decideSubmitMilestone: On<'SubmitMilestone'> = (s, cmd, ctx) => {
  const m = liveMilestone(s, cmd.milestone);
  if (ctx.actor.role !== 'contractor' || ctx.actor.org !== s.award?.org)
    throw forbidden(
      'R-TD-3',
      '只有中标（承办）单位可以提交里程碑',
      'only the awarded contractor submits milestones',
    );
  if (m.status !== 'planned' && m.status !== 'rectifying')
    throw conflict(
      'R-AC-2',
      `里程碑 ${m.key} 当前为「${MILESTONE_STATUS_NAMES[m.status]}」，不能提交`,
      `milestone ${m.key} is ${m.status}`,
    );
  if (m.status === 'rectifying' && Date.parse(ctx.now) > Date.parse(m.rectification!.deadline))
    throw conflict(
      'R-AC-4',
      `整改期限（${beijingText(m.rectification!.deadline)}）已过`,
      'the rectification deadline has passed',
    );
  checkEvidence(s, cmd.counts, cmd.archive);
  return [
    {
      type: 'MilestoneSubmitted',
      data: {
        milestone: m.key,
        round: m.round + 1,
        by: ctx.actor.username,
        at: ctx.now,
        deliverable: cmd.deliverable,
        counts: cmd.counts,
        files: cmd.files,
        archive: cmd.archive,
      },
    },
  ];
};

/** Counts are whole units; R-AC-1: a training milestone brings its complete archive. */
function checkEvidence(
  s: SubprojectCore,
  counts: Record<string, number>,
  archive: Record<string, FileRef[]> | null,
): void {
  for (const [item, n] of Object.entries(counts))
    if (!Number.isSafeInteger(n) || n < 0)
      throw invalid(
        `数量 ${item} 须为非负整数`,
        `count ${item} must be a non-negative integer`,
        `counts.${item}`,
      );
  const missing = missingArchive(s, archive);
  if (missing.length)
    throw new DomainError(
      'R-AC-1',
      'rule',
      `培训档案不全，不予补贴：缺少 ${archiveText(missing)}`,
      `training archive incomplete: missing ${missing.join(', ')}`,
      {
        field: 'archive',
        figures: { missing: missing.join(','), missingNames: archiveText(missing) },
      },
    );
}

/** R-AC-2: the third party pre-evaluates a submission, never its own. */
const decidePreEvaluate: On<'PreEvaluate'> = (s, cmd, ctx) => {
  const m = liveMilestone(s, cmd.milestone);
  if (m.status !== 'submitted')
    throw conflict(
      'R-AC-2',
      `里程碑 ${m.key} 当前为「${MILESTONE_STATUS_NAMES[m.status]}」，没有待预评的提交`,
      `milestone ${m.key} has no submission awaiting pre-evaluation`,
    );
  const by = ctx.actor.username;
  if (m.submissions[m.submissions.length - 1].by === by)
    throw forbidden('R-AC-2', '提交人不能预评自己的提交', 'the submitter cannot pre-evaluate');
  return [
    {
      type: 'MilestonePreEvaluated',
      data: {
        milestone: m.key,
        round: m.round,
        by,
        at: ctx.now,
        opinion: cmd.opinion,
        findings: cmd.findings,
        recommendation: cmd.recommendation,
      },
    },
  ];
};

/** R-AC-2: the office decides after the pre-evaluation, being neither submitter nor evaluator. */
const decideDecideMilestone: On<'DecideMilestone'> = (s, cmd, ctx) => {
  const m = liveMilestone(s, cmd.milestone);
  if (m.status === 'submitted')
    throw conflict(
      'R-AC-2',
      `里程碑 ${m.key} 尚无第三方预评意见，办公室不能作出验收决定`,
      'the third party has not pre-evaluated this submission yet',
    );
  if (m.status !== 'pre_evaluated')
    throw conflict(
      'R-AC-2',
      `里程碑 ${m.key} 当前为「${MILESTONE_STATUS_NAMES[m.status]}」，没有待决定的提交`,
      `milestone ${m.key} has nothing to decide`,
    );
  const last = m.submissions[m.submissions.length - 1];
  if (last.by === ctx.actor.username || m.evaluation?.by === ctx.actor.username)
    throw forbidden(
      'R-AC-2',
      '作出验收决定的人不能是该里程碑的提交人或预评人',
      'the deciding user must be neither the submitter nor the evaluator',
    );
  if (cmd.decision === 'accept') return accept(s, m, last.archive, ctx);
  if (!cmd.defects.length)
    throw invalid('验收不合格须列出问题（defects）', 'a rejection lists its defects', 'defects');
  return reject(s, m, cmd.defects, cmd.rectificationDeadline, ctx);
};

/** An acceptance (R-AC-1: only with the complete training archive), publicised (R-AC-3). */
function accept(
  s: SubprojectCore,
  m: MilestoneState,
  archive: Record<string, FileRef[]> | null,
  ctx: CommandContext,
): DeliveryEvent[] {
  const missing = missingArchive(s, archive);
  if (missing.length)
    throw new DomainError(
      'R-AC-1',
      'rule',
      `培训档案不全，不能验收：缺少 ${archiveText(missing)}`,
      `training archive incomplete: missing ${missing.join(', ')}`,
      { figures: { missing: missing.join(',') } },
    );
  return [
    {
      type: 'MilestoneAccepted',
      data: {
        milestone: m.key,
        round: m.round,
        by: ctx.actor.username,
        at: ctx.now,
        reason: ctx.reason ?? null,
        publicityEnds: publicityEnd(ctx.now, s.policy.acceptancePublicityDays),
      },
    },
  ];
}

/** R-AC-3: objections only while the acceptance is publicised. */
const decideRaiseAcceptanceObjection: On<'RaiseAcceptanceObjection'> = (s, cmd, ctx) => {
  const m = liveMilestone(s, cmd.milestone);
  if (m.status !== 'publicity' || Date.parse(ctx.now) >= Date.parse(m.publicity!.endsAt))
    throw conflict(
      'R-AC-3',
      `里程碑 ${m.key} 不在验收结果公示期内`,
      `milestone ${m.key} is not in its publicity period`,
    );
  return [
    {
      type: 'AcceptanceObjectionRaised',
      data: {
        milestone: m.key,
        id: `O${m.publicity!.objections.length + 1}`,
        by: ctx.actor.username,
        org: ctx.actor.org ?? null,
        text: cmd.text,
        at: ctx.now,
        ...(cmd.sender ? { sender: cmd.sender } : {}),
      },
    },
  ];
};

/** R-AC-3: an upheld objection turns the acceptance into a rejection; the last one dismissed after the
 *  publicity period ends it. */
const decideResolveAcceptanceObjection: On<'ResolveAcceptanceObjection'> = (s, cmd, ctx) => {
  const m = liveMilestone(s, cmd.milestone);
  const o = unresolvedObjection(m.publicity?.objections ?? [], cmd.objectionId);
  if (!ctx.reason) throw invalid('处理异议须记录理由', 'a resolution needs a reason', 'reason');
  const now = ctx.now;
  const resolved: DeliveryEvent = {
    type: 'AcceptanceObjectionResolved',
    data: {
      milestone: m.key,
      id: o.id,
      decision: cmd.decision,
      by: ctx.actor.username,
      at: now,
      reason: ctx.reason,
    },
  };
  if (cmd.decision === 'upheld')
    return [resolved, ...reject(s, m, [`公示异议成立：${o.text}`], null, ctx)]; // back to rejection
  const stillOpen = m.publicity!.objections.filter((x) => !x.resolution && x.id !== o.id);
  const over = Date.parse(now) >= Date.parse(m.publicity!.endsAt);
  return over && !stillOpen.length
    ? [resolved, { type: 'AcceptancePublicityEnded', data: { milestone: m.key, at: now } }]
    : [resolved];
};

/** R-FUND-7 (once per idempotency key, after acceptance, within tranche and budgets), R-FUND-5. */
const decideReleaseTranche: On<'ReleaseTranche'> = (s, cmd, ctx) => {
  const prior = s.delivery.disbursements.find((d) => d.idempotencyKey === cmd.idempotencyKey);
  if (prior) {
    if (prior.requestHash !== cmd.requestHash)
      throw rule(
        'IDEMPOTENCY-MISMATCH',
        `Idempotency-Key ${cmd.idempotencyKey} 已用于另一笔不同的拨付请求`,
        'this Idempotency-Key was used for a different request',
      );
    return []; // the same request again: the first result stands, nothing more is paid
  }
  notTerminated(s);
  const t = releasableTranche(s, cmd.tranche);
  const amount = releaseAmount(s, t, cmd.amount);
  checkBudgets(s, t.source, amount, cmd.programRemaining);
  return [
    {
      type: 'TrancheReleased',
      data: {
        id: `D${s.delivery.disbursements.length + 1}`,
        idempotencyKey: cmd.idempotencyKey,
        requestHash: cmd.requestHash,
        tranche: t.key,
        milestone: t.milestone,
        source: t.source,
        amount,
        at: ctx.now,
        by: ctx.actor.username,
      },
    },
  ];
};

/** R-FUND-7: a tranche of the contract whose milestone is accepted with its publicity over. */
function releasableTranche(s: SubprojectCore, key: string) {
  if (!s.contract) throw conflict('R-FUND-7', '尚未签订承办协议', 'no contract yet');
  const t = s.contract.tranches.find((x) => x.key === key);
  if (!t)
    throw new DomainError(
      'NOT-FOUND',
      'not_found',
      `拨付批次 ${key} 不在承办协议中`,
      `tranche ${key} is not in the contract`,
      { field: 'tranche' },
    );
  const m = s.delivery.milestones[t.milestone];
  if (m.status !== 'accepted') {
    const why =
      m.status === 'publicity'
        ? m.publicity!.objections.some((o) => !o.resolution)
          ? '验收结果公示期间有未处理的异议，暂停拨付'
          : `验收结果公示期未满（至 ${beijingText(m.publicity!.endsAt)}）`
        : `里程碑 ${m.key} 尚未验收合格（${MILESTONE_STATUS_NAMES[m.status]}）`;
    throw conflict(
      'R-FUND-7',
      `${why}，不能拨付`,
      `tranche ${t.key} is not releasable yet: milestone ${m.key} is ${m.status === 'publicity' ? 'in its publicity period' : m.status}`,
    );
  }
  return t;
}

/** R-FUND-7: the amount asked for (by default all that is left of the tranche), never more than that. */
function releaseAmount(s: SubprojectCore, t: Tranche, requested: Fen | null): Fen {
  const left = t.amount - trancheDisbursed(s, t.key);
  if (left === 0)
    throw conflict(
      'R-FUND-7',
      `拨付批次 ${t.key} 已全额拨付`,
      `tranche ${t.key} is already paid in full`,
    );
  const amount = requested ?? left;
  if (amount <= 0) throw invalid('拨付金额须大于0', 'amount must be positive', 'amount');
  if (amount > left)
    throw rule(
      'R-FUND-7',
      `拨付金额 ${formatYuan(amount)} 元超过批次 ${t.key} 未拨付余额 ${formatYuan(left)} 元`,
      `amount ${formatYuan(amount)} exceeds what is left of tranche ${t.key} (${formatYuan(left)} yuan)`,
      { field: 'amount', figures: { amount: formatYuan(amount), left: formatYuan(left) } },
    );
  return amount;
}

/** R-FUND-7: within the subproject's and the program's budget for the source; R-FUND-5: within the
 *  per-unit caps for the units accepted so far. */
function checkBudgets(s: SubprojectCore, source: Source, amount: Fen, programRemaining: Funding) {
  const paid = sumFen(
    s.delivery.disbursements.filter((d) => d.source === source).map((d) => d.amount),
  );
  if (paid + amount > s.budget[source])
    throw rule(
      'R-FUND-7',
      `${SOURCE_NAMES[source]}累计拨付将超过分项目预算 ${wanText(s.budget[source])}`,
      `would exceed the subproject's ${source} budget`,
    );
  checkProgramRemaining(source, amount, programRemaining);
  checkUnitCaps(s, source, paid + amount);
}

/** R-FUND-7: never more than what is left of the program's budget for the source (the program's
 *  budget per source minus what has been paid net of recoveries), for tranches and parcel subsidies. */
export function checkProgramRemaining(
  source: Source,
  amount: Fen,
  programRemaining: Funding,
): void {
  if (amount > programRemaining[source])
    throw rule(
      'R-FUND-7',
      `${SOURCE_NAMES[source]}累计拨付将超过项目该来源预算（剩余 ${formatYuan(programRemaining[source])} 元，本次 ${formatYuan(amount)} 元）`,
      `would exceed the program's ${source} budget (${formatYuan(programRemaining[source])} yuan left, ${formatYuan(amount)} yuan asked)`,
      {
        figures: {
          source,
          remainingYuan: formatYuan(programRemaining[source]),
          requestedYuan: formatYuan(amount),
          remainingFen: programRemaining[source],
          requestedFen: amount,
        },
      },
    );
}

/** R-FUND-5: the counted units accepted so far bound what a capped source may have paid in all. */
function checkUnitCaps(s: SubprojectCore, source: Source, paid: Fen): void {
  const caps = s.delivery.unitCaps.filter((c) => c.source === source);
  if (!caps.length) return;
  const delivered = (item: string) =>
    Math.max(
      0,
      ...Object.values(s.delivery.milestones)
        .filter((x) => x.status === 'accepted')
        .map((x) => x.submissions[x.submissions.length - 1]?.counts[item] ?? 0),
    );
  const bound = sumFen(caps.map((c) => c.perUnit * delivered(c.item)));
  if (paid > bound)
    throw rule(
      'R-FUND-5',
      `按已验收数量计算的单位补助上限为 ${wanText(bound)}（${caps.map((c) => `${delivered(c.item)}×${wanText(c.perUnit)}`).join(' + ')}），累计拨付 ${wanText(paid)} 超过上限`,
      `per-unit caps allow ${formatYuan(bound)} yuan for the units accepted so far`,
      { figures: { bound: wanText(bound) } },
    );
}

/** R-FUND-8: recoveries against the clawback, once per idempotency key, at most what is outstanding. */
const decideRecordRecovery: On<'RecordRecovery'> = (s, cmd, ctx) => {
  const c = s.delivery.clawback;
  if (!c)
    throw conflict(
      'R-FUND-8',
      '该分项目没有追回要求',
      'no clawback is demanded for this subproject',
    );
  if (c.recoveries.some((r) => r.id === cmd.idempotencyKey)) return [];
  if (c.settledAt)
    throw conflict(
      'R-FUND-8',
      `追回已于 ${beijingText(c.settledAt)} 结清`,
      'the clawback is settled',
    );
  const outstanding = c.demanded[cmd.source] - c.recovered[cmd.source];
  if (cmd.amount <= 0) throw invalid('追回金额须大于0', 'amount must be positive', 'amount');
  if (cmd.amount > outstanding)
    throw rule(
      'R-FUND-8',
      `${SOURCE_NAMES[cmd.source]}追回金额 ${formatYuan(cmd.amount)} 元超过未追回余额 ${formatYuan(outstanding)} 元`,
      `recovery exceeds the outstanding ${cmd.source} amount (${formatYuan(outstanding)} yuan)`,
      { field: 'amount', figures: { outstanding: formatYuan(outstanding) } },
    );
  const recorded: DeliveryEvent = {
    type: 'RecoveryRecorded',
    data: {
      id: cmd.idempotencyKey,
      idempotencyKey: cmd.idempotencyKey,
      source: cmd.source,
      amount: cmd.amount,
      at: ctx.now,
      by: ctx.actor.username,
      reference: cmd.reference,
    },
  };
  const left = sumFen(SOURCES.map((x) => c.demanded[x] - c.recovered[x])) - cmd.amount;
  return left === 0 ? [recorded, { type: 'ClawbackSettled', data: { at: ctx.now } }] : [recorded];
};

export function decideDelivery(
  s: SubprojectCore,
  cmd: DeliveryCommand,
  ctx: CommandContext,
): DeliveryEvent[] {
  switch (cmd.type) {
    case 'SubmitMilestone':
      return decideSubmitMilestone(s, cmd, ctx);
    case 'PreEvaluate':
      return decidePreEvaluate(s, cmd, ctx);
    case 'DecideMilestone':
      return decideDecideMilestone(s, cmd, ctx);
    case 'RaiseAcceptanceObjection':
      return decideRaiseAcceptanceObjection(s, cmd, ctx);
    case 'ResolveAcceptanceObjection':
      return decideResolveAcceptanceObjection(s, cmd, ctx);
    case 'ReleaseTranche':
      return decideReleaseTranche(s, cmd, ctx);
    case 'RecordRecovery':
      return decideRecordRecovery(s, cmd, ctx);
    default:
      return assertNever(cmd, 'command');
  }
}

/** Delivery timers due at `now`: acceptance publicity end, rectification deadline, clawback deadline. */
export function dueDeliveryTimers(s: SubprojectCore, ctx: CommandContext): DeliveryEvent[] {
  const t = Date.parse(ctx.now);
  const out: DeliveryEvent[] = [];
  if (!s.delivery.terminated) {
    for (const m of Object.values(s.delivery.milestones)) {
      if (
        m.status === 'publicity' &&
        m.publicity &&
        t >= Date.parse(m.publicity.endsAt) &&
        !m.publicity.objections.some((o) => !o.resolution)
      ) {
        out.push({ type: 'AcceptancePublicityEnded', data: { milestone: m.key, at: ctx.now } });
      }
    }
    const missed = Object.values(s.delivery.milestones).find(
      (m) => m.status === 'rectifying' && t > Date.parse(m.rectification!.deadline),
    );
    if (missed)
      out.push(
        ...fail(
          s,
          missed.key,
          'deadline_missed',
          `整改期限（${beijingText(missed.rectification!.deadline)}）届满未重新提交：${missed.rectification!.defects.join('；')}`,
          ctx,
        ),
      );
  }
  const c = s.delivery.clawback;
  if (c && !c.settledAt && !c.overdueAt && t > Date.parse(c.deadline)) {
    out.push({
      type: 'ClawbackOverdue',
      data: {
        at: ctx.now,
        outstanding: Object.fromEntries(
          SOURCES.map((x) => [x, c.demanded[x] - c.recovered[x]]),
        ) as Funding,
      },
    });
  }
  return out;
}

export function deliveryWakeAt(s: SubprojectCore): string | null {
  const times: string[] = [];
  if (!s.delivery.terminated) {
    for (const m of Object.values(s.delivery.milestones)) {
      if (
        m.status === 'publicity' &&
        m.publicity &&
        !m.publicity.objections.some((o) => !o.resolution)
      )
        times.push(m.publicity.endsAt);
      if (m.status === 'rectifying' && m.rectification)
        times.push(new Date(Date.parse(m.rectification.deadline) + 1).toISOString());
    }
  }
  const c = s.delivery.clawback;
  if (c && !c.settledAt && !c.overdueAt)
    times.push(new Date(Date.parse(c.deadline) + 1).toISOString());
  return times.sort()[0] ?? null;
}

export function evolveDelivery(s: SubprojectCore, e: DeliveryEvent): SubprojectCore {
  const d = s.delivery;
  const patch = (key: string, f: (m: MilestoneState) => MilestoneState): SubprojectCore => ({
    ...s,
    delivery: { ...d, milestones: { ...d.milestones, [key]: f(d.milestones[key]) } },
  });
  const claw = (f: (c: Clawback) => Clawback): SubprojectCore => ({
    ...s,
    delivery: { ...d, clawback: f(d.clawback!) },
  });
  switch (e.type) {
    case 'MilestoneSubmitted': {
      const x = e.data;
      return patch(x.milestone, (m) => ({
        ...m,
        status: 'submitted',
        round: x.round,
        evaluation: null,
        submissions: [
          ...m.submissions,
          {
            round: x.round,
            by: x.by,
            at: x.at,
            deliverable: x.deliverable,
            counts: x.counts,
            files: x.files,
            archive: x.archive,
          },
        ],
      }));
    }
    case 'MilestonePreEvaluated': {
      const x = e.data;
      return patch(x.milestone, (m) => ({
        ...m,
        status: 'pre_evaluated',
        evaluation: {
          by: x.by,
          at: x.at,
          opinion: x.opinion,
          findings: x.findings,
          recommendation: x.recommendation,
        },
      }));
    }
    case 'MilestoneAccepted': {
      const x = e.data;
      return patch(x.milestone, (m) => ({
        ...m,
        status: 'publicity',
        rectification: null,
        publicity: { endsAt: x.publicityEnds, endedAt: null, objections: [] },
        decisions: [
          ...m.decisions,
          { round: x.round, decision: 'accept', by: x.by, at: x.at, reason: x.reason, defects: [] },
        ],
      }));
    }
    case 'RectificationOrdered': {
      const x = e.data;
      return patch(x.milestone, (m) => ({
        ...m,
        status: 'rectifying',
        rejections: m.rejections + 1,
        publicity: null,
        rectification: { defects: x.defects, deadline: x.deadline, orderedAt: x.at },
        decisions: [
          ...m.decisions,
          {
            round: x.round,
            decision: 'reject',
            by: x.by,
            at: x.at,
            reason: x.reason,
            defects: x.defects,
          },
        ],
      }));
    }
    case 'AcceptanceObjectionRaised': {
      const x = e.data;
      const o: Objection = {
        id: x.id,
        by: x.by,
        org: x.org,
        text: x.text,
        at: x.at,
        resolution: null,
        sender: x.sender ?? null,
      };
      return patch(x.milestone, (m) => ({
        ...m,
        publicity: { ...m.publicity!, objections: [...m.publicity!.objections, o] },
      }));
    }
    case 'AcceptanceObjectionResolved': {
      const x = e.data;
      return patch(x.milestone, (m) => ({
        ...m,
        publicity: m.publicity && {
          ...m.publicity,
          objections: m.publicity.objections.map((o) =>
            o.id === x.id
              ? { ...o, resolution: { decision: x.decision, by: x.by, at: x.at, reason: x.reason } }
              : o,
          ),
        },
      }));
    }
    case 'AcceptancePublicityEnded':
      return patch(e.data.milestone, (m) => ({
        ...m,
        status: 'accepted',
        publicity: { ...m.publicity!, endedAt: e.data.at },
      }));
    case 'MilestoneFailed':
      return patch(e.data.milestone, (m) => ({
        ...m,
        status: 'failed',
        rejections: e.data.cause === 'final_rejection' ? m.rejections + 1 : m.rejections,
        decisions:
          e.data.cause === 'final_rejection'
            ? [
                ...m.decisions,
                {
                  round: m.round,
                  decision: 'reject',
                  by: e.data.by,
                  at: e.data.at,
                  reason: e.data.reason,
                  defects: [],
                },
              ]
            : m.decisions,
      }));
    case 'SubprojectTerminated':
      return { ...s, delivery: { ...d, terminated: { at: e.data.at, reason: e.data.reason } } };
    case 'ContractorNamed':
      return {
        ...s,
        delivery: { ...d, named: { org: e.data.org, at: e.data.at, reason: e.data.reason } },
      };
    case 'ClawbackDemanded':
      return {
        ...s,
        delivery: {
          ...d,
          clawback: {
            reason: e.data.reason,
            demandedAt: e.data.at,
            deadline: e.data.deadline,
            demanded: e.data.demanded,
            recovered: zero(),
            recoveries: [],
            settledAt: null,
            overdueAt: null,
          },
        },
      };
    case 'TrancheReleased': {
      const x = e.data;
      return {
        ...s,
        delivery: {
          ...d,
          disbursements: [
            ...d.disbursements,
            {
              id: x.id,
              idempotencyKey: x.idempotencyKey,
              requestHash: x.requestHash,
              tranche: x.tranche,
              milestone: x.milestone,
              source: x.source,
              amount: x.amount,
              at: x.at,
              by: x.by,
            },
          ],
        },
      };
    }
    case 'RecoveryRecorded': {
      const x = e.data;
      return claw((c) => ({
        ...c,
        recovered: { ...c.recovered, [x.source]: c.recovered[x.source] + x.amount },
        recoveries: [
          ...c.recoveries,
          {
            id: x.id,
            source: x.source,
            amount: x.amount,
            at: x.at,
            by: x.by,
            reference: x.reference,
          },
        ],
      }));
    }
    case 'ClawbackSettled':
      return claw((c) => ({ ...c, settledAt: e.data.at }));
    case 'ClawbackOverdue':
      return claw((c) => ({ ...c, overdueAt: e.data.at }));
    default:
      return assertNever(e, 'event');
  }
}
