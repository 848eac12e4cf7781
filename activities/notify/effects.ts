// Which events make which notices and mails (design.md: every notice is caused by an event). The items
// go to the outbox in the same transaction as the events; the dispatcher issues and sends them.
import type { NewEvent, OutboxItem, StoredEvent } from '../store/event-store';
import { sumFen } from '../../workflows/money';
import { SOURCE_NAMES, SOURCES, type Role } from '../../workflows/program/types';
import type { SubprojectEvent } from '../../workflows/subproject/decider';
import type { SubprojectCore } from '../../workflows/subproject/types';
import type { ActiveProgram, ProgramEvent } from '../../workflows/program/decider';
import { fundUseTotals } from '../../workflows/program/fund-use';

export interface Recipients {
  roles?: Role[];
  org?: string | null;
}
export interface NoticeSpec {
  kind: string;
  title: string;
  data: Record<string, unknown>;
}
export interface MailSpec {
  template: string;
  subject: string;
  to: Recipients;
  data: Record<string, unknown>;
  withNotice?: string;
}
export interface NotifyPayload {
  programCode: string;
  seq: number | null;
  eventType: string;
  version: number;
  at: string;
  notices: NoticeSpec[];
  mails: MailSpec[];
}

/** What the effects read of an appended event: the event itself (`type` narrows `data`), its version and time. */
type Ev<E extends NewEvent> = E & Pick<StoredEvent, 'version' | 'at'>;
const item = (p: NotifyPayload): OutboxItem => ({ kind: 'notify', payload: p });

export function subprojectEffects(events: Ev<SubprojectEvent>[], s: SubprojectCore): OutboxItem[] {
  const sp = { seq: s.seq, name: s.name, budget: sumFen(SOURCES.map((x) => s.budget[x])) };
  const contractor = s.award?.org ?? '';
  const org = s.award?.org ?? null;
  const out: OutboxItem[] = [];
  for (const e of events) {
    const { type, data: d } = e; // destructured from the union: `switch (type)` narrows `d` too
    const base = {
      programCode: s.programCode,
      seq: s.seq,
      eventType: e.type,
      version: e.version,
      at: e.at,
    };
    const milestoneOf = (key: string) => ({
      key,
      title: s.contract?.milestones.find((m) => m.key === key)?.title ?? key,
    });
    switch (type) {
      case 'TenderOpened':
        out.push(
          item({
            ...base,
            notices: [
              {
                kind: 'tender_announcement',
                title: `${s.name}招标公告`,
                data: {
                  subproject: sp,
                  tender: {
                    number: d.announcement.number ?? null,
                    bidDeadline: d.bidDeadline,
                    qualifications: d.announcement.qualifications,
                  },
                  policy: { minValidBids: s.policy.minValidBids },
                },
              },
            ],
            mails: [],
          }),
        );
        break;
      case 'CandidateProposed':
        out.push(
          item({
            ...base,
            notices: [
              {
                kind: 'candidate_publicity',
                title: `${s.name}中标候选人公示`,
                data: {
                  subproject: sp,
                  round: d.round,
                  candidate: d.org,
                  publicityEnds: d.publicityEnds,
                },
              },
            ],
            mails: [],
          }),
        );
        break;
      case 'ContractorAwarded':
        out.push(
          item({
            ...base,
            notices: [
              {
                kind: 'award_notice',
                title: `${s.name}中标（承办）通知书`,
                data: {
                  subproject: sp,
                  contractor: d.org,
                  designated: d.designated,
                  reason: d.reason ?? null,
                },
              },
            ],
            mails: [
              {
                template: 'notice_issued',
                subject: `中标（承办）通知书：${s.name}`,
                to: { org: d.org },
                data: {},
                withNotice: 'award_notice',
              },
            ],
          }),
        );
        break;
      case 'ContractSigned':
        out.push(
          item({
            ...base,
            notices: [
              {
                kind: 'contract_summary',
                title: `${s.name}承办协议摘要`,
                data: {
                  subproject: sp,
                  contractor: d.org,
                  number: d.number ?? null,
                  milestones: d.milestones.map((m) => ({ key: m.key, title: m.title, due: m.due })),
                  tranches: d.tranches.map((t) => ({
                    key: t.key,
                    milestone: t.milestone,
                    sourceName: SOURCE_NAMES[t.source],
                    amount: t.amount,
                  })),
                },
              },
            ],
            mails: [
              {
                template: 'notice_issued',
                subject: `承办协议摘要：${s.name}`,
                to: { org: d.org, roles: ['finance'] },
                data: {},
                withNotice: 'contract_summary',
              },
            ],
          }),
        );
        break;
      case 'MilestoneSubmitted':
        out.push(
          item({
            ...base,
            notices: [],
            mails: [
              {
                template: 'milestone_receipt',
                subject: `收件回执：${s.name} 里程碑 ${d.milestone}`,
                to: { org },
                data: {
                  subproject: sp,
                  milestone: milestoneOf(d.milestone),
                  round: d.round,
                  at: d.at,
                  fileCount: d.files.length,
                },
              },
              {
                template: 'pre_evaluation_request',
                subject: `预评请求：${s.name} 里程碑 ${d.milestone}`,
                to: { roles: ['evaluator'] },
                data: {
                  subproject: sp,
                  contractor,
                  milestone: milestoneOf(d.milestone),
                  round: d.round,
                  at: d.at,
                },
              },
            ],
          }),
        );
        break;
      case 'MilestoneAccepted':
        out.push(
          item({
            ...base,
            notices: [
              {
                kind: 'acceptance_publicity',
                title: `${s.name}里程碑 ${d.milestone} 验收结果公示`,
                data: {
                  subproject: sp,
                  contractor,
                  milestone: milestoneOf(d.milestone),
                  publicityEnds: d.publicityEnds,
                },
              },
            ],
            mails: [
              {
                template: 'notice_issued',
                subject: `验收结果公示：${s.name} 里程碑 ${d.milestone}`,
                to: { org },
                data: {},
                withNotice: 'acceptance_publicity',
              },
            ],
          }),
        );
        break;
      case 'RectificationOrdered':
        out.push(
          item({
            ...base,
            notices: [
              {
                kind: 'rectification_notice',
                title: `${s.name}里程碑 ${d.milestone} 整改通知书`,
                data: {
                  subproject: sp,
                  contractor,
                  milestone: milestoneOf(d.milestone),
                  defects: d.defects,
                  deadline: d.deadline,
                  round: s.delivery.milestones[d.milestone]?.rejections ?? 1,
                  maxRounds: s.policy.maxRectificationRounds,
                },
              },
            ],
            mails: [
              {
                template: 'notice_issued',
                subject: `整改通知书：${s.name} 里程碑 ${d.milestone}`,
                to: { org },
                data: {},
                withNotice: 'rectification_notice',
              },
            ],
          }),
        );
        break;
      case 'TrancheReleased':
        out.push(
          item({
            ...base,
            notices: [
              {
                kind: 'disbursement_notice',
                title: `${s.name} ${d.tranche} 资金拨付通知`,
                data: {
                  subproject: sp,
                  contractor,
                  milestone: d.milestone,
                  tranche: d.tranche,
                  sourceName: SOURCE_NAMES[d.source],
                  amount: d.amount,
                  at: d.at,
                },
              },
            ],
            mails: [
              {
                template: 'notice_issued',
                subject: `资金拨付通知：${s.name} ${d.tranche}`,
                to: { org, roles: ['finance'] },
                data: {},
                withNotice: 'disbursement_notice',
              },
            ],
          }),
        );
        break;
      case 'ContractorNamed':
        out.push(
          item({
            ...base,
            notices: [
              {
                kind: 'public_naming',
                title: `关于${d.org}承办项目未通过验收的通报`,
                data: { org: d.org, subproject: { label: d.subproject }, reason: d.reason },
              },
            ],
            mails: [
              {
                template: 'notice_issued',
                subject: `通报：${s.name}`,
                to: { org: d.org, roles: ['office', 'supervisor', 'finance'] },
                data: {},
                withNotice: 'public_naming',
              },
            ],
          }),
        );
        break;
      case 'ClawbackDemanded': {
        const demanded = SOURCES.filter((x) => d.demanded[x] > 0).map((x) => ({
          name: SOURCE_NAMES[x],
          fen: d.demanded[x],
        }));
        if (!demanded.length) break; // nothing was paid: nothing to claw back
        out.push(
          item({
            ...base,
            notices: [
              {
                kind: 'clawback_notice',
                title: `${s.name}追回通知书`,
                data: {
                  contractor,
                  reason: d.reason,
                  deadline: d.deadline,
                  demanded,
                  total: sumFen(demanded.map((x) => x.fen)),
                },
              },
            ],
            mails: [
              {
                template: 'notice_issued',
                subject: `追回通知书：${s.name}`,
                to: { org, roles: ['finance'] },
                data: {},
                withNotice: 'clawback_notice',
              },
            ],
          }),
        );
        break;
      }
      // no notice and no mail
      case 'SubprojectRegistered':
      case 'BidSubmitted':
      case 'BidWithdrawn':
      case 'BiddingClosed':
      case 'BidsOpened':
      case 'TenderFailed':
      case 'BidsScored':
      case 'ObjectionRaised':
      case 'ObjectionResolved':
      case 'CandidatePublicityEnded':
      case 'MilestonePreEvaluated':
      case 'AcceptanceObjectionRaised':
      case 'AcceptanceObjectionResolved':
      case 'AcceptancePublicityEnded':
      case 'MilestoneFailed':
      case 'SubprojectTerminated':
      case 'RecoveryRecorded':
      case 'ClawbackSettled':
      case 'ClawbackOverdue':
        break;
      default: {
        const _unhandled: never = type; // the compiler checks that every subproject event is listed above
      }
    }
  }
  return out;
}

export function programEffects(events: Ev<ProgramEvent>[], s: ActiveProgram): OutboxItem[] {
  const name = (k: string) => s.def.phases.find((p) => p.key === k)?.name ?? k;
  return events.flatMap((e) => {
    switch (e.type) {
      case 'PhaseAdvanced': {
        const d = e.data;
        return [
          item({
            programCode: s.def.code,
            seq: null,
            eventType: e.type,
            version: e.version,
            at: e.at,
            notices: [],
            mails: [
              {
                template: 'phase_advanced',
                subject: `${s.def.name}进入「${name(d.to)}」阶段`,
                to: { roles: ['office', 'supervisor', 'finance'] },
                data: {
                  from: name(d.from),
                  to: name(d.to),
                  at: d.at,
                  toEnd: s.def.phases.find((p) => p.key === d.to)?.end ?? null,
                },
              },
            ],
          }),
        ];
      }
      // R-FUND-9: the period's publication, a numbered notice for the column and the bulletin board
      case 'FundUsePublished': {
        const d = e.data;
        const totals = fundUseTotals(d.rows);
        return [
          item({
            programCode: s.def.code,
            seq: null,
            eventType: e.type,
            version: e.version,
            at: e.at,
            notices: [
              {
                kind: 'fund_use_publication',
                title: `${s.def.name}${d.period.name}中央财政资金使用情况公开`,
                data: {
                  period: d.period,
                  rows: d.rows,
                  totals: { ...totals, net: totals.disbursedToDate - totals.recoveredToDate },
                },
              },
            ],
            mails: [],
          }),
        ];
      }
      // no mail
      case 'ProgramCreated':
      case 'GateActRecorded':
      case 'ProgramClosed':
      case 'FindingRecorded':
      case 'FindingClosed':
      case 'ReportFiled': // the office's 待办 shows it (workflows/tasks.ts)
      case 'ReportAnswered':
      case 'StationsRegistered':
      case 'TrainingsRegistered':
      case 'FundedUnitsRegistered':
      case 'IndicatorValueRecorded':
        return [];
      default: {
        const _unhandled: never = e; // the compiler checks that every program event is listed above
        return [];
      }
    }
  });
}
