// The subproject decider, procurement part (R-TD-1..3): tender → sealed bids → opening (or 流标) →
// scores → candidate publicity (objections suspend) → award → contract; or designation for direct,
// designated and government-purchase subprojects. Pure; `now` comes from ctx; timers are data (wakeAt).
import { assertNever, DomainError, forbidden, notFound } from '../errors';
import { formatYuan, sumFen, wanText, type Fen } from '../money';
import {
  PROCUREMENTS,
  SOURCE_NAMES,
  SOURCES,
  type CommandContext,
  type Decide,
  type DocumentRef,
  type Funding,
  type PublicSender,
  type Source,
} from '../program/types';
import { addDays, beijingText, daysBetween, endOfDayShanghai, shanghaiDay } from '../time';
import type {
  Bid,
  BidScore,
  Contract,
  Delivery,
  MilestonePlan,
  ProgramFacts,
  SubprojectCore,
  SubprojectState,
  Tender,
} from './types';
import {
  conflict,
  decideDelivery,
  deliveryWakeAt,
  dueDeliveryTimers,
  evolveDelivery,
  invalid,
  newMilestone,
  rule,
  unresolvedObjection,
  type DeliveryCommand,
  type DeliveryEvent,
} from './delivery';

export const initialSubprojectState: SubprojectState = { status: 'empty' };

type Announcement = Tender['announcement'];
export type SubprojectCommand =
  | { type: 'OpenTender'; program: ProgramFacts; announcement: Announcement; bidDeadline: string }
  | { type: 'SubmitBid'; price: Fen; proposal: string; documents: DocumentRef[] }
  | { type: 'WithdrawBid' }
  | { type: 'Tick' }
  | { type: 'OpenBids'; invalid: { org: string; reason: string }[] }
  | { type: 'ScoreBids'; scores: BidScore[] }
  | { type: 'ProposeCandidate'; org: string }
  /** `sender`: raised by the public through the column (R-PUB-1), with its receipt */
  | { type: 'RaiseObjection'; text: string; sender?: PublicSender | null }
  | { type: 'ResolveObjection'; objectionId: string; decision: 'upheld' | 'dismissed' }
  | { type: 'Award' }
  | {
      type: 'DesignateContractor';
      program: ProgramFacts;
      org: string;
      document: DocumentRef | null;
    }
  | {
      type: 'SignContract';
      number: string | null;
      document: DocumentRef;
      milestones: MilestonePlan[];
      tranches: { key: string; milestone: string; source: Source; amount: Fen }[];
    }
  | DeliveryCommand;

export type SubprojectEvent =
  | {
      type: 'SubprojectRegistered';
      data: {
        programCode: string;
        seq: number;
        name: string;
        procurement: SubprojectCore['procurement'];
        budget: SubprojectCore['budget'];
        policy: SubprojectCore['policy'];
        direction: string;
        unitCaps: Delivery['unitCaps'];
        at: string;
      };
    }
  | {
      type: 'TenderOpened';
      data: { round: number; announcement: Announcement; bidDeadline: string; at: string };
    }
  | {
      type: 'BidSubmitted';
      data: {
        round: number;
        org: string;
        price: Fen;
        proposal: string;
        documents: DocumentRef[];
        by: string;
        at: string;
        replaced: boolean;
      };
    }
  | { type: 'BidWithdrawn'; data: { round: number; org: string; by: string; at: string } }
  | { type: 'BiddingClosed'; data: { round: number; at: string; bids: number } }
  | {
      type: 'BidsOpened';
      data: {
        round: number;
        at: string;
        by: string;
        invalid: { org: string; reason: string }[];
        validOrgs: string[];
      };
    }
  | { type: 'TenderFailed'; data: { round: number; at: string; reason: string } }
  | { type: 'BidsScored'; data: { round: number; scores: BidScore[]; by: string; at: string } }
  | {
      type: 'CandidateProposed';
      data: { round: number; org: string; at: string; publicityEnds: string };
    }
  | {
      type: 'ObjectionRaised';
      data: {
        round: number;
        id: string;
        by: string;
        org: string | null;
        text: string;
        at: string;
        sender?: PublicSender;
      };
    }
  | {
      type: 'ObjectionResolved';
      data: {
        round: number;
        id: string;
        decision: 'upheld' | 'dismissed';
        by: string;
        at: string;
        reason: string;
      };
    }
  | { type: 'CandidatePublicityEnded'; data: { round: number; at: string } }
  | {
      type: 'ContractorAwarded';
      data: {
        org: string;
        at: string;
        by: string;
        designated: boolean;
        reason: string | null;
        document: DocumentRef | null;
      };
    }
  | { type: 'ContractSigned'; data: Contract }
  | DeliveryEvent;

const DESIGNATABLE = ['direct', 'designated', 'government_purchase', 'to_be_decided'];
const TENDERABLE = ['public_tender', 'to_be_decided'];

function current(s: SubprojectCore): Tender | null {
  return s.tenders[s.tenders.length - 1] ?? null;
}
const liveBids = (t: Tender): Bid[] => t.bids.filter((b) => !b.withdrawn);
const openObjections = (t: Tender) => t.objections.filter((o) => !o.resolution);
const publicityOver = (t: Tender, now: string) =>
  !!t.candidate &&
  (t.candidate.publicityEndedAt !== null ||
    Date.parse(now) >= Date.parse(t.candidate.publicityEnds));

function requireImplementation(p: ProgramFacts): void {
  if (!p.inImplementation) {
    throw conflict(
      'R-PH-1',
      `项目当前处于「${p.phaseName}」阶段，只有在组织实施阶段才能采购分项目`,
      `procurement happens only in the implementation phase (now: ${p.phaseKey})`,
    );
  }
}

function registered(
  state: SubprojectState,
  p: ProgramFacts,
  now: string,
): { core: SubprojectCore; events: SubprojectEvent[] } {
  if (state.status === 'active') return { core: state, events: [] };
  // R-FUND-5 bounds for the units this subproject counts (its targets that have a per-unit cap)
  const unitCaps = p.plan.targets.flatMap((t) => {
    const cap = p.unitCaps.find((c) => c.item === t.item);
    return cap
      ? [{ item: t.item, source: cap.source, perUnit: cap.maxPerUnit ?? cap.maxAveragePerUnit! }]
      : [];
  });
  const e: SubprojectEvent = {
    type: 'SubprojectRegistered',
    data: {
      programCode: p.code,
      seq: p.plan.seq,
      name: p.plan.name,
      procurement: p.plan.procurement,
      budget: p.plan.funding,
      policy: p.policy,
      direction: p.plan.direction,
      unitCaps,
      at: now,
    },
  };
  return { core: evolveSubproject(state, e) as SubprojectCore, events: [e] };
}

function active(s: SubprojectState): SubprojectCore {
  if (s.status === 'empty')
    throw notFound('该分项目尚未开始采购', 'this subproject has no procurement yet');
  return s;
}

function tenderIn(
  s: SubprojectCore,
  stages: SubprojectCore['stage'][],
  what: string,
  whatEn: string,
): Tender {
  const t = current(s);
  if (!t || !stages.includes(s.stage))
    throw conflict(
      'R-TD-1',
      `当前采购状态（${STAGE_NAMES[s.stage]}）下不能${what}`,
      `cannot ${whatEn} while the procurement is ${s.stage}`,
    );
  return t;
}

/** R-TD-1, R-TD-2: what cannot be done at this procurement stage. */
const wrongStage = (code: string, s: SubprojectCore, what: string, whatEn: string) =>
  conflict(
    code,
    `当前采购状态为「${STAGE_NAMES[s.stage]}」，不能${what}`,
    `cannot ${whatEn} while ${s.stage}`,
  );

export const STAGE_NAMES: Record<SubprojectCore['stage'], string> = {
  unprocured: '未采购',
  bidding: '投标中',
  closed: '投标截止，待开标',
  opened: '已开标，评标中',
  publicity: '中标候选人公示中',
  failed: '流标',
  awarded: '已确定承办主体',
  contracted: '已签订承办协议',
};

/** Timers that are due at `now`, as events (R-TD-1: bid deadline, candidate publicity end). */
function dueTimers(s: SubprojectCore, now: string): SubprojectEvent[] {
  const t = current(s);
  if (!t) return [];
  const out: SubprojectEvent[] = [];
  if (s.stage === 'bidding' && Date.parse(now) >= Date.parse(t.bidDeadline)) {
    out.push({
      type: 'BiddingClosed',
      data: { round: t.round, at: now, bids: liveBids(t).length },
    });
  }
  if (
    s.stage === 'publicity' &&
    t.candidate &&
    !t.candidate.withdrawn &&
    t.candidate.publicityEndedAt === null &&
    Date.parse(now) >= Date.parse(t.candidate.publicityEnds)
  ) {
    out.push({ type: 'CandidatePublicityEnded', data: { round: t.round, at: now } });
  }
  return out;
}

export function wakeAtSubproject(s: SubprojectState): string | null {
  if (s.status !== 'active') return null;
  if (s.stage === 'contracted') return deliveryWakeAt(s);
  const t = current(s);
  if (!t) return null;
  if (s.stage === 'bidding') return t.bidDeadline;
  if (
    s.stage === 'publicity' &&
    t.candidate &&
    !t.candidate.withdrawn &&
    t.candidate.publicityEndedAt === null
  )
    return t.candidate.publicityEnds;
  return null;
}

/** The part of the decider for one command type, decided on a subproject in state `S`. */
type On<S, T extends SubprojectCommand['type']> = Decide<S, SubprojectCommand, SubprojectEvent, T>;

/** R-PH-1, R-TD-1: a public tender (or a re-tender after 流标) with a long enough bidding period. */
const decideOpenTender: On<SubprojectState, 'OpenTender'> = (state, cmd, { now }) => {
  requireImplementation(cmd.program);
  const { core, events } = registered(state, cmd.program, now);
  if (!TENDERABLE.includes(core.procurement))
    throw conflict(
      'R-TD-1',
      `分项目采购方式为「${PROCUREMENTS[core.procurement]}」，应由办公室直接确定承办主体并说明理由，不公开招标`,
      `procurement is ${core.procurement}: designate the contractor instead of tendering`,
    );
  if (core.stage !== 'unprocured' && core.stage !== 'failed')
    throw wrongStage('R-TD-1', core, '发布招标公告', 'open a tender');
  if (Number.isNaN(Date.parse(cmd.bidDeadline)))
    throw invalid('投标截止时间格式不正确', 'bidDeadline is not a date-time', 'bidDeadline');
  const days = daysBetween(shanghaiDay(now), shanghaiDay(cmd.bidDeadline));
  const min = core.policy.minBiddingDays;
  if (days < min)
    throw rule(
      'R-TD-1',
      `投标期限 ${days} 天，少于规定的 ${min} 天（自公告发布之日至投标截止之日）`,
      `bidding period ${days} days < ${min} days`,
      { field: 'bidDeadline', figures: { days, min } },
    );
  const data = {
    round: core.tenders.length + 1,
    announcement: cmd.announcement,
    bidDeadline: new Date(cmd.bidDeadline).toISOString(),
    at: now,
  };
  return [...events, { type: 'TenderOpened', data }];
};

/** R-TD-3, R-TD-1: a bidder of an organisation, while bidding is open; its own live bid if any. */
function bidding(s: SubprojectCore, ctx: CommandContext, what: string, whatEn: string) {
  const org = ctx.actor.org;
  if (!org)
    throw forbidden('R-TD-3', '投标人须属于一个组织', 'a bidder must belong to an organisation');
  const t = tenderIn(s, ['bidding'], what, whatEn);
  if (Date.parse(ctx.now) >= Date.parse(t.bidDeadline))
    throw conflict(
      'R-TD-1',
      `投标截止时间（${beijingText(t.bidDeadline)}）已过`,
      `the bid deadline ${t.bidDeadline} has passed`,
    );
  return { t, org, own: liveBids(t).find((b) => b.org === org) };
}

/** R-TD-1: a sealed bid up to the subproject's budget (the ceiling); a second bid replaces the first. */
const decideSubmitBid: On<SubprojectCore, 'SubmitBid'> = (s, cmd, ctx) => {
  const { t, org, own } = bidding(s, ctx, '投标', 'bid');
  const ceiling = sumFen(SOURCES.map((src) => s.budget[src]));
  if (cmd.price <= 0) throw invalid('投标报价须大于0', 'price must be positive', 'price');
  if (cmd.price > ceiling)
    throw rule(
      'R-TD-1',
      `投标报价 ${formatYuan(cmd.price)} 元超过分项目预算（最高限价）${formatYuan(ceiling)} 元`,
      `bid ${formatYuan(cmd.price)} exceeds the subproject budget ${formatYuan(ceiling)} yuan`,
      { field: 'price', figures: { price: formatYuan(cmd.price), ceiling: formatYuan(ceiling) } },
    );
  return [
    {
      type: 'BidSubmitted',
      data: {
        round: t.round,
        org,
        price: cmd.price,
        proposal: cmd.proposal,
        documents: cmd.documents,
        by: ctx.actor.username,
        at: ctx.now,
        replaced: !!own,
      },
    },
  ];
};

const decideWithdrawBid: On<SubprojectCore, 'WithdrawBid'> = (s, _cmd, ctx) => {
  const { t, org, own } = bidding(s, ctx, '撤回投标', 'withdraw a bid');
  if (!own)
    throw conflict('R-TD-1', '本单位没有可撤回的投标', 'your organisation has no bid to withdraw');
  return [
    { type: 'BidWithdrawn', data: { round: t.round, org, by: ctx.actor.username, at: ctx.now } },
  ];
};

/** The timers due now, procurement's and delivery's. */
const decideTick: On<SubprojectState, 'Tick'> = (state, _cmd, ctx) =>
  state.status === 'active' ? [...dueTimers(state, ctx.now), ...dueDeliveryTimers(state, ctx)] : [];

/** R-TD-1: bids are opened after the deadline; fewer valid bids than the minimum is 流标. */
const decideOpenBids: On<SubprojectCore, 'OpenBids'> = (s, cmd, { now, actor }) => {
  const t = tenderIn(s, ['bidding', 'closed'], '开标', 'open bids');
  if (Date.parse(now) < Date.parse(t.bidDeadline))
    throw conflict(
      'R-TD-1',
      `投标截止时间（${beijingText(t.bidDeadline)}）未到，不能开标`,
      `bids cannot be opened before the deadline ${t.bidDeadline}`,
    );
  const closing = dueTimers(s, now);
  const live = liveBids(t);
  for (const x of cmd.invalid) {
    if (!live.some((b) => b.org === x.org))
      throw invalid(`「${x.org}」没有有效投标`, `${x.org} has no bid`, 'invalid');
  }
  const validOrgs = live.map((b) => b.org).filter((o) => !cmd.invalid.some((x) => x.org === o));
  const opened: SubprojectEvent = {
    type: 'BidsOpened',
    data: { round: t.round, at: now, by: actor.username, invalid: cmd.invalid, validOrgs },
  };
  const min = s.policy.minValidBids;
  if (validOrgs.length >= min) return [...closing, opened];
  const reason = `有效投标 ${validOrgs.length} 家，少于 ${min} 家，流标`;
  return [...closing, opened, { type: 'TenderFailed', data: { round: t.round, at: now, reason } }];
};

/** R-TD-1: every valid bidder scored exactly once. */
const decideScoreBids: On<SubprojectCore, 'ScoreBids'> = (s, cmd, ctx) => {
  const t = tenderIn(s, ['opened'], '评分', 'score bids');
  const valid = t.opening!.validOrgs;
  const given = cmd.scores.map((x) => x.org);
  const missing = valid.filter((o) => !given.includes(o));
  const extra = given.filter((o) => !valid.includes(o));
  if (missing.length || extra.length || new Set(given).size !== given.length)
    throw invalid(
      `评分须覆盖全部有效投标人且各一次${missing.length ? `；缺少：${missing.join('、')}` : ''}${extra.length ? `；不是有效投标人：${extra.join('、')}` : ''}`,
      `scores must cover every valid bidder exactly once (missing: ${missing.join(', ') || '-'}; not valid: ${extra.join(', ') || '-'})`,
      'scores',
    );
  const data = { round: t.round, scores: cmd.scores, by: ctx.actor.username, at: ctx.now };
  return [{ type: 'BidsScored', data }];
};

/** R-TD-1: the candidate is a valid bidder, the top scorer unless a reason is given; publicity follows. */
const decideProposeCandidate: On<SubprojectCore, 'ProposeCandidate'> = (s, cmd, ctx) => {
  const t = tenderIn(s, ['opened'], '确定中标候选人', 'propose a candidate');
  if (!t.scores) throw conflict('R-TD-1', '尚未评分，不能确定中标候选人', 'score the bids first');
  if (!t.opening!.validOrgs.includes(cmd.org))
    throw invalid(`「${cmd.org}」不是有效投标人`, `${cmd.org} is not a valid bidder`, 'org');
  const top = Math.max(...t.scores.map((x) => x.score));
  const score = t.scores.find((x) => x.org === cmd.org)!.score;
  if (score < top && !ctx.reason)
    throw rule(
      'R-TD-1',
      `「${cmd.org}」不是评分最高的投标人（${score / 100} < ${top / 100}），须说明理由`,
      `${cmd.org} is not the top-scored bidder; give a reason`,
      { field: 'reason' },
    );
  const publicityEnds = new Date(
    endOfDayShanghai(addDays(shanghaiDay(ctx.now), s.policy.candidatePublicityDays)),
  ).toISOString();
  const data = { round: t.round, org: cmd.org, at: ctx.now, publicityEnds };
  return [{ type: 'CandidateProposed', data }];
};

/** R-TD-1: objections while the candidate is publicised. */
const decideRaiseObjection: On<SubprojectCore, 'RaiseObjection'> = (s, cmd, { now, actor }) => {
  const t = tenderIn(s, ['publicity'], '提出异议', 'object');
  if (publicityOver(t, now))
    throw conflict(
      'R-TD-1',
      `中标候选人公示已于 ${beijingText(t.candidate!.publicityEnds)} 结束，不能再提出异议`,
      'candidate publicity has ended',
    );
  const id = `O${t.objections.length + 1}`;
  const data = {
    round: t.round,
    id,
    by: actor.username,
    org: actor.org ?? null,
    text: cmd.text,
    at: now,
    ...(cmd.sender ? { sender: cmd.sender } : {}),
  };
  return [{ type: 'ObjectionRaised', data }];
};

/** R-TD-1: an objection is resolved once, with a reason (upheld withdraws the candidate). */
const decideResolveObjection: On<SubprojectCore, 'ResolveObjection'> = (s, cmd, ctx) => {
  const t = tenderIn(s, ['publicity'], '处理异议', 'resolve an objection');
  const o = unresolvedObjection(t.objections, cmd.objectionId, 'objectionId');
  if (!ctx.reason)
    throw invalid('处理异议须记录处理决定的理由', 'a resolution needs a reason', 'reason');
  return [
    {
      type: 'ObjectionResolved',
      data: {
        round: t.round,
        id: o.id,
        decision: cmd.decision,
        by: ctx.actor.username,
        at: ctx.now,
        reason: ctx.reason,
      },
    },
  ];
};

/** R-TD-1: the award after the candidate publicity, with no objection open. */
const decideAward: On<SubprojectCore, 'Award'> = (s, _cmd, ctx) => {
  const t = tenderIn(s, ['publicity'], '定标', 'award');
  if (!publicityOver(t, ctx.now))
    throw conflict(
      'R-TD-1',
      `中标候选人公示期未满（至 ${beijingText(t.candidate!.publicityEnds)}）`,
      `candidate publicity runs until ${t.candidate!.publicityEnds}`,
    );
  const open = openObjections(t);
  if (open.length)
    throw conflict(
      'R-TD-1',
      `公示期间的异议尚未处理：${open.map((o) => `${o.id}（${o.text}）`).join('；')}，暂停定标`,
      `award suspended by open objections: ${open.map((o) => o.id).join(', ')}`,
    );
  return [
    ...dueTimers(s, ctx.now),
    {
      type: 'ContractorAwarded',
      data: {
        org: t.candidate!.org,
        at: ctx.now,
        by: ctx.actor.username,
        designated: false,
        reason: ctx.reason ?? null,
        document: null,
      },
    },
  ];
};

/** R-PH-1, R-TD-1: direct, designated and government-purchase subprojects are designated, with a reason. */
const decideDesignateContractor: On<SubprojectState, 'DesignateContractor'> = (state, cmd, ctx) => {
  requireImplementation(cmd.program);
  const { core, events } = registered(state, cmd.program, ctx.now);
  if (!DESIGNATABLE.includes(core.procurement))
    throw conflict(
      'R-TD-1',
      `分项目采购方式为「${PROCUREMENTS[core.procurement]}」，须公开招标，不能直接指定`,
      `procurement is ${core.procurement}: it must be tendered`,
    );
  if (core.stage !== 'unprocured' && core.stage !== 'failed')
    throw wrongStage('R-TD-1', core, '直接指定承办主体', 'designate');
  if (!ctx.reason)
    throw invalid('直接指定承办主体须记录理由', 'a designation needs a reason', 'reason');
  return [
    ...events,
    {
      type: 'ContractorAwarded',
      data: {
        org: cmd.org,
        at: ctx.now,
        by: ctx.actor.username,
        designated: true,
        reason: ctx.reason,
        document: cmd.document,
      },
    },
  ];
};

/** R-TD-2: the awarded contractor's contract, its tranches summing to the budget per source. */
const decideSignContract: On<SubprojectCore, 'SignContract'> = (s, cmd, ctx) => {
  if (s.stage !== 'awarded') throw wrongStage('R-TD-2', s, '签订承办协议', 'sign a contract');
  checkContractPlan(s, cmd.milestones, cmd.tranches);
  return [
    {
      type: 'ContractSigned',
      data: {
        org: s.award!.org,
        number: cmd.number,
        document: cmd.document,
        signedAt: ctx.now,
        signedBy: ctx.actor.username,
        milestones: cmd.milestones,
        tranches: cmd.tranches,
      },
    },
  ];
};

export function decideSubproject(
  state: SubprojectState,
  cmd: SubprojectCommand,
  ctx: CommandContext,
): SubprojectEvent[] {
  switch (cmd.type) {
    case 'OpenTender':
      return decideOpenTender(state, cmd, ctx);
    case 'SubmitBid':
      return decideSubmitBid(active(state), cmd, ctx);
    case 'WithdrawBid':
      return decideWithdrawBid(active(state), cmd, ctx);
    case 'Tick':
      return decideTick(state, cmd, ctx);
    case 'OpenBids':
      return decideOpenBids(active(state), cmd, ctx);
    case 'ScoreBids':
      return decideScoreBids(active(state), cmd, ctx);
    case 'ProposeCandidate':
      return decideProposeCandidate(active(state), cmd, ctx);
    case 'RaiseObjection':
      return decideRaiseObjection(active(state), cmd, ctx);
    case 'ResolveObjection':
      return decideResolveObjection(active(state), cmd, ctx);
    case 'Award':
      return decideAward(active(state), cmd, ctx);
    case 'DesignateContractor':
      return decideDesignateContractor(state, cmd, ctx);
    case 'SignContract':
      return decideSignContract(active(state), cmd, ctx);
    case 'SubmitMilestone':
    case 'PreEvaluate':
    case 'DecideMilestone':
    case 'RaiseAcceptanceObjection':
    case 'ResolveAcceptanceObjection':
    case 'ReleaseTranche':
    case 'RecordRecovery':
      return decideDelivery(active(state), cmd, ctx);
    default:
      return assertNever(cmd, 'command');
  }
}

/** R-TD-2: per source, the subproject's budget, what the tranches add up to and the difference
 * (budget − sum; the contract can be signed only when every difference is 0). The contract form shows
 * it as the office types. */
export function trancheBalance(
  budget: Funding,
  tranches: readonly { source: Source; amount: Fen }[],
): { source: Source; budget: Fen; sum: Fen; diff: Fen }[] {
  return SOURCES.map((source) => {
    const sum = sumFen(tranches.filter((t) => t.source === source).map((t) => t.amount));
    return { source, budget: budget[source], sum, diff: budget[source] - sum };
  });
}

/** R-TD-2: milestones well-formed; tranches per source sum exactly to the subproject's budget per source. */
function checkContractPlan(
  s: SubprojectCore,
  milestones: MilestonePlan[],
  tranches: { key: string; milestone: string; source: Source; amount: Fen }[],
): void {
  if (!milestones.length)
    throw invalid(
      '承办协议须至少包含一个里程碑',
      'a contract needs at least one milestone',
      'milestones',
    );
  const keys = milestones.map((m) => m.key);
  if (new Set(keys).size !== keys.length)
    throw invalid('里程碑编号重复', 'duplicate milestone keys', 'milestones');
  const tkeys = tranches.map((t) => t.key);
  if (new Set(tkeys).size !== tkeys.length)
    throw invalid('拨付批次编号重复', 'duplicate tranche keys', 'tranches');
  tranches.forEach((t, i) => {
    if (!keys.includes(t.milestone))
      throw invalid(
        `拨付批次 ${t.key} 关联的里程碑 ${t.milestone} 不存在`,
        `tranche ${t.key} refers to unknown milestone ${t.milestone}`,
        `tranches[${i}].milestone`,
      );
    if (t.amount <= 0)
      throw invalid(
        `拨付批次 ${t.key} 金额须大于0`,
        `tranche ${t.key} amount must be positive`,
        `tranches[${i}].amount`,
      );
  });
  const problems = trancheBalance(s.budget, tranches).flatMap(({ source: src, sum, diff }) => {
    if (diff === 0) return [];
    const zh = `${SOURCE_NAMES[src]}拨付批次合计 ${wanText(sum)}，与分项目预算 ${wanText(s.budget[src])} ${diff > 0 ? '相差' : '超出'} ${formatYuan(Math.abs(diff))} 元（${wanText(Math.abs(diff))}）`;
    const en = `${src} tranches sum to ${formatYuan(sum)} yuan, budget ${formatYuan(s.budget[src])} yuan: ${diff > 0 ? 'short by' : 'over by'} ${formatYuan(Math.abs(diff))} yuan`;
    return [
      {
        rule: 'R-TD-2',
        field: `tranches(${src})`,
        message: zh,
        message_en: en,
        figures: {
          source: src,
          sum: formatYuan(sum),
          budget: formatYuan(s.budget[src]),
          difference: formatYuan(diff),
          differenceWan: wanText(Math.abs(diff)),
        },
      },
    ];
  });
  if (problems.length) {
    throw new DomainError(
      'R-TD-2',
      'rule',
      problems.map((p) => p.message).join('；'),
      problems.map((p) => p.message_en).join('; '),
      { violations: problems },
    );
  }
}

export function evolveSubproject(state: SubprojectState, event: SubprojectEvent): SubprojectState {
  if (event.type === 'SubprojectRegistered') {
    const d = event.data;
    return {
      status: 'active',
      programCode: d.programCode,
      seq: d.seq,
      name: d.name,
      procurement: d.procurement,
      budget: d.budget,
      policy: d.policy,
      stage: 'unprocured',
      tenders: [],
      award: null,
      contract: null,
      createdAt: d.at,
      delivery: {
        direction: d.direction,
        unitCaps: d.unitCaps,
        milestones: {},
        disbursements: [],
        terminated: null,
        named: null,
        clawback: null,
      },
    };
  }
  if (state.status === 'empty') return state;
  const s = state;
  const withTender = (round: number, f: (t: Tender) => Tender): Tender[] =>
    s.tenders.map((t) => (t.round === round ? f(t) : t));
  switch (event.type) {
    case 'TenderOpened': {
      const d = event.data;
      const t: Tender = {
        round: d.round,
        announcement: d.announcement,
        openedAt: d.at,
        bidDeadline: d.bidDeadline,
        biddingClosedAt: null,
        bids: [],
        opening: null,
        failed: null,
        scores: null,
        candidate: null,
        objections: [],
      };
      return { ...s, stage: 'bidding', tenders: [...s.tenders, t] };
    }
    case 'BidSubmitted': {
      const d = event.data;
      const bid: Bid = {
        org: d.org,
        price: d.price,
        proposal: d.proposal,
        documents: d.documents,
        submittedBy: d.by,
        at: d.at,
        withdrawn: false,
      };
      return {
        ...s,
        tenders: withTender(d.round, (t) => ({
          ...t,
          bids: [
            ...t.bids.map((b) => (b.org === d.org && !b.withdrawn ? { ...b, withdrawn: true } : b)),
            bid,
          ],
        })),
      };
    }
    case 'BidWithdrawn':
      return {
        ...s,
        tenders: withTender(event.data.round, (t) => ({
          ...t,
          bids: t.bids.map((b) =>
            b.org === event.data.org && !b.withdrawn ? { ...b, withdrawn: true } : b,
          ),
        })),
      };
    case 'BiddingClosed':
      return {
        ...s,
        stage: 'closed',
        tenders: withTender(event.data.round, (t) => ({ ...t, biddingClosedAt: event.data.at })),
      };
    case 'BidsOpened': {
      const d = event.data;
      return {
        ...s,
        stage: 'opened',
        tenders: withTender(d.round, (t) => ({
          ...t,
          opening: { at: d.at, by: d.by, invalid: d.invalid, validOrgs: d.validOrgs },
        })),
      };
    }
    case 'TenderFailed':
      return {
        ...s,
        stage: 'failed',
        tenders: withTender(event.data.round, (t) => ({
          ...t,
          failed: { at: event.data.at, reason: event.data.reason },
        })),
      };
    case 'BidsScored':
      return {
        ...s,
        tenders: withTender(event.data.round, (t) => ({ ...t, scores: event.data.scores })),
      };
    case 'CandidateProposed': {
      const d = event.data;
      return {
        ...s,
        stage: 'publicity',
        tenders: withTender(d.round, (t) => ({
          ...t,
          candidate: {
            org: d.org,
            proposedAt: d.at,
            publicityEnds: d.publicityEnds,
            publicityEndedAt: null,
            withdrawn: false,
          },
        })),
      };
    }
    case 'ObjectionRaised': {
      const d = event.data;
      return {
        ...s,
        tenders: withTender(d.round, (t) => ({
          ...t,
          objections: [
            ...t.objections,
            {
              id: d.id,
              by: d.by,
              org: d.org,
              text: d.text,
              at: d.at,
              resolution: null,
              sender: d.sender ?? null,
            },
          ],
        })),
      };
    }
    case 'ObjectionResolved': {
      const d = event.data;
      const upheld = d.decision === 'upheld';
      return {
        ...s,
        stage: upheld ? 'opened' : s.stage, // an upheld objection withdraws the candidate: propose another or re-tender
        tenders: withTender(d.round, (t) => ({
          ...t,
          objections: t.objections.map((o) =>
            o.id === d.id
              ? { ...o, resolution: { decision: d.decision, by: d.by, at: d.at, reason: d.reason } }
              : o,
          ),
          candidate: upheld && t.candidate ? { ...t.candidate, withdrawn: true } : t.candidate,
        })),
      };
    }
    case 'CandidatePublicityEnded':
      return {
        ...s,
        tenders: withTender(event.data.round, (t) => ({
          ...t,
          candidate: t.candidate ? { ...t.candidate, publicityEndedAt: event.data.at } : null,
        })),
      };
    case 'ContractorAwarded':
      return {
        ...s,
        stage: 'awarded',
        award: {
          org: event.data.org,
          at: event.data.at,
          by: event.data.by,
          designated: event.data.designated,
          reason: event.data.reason,
          document: event.data.document,
        },
      };
    case 'ContractSigned':
      return {
        ...s,
        stage: 'contracted',
        contract: event.data,
        delivery: {
          ...s.delivery,
          milestones: Object.fromEntries(
            event.data.milestones.map((m) => [m.key, newMilestone(m.key)]),
          ),
        },
      };
    default:
      // exhaustive: only delivery events are left, and evolveDelivery's switch ends with assertNever
      return evolveDelivery(s, event);
  }
}

export const subprojectDecider = {
  streamType: 'subproject',
  initialState: initialSubprojectState,
  decide: decideSubproject,
  evolve: evolveSubproject,
  wakeAt: wakeAtSubproject,
} as const;
