// 待办 as data: every act a person must take on a stream, derived from its state alone (the state the
// commands are decided on), so a task exists exactly while its command would be accepted. Pure: the
// projections write these rows in the append's transaction (table `task`), and the inbox reads them
// with one indexed query. Tasks that wait for a moment (open the bids once the deadline has passed,
// award once the publicity has ended) carry it as `from`; tasks that end at one (bid before the
// deadline) as `until`: the query compares them with its clock, so no timer has to rewrite a row.
import { gateStatuses, reportsOf, type ActiveProgram } from './program/decider';
import type { Role } from './program/types';
import type { ParcelScheme } from './parcels/decider';
import { trancheDisbursed } from './subproject/delivery';
import type { SubprojectCore } from './subproject/types';
import { endOfDayShanghai } from './time';

export const TASK_KINDS = {
  gate: '登记关口',
  finding: '整改事项销号',
  open_bids: '开标',
  score: '评标打分',
  propose: '确定中标候选人',
  objection: '处理异议',
  report: '答复举报',
  award: '定标',
  bid: '投标',
  pre_evaluate: '预评',
  decide: '验收决定',
  rectification_overdue: '整改逾期',
  submit: '提交里程碑',
  rectify: '整改后重新提交',
  release: '拨付',
  clawback: '追回',
  pay_claim: '拨付快递补贴',
  review_claim: '审核快递补贴',
} as const;
export type TaskKind = keyof typeof TASK_KINDS;

export interface OpenTask {
  /** unique within the stream: the same task keeps its key while it stays open */
  key: string;
  kind: TaskKind;
  role: Role;
  /** contractor tasks: the contractor's organisation; null: every user of the role */
  org: string | null;
  /** what to do, in Chinese */
  what: string;
  programCode: string;
  seq: number | null;
  since: string | null;
  /** as the state holds it: a calendar day ("2020-12-31") or an instant */
  due: string | null;
  /** `due` as an instant (a day ends at 24:00 Asia/Shanghai), for the order and the overdue mark */
  dueAt: string | null;
  /** shown from this instant on (null: at once) */
  from: string | null;
  /** shown until this instant (null: while it is open) */
  until: string | null;
  /** the form's anchor on the program or subproject page */
  anchor: string;
  /** its place among the stream's tasks (the order of the plan: gates as the phase lists them) */
  ord: number;
}

type Draft = Omit<OpenTask, 'dueAt' | 'from' | 'until' | 'programCode' | 'seq' | 'org' | 'ord'> & {
  org?: string | null;
  from?: string | null;
  until?: string | null;
};

/** A due date as an instant: a calendar day ends at 24:00 in Shanghai. */
export function dueInstant(due: string | null): string | null {
  if (!due) return null;
  return /^\d{4}-\d{2}-\d{2}$/.test(due)
    ? new Date(endOfDayShanghai(due)).toISOString()
    : new Date(Date.parse(due)).toISOString();
}

function complete(programCode: string, seq: number | null, drafts: Draft[]): OpenTask[] {
  return drafts.map((d, ord) => ({
    ...d,
    ord,
    programCode,
    seq,
    org: d.org ?? null,
    dueAt: dueInstant(d.due),
    from: d.from ?? null,
    until: d.until ?? null,
  }));
}

/** R-PUB-1: reports (举报) from the public wait for the office's answer, a closed program's too. */
function reportTasks(p: ActiveProgram): Draft[] {
  return reportsOf(p)
    .filter((r) => !r.answer)
    .map((r) => ({
      key: `report:${r.id}`,
      kind: 'report',
      role: 'office',
      what: `答复举报${r.seq !== null ? `（分项目${r.seq}）` : ''}：${r.text.slice(0, 30)}`,
      since: r.at,
      due: null,
      anchor: 'reports',
    }));
}

/** The office's open gate acts (computed gates are the system's, not a task), open findings and
 * unanswered reports. */
export function programTasks(p: ActiveProgram): OpenTask[] {
  if (p.status !== 'active') return complete(p.def.code, null, reportTasks(p));
  const phase = p.def.phases[p.phaseIndex];
  const drafts: Draft[] = gateStatuses(p)
    .filter((g) => g.open && g.kind === 'act')
    .map((g) => ({
      key: `gate:${phase?.key}:${g.key}`,
      kind: 'gate',
      role: 'office',
      what: `登记关口：${g.name}`,
      since: p.phaseEnteredAt,
      due: phase?.end ?? null,
      anchor: `gate-${g.key}`,
    }));
  for (const f of p.findings)
    if (!f.closed)
      drafts.push({
        key: `finding:${f.id}`,
        kind: 'finding',
        role: 'office',
        what: `整改事项销号：${f.title}`,
        since: null,
        due: f.due,
        anchor: 'findings',
      });
  drafts.push(...reportTasks(p));
  return complete(p.def.code, null, drafts);
}

const short = (text: string) => text.slice(0, 30);

function tenderTasks(s: SubprojectCore): Draft[] {
  const t = s.tenders[s.tenders.length - 1];
  if (!t) return [];
  const out: Draft[] = [];
  const n = s.tenders.length;
  if (s.stage === 'bidding') {
    out.push({
      key: `open_bids:${n}`,
      kind: 'open_bids',
      role: 'office',
      what: '开标（投标已截止）',
      since: t.bidDeadline,
      due: null,
      anchor: 'opening',
      from: t.bidDeadline,
    });
    out.push({
      key: `bid:${n}`,
      kind: 'bid',
      role: 'contractor',
      what: '可投标（截止前可提交或替换标书）',
      since: t.openedAt,
      due: t.bidDeadline,
      anchor: 'bid',
      until: t.bidDeadline,
    });
  }
  if (s.stage === 'closed')
    out.push({
      key: `open_bids:${n}`,
      kind: 'open_bids',
      role: 'office',
      what: '开标（投标已截止）',
      since: t.biddingClosedAt ?? t.bidDeadline,
      due: null,
      anchor: 'opening',
    });
  if (s.stage === 'opened' && t.scores)
    out.push({
      key: `propose:${n}`,
      kind: 'propose',
      role: 'office',
      what: '确定中标候选人并公示',
      since: t.openedAt,
      due: null,
      anchor: 'candidate',
    });
  if (s.stage === 'opened' && !t.scores)
    for (const role of ['office', 'evaluator'] as const)
      out.push({
        key: `score:${n}:${role}`,
        kind: 'score',
        role,
        what: role === 'office' ? '记录评标得分' : '评标打分',
        since: t.openedAt,
        due: null,
        anchor: 'scores',
      });
  t.objections.forEach((o, i) => {
    if (!o.resolution)
      out.push({
        key: `objection:${n}:${i}`,
        kind: 'objection',
        role: 'office',
        what: `处理异议：${short(o.text)}`,
        since: o.at,
        due: null,
        anchor: 'objections',
      });
  });
  if (s.stage === 'publicity' && t.candidate && !t.objections.some((o) => !o.resolution))
    out.push({
      key: `award:${n}`,
      kind: 'award',
      role: 'office',
      what: `定标：${t.candidate.org}（公示期满）`,
      since: t.candidate.publicityEnds,
      due: null,
      anchor: 'award',
      from: t.candidate.publicityEnds,
    });
  return out;
}

function milestoneTasks(s: SubprojectCore): Draft[] {
  const out: Draft[] = [];
  const contractor = s.award?.org ?? null;
  for (const m of Object.values(s.delivery.milestones)) {
    const plan = s.contract?.milestones.find((x) => x.key === m.key);
    const title = plan?.title ?? m.key;
    const anchor = `milestone-${m.key}`;
    const last = m.submissions[m.submissions.length - 1];
    if (m.status === 'submitted')
      out.push({
        key: `pre_evaluate:${m.key}`,
        kind: 'pre_evaluate',
        role: 'evaluator',
        what: `预评里程碑：${title}`,
        since: last?.at ?? null,
        due: null,
        anchor,
      });
    if (m.status === 'pre_evaluated')
      out.push({
        key: `decide:${m.key}`,
        kind: 'decide',
        role: 'office',
        what: `验收决定：${title}`,
        since: m.evaluation?.at ?? null,
        due: null,
        anchor,
      });
    m.publicity?.objections.forEach((o, i) => {
      if (!o.resolution)
        out.push({
          key: `objection:${m.key}:${i}`,
          kind: 'objection',
          role: 'office',
          what: `处理验收异议：${short(o.text)}`,
          since: o.at,
          due: null,
          anchor,
        });
    });
    if (m.status === 'rectifying' && m.rectification) {
      out.push({
        key: `rectification_overdue:${m.key}`,
        kind: 'rectification_overdue',
        role: 'office',
        what: `整改逾期：${title}`,
        since: m.rectification.orderedAt,
        due: m.rectification.deadline,
        anchor,
        from: m.rectification.deadline,
      });
      out.push({
        key: `rectify:${m.key}`,
        kind: 'rectify',
        role: 'contractor',
        org: contractor,
        what: `整改后重新提交：${title}`,
        since: m.rectification.orderedAt,
        due: m.rectification.deadline,
        anchor,
      });
    }
    if (m.status === 'planned' && !s.delivery.terminated)
      out.push({
        key: `submit:${m.key}`,
        kind: 'submit',
        role: 'contractor',
        org: contractor,
        what: `提交里程碑：${title}`,
        since: s.contract?.signedAt ?? null,
        due: plan?.due ?? null,
        anchor,
      });
  }
  return out;
}

function moneyTasks(s: SubprojectCore): Draft[] {
  const out: Draft[] = [];
  if (!s.delivery.terminated)
    for (const tr of s.contract?.tranches ?? []) {
      const m = s.delivery.milestones[tr.milestone];
      if (m?.status === 'accepted' && trancheDisbursed(s, tr.key) < tr.amount)
        out.push({
          key: `release:${tr.key}`,
          kind: 'release',
          role: 'finance',
          what: `拨付批次 ${tr.key}`,
          since: m.publicity?.endedAt ?? null,
          due: null,
          anchor: `tranche-${tr.key}`,
        });
    }
  const c = s.delivery.clawback;
  if (c && !c.settledAt) {
    const base = {
      kind: 'clawback',
      since: c.demandedAt,
      due: c.deadline,
      anchor: 'clawback',
    } as const;
    out.push({ ...base, key: 'clawback:finance', role: 'finance', what: '登记追回款' });
    out.push({
      ...base,
      key: 'clawback:contractor',
      role: 'contractor',
      org: s.award?.org ?? null,
      what: '退回已拨付资金',
    });
  }
  return out;
}

/** A subproject's open tasks for every role. */
export function subprojectTasks(s: SubprojectCore): OpenTask[] {
  // a contractor task without an organisation would reach every contractor: only bids are open to all
  const drafts = [...tenderTasks(s), ...milestoneTasks(s), ...moneyTasks(s)].filter(
    (d) => d.role !== 'contractor' || d.kind === 'bid' || d.org,
  );
  return complete(s.programCode, s.seq, drafts);
}

/** Parcel claims waiting for the office's review or the finance bureau's payment. */
export function parcelTasks(p: ParcelScheme): OpenTask[] {
  const drafts: Draft[] = [];
  for (const claim of p.claims) {
    if (claim.status === 'submitted')
      drafts.push({
        key: `review_claim:${claim.id}`,
        kind: 'review_claim',
        role: 'office',
        what: `审核快递补贴申报 ${claim.id}（${claim.business}）`,
        since: claim.submittedAt,
        due: null,
        anchor: 'parcels',
      });
    if (claim.status === 'approved')
      drafts.push({
        key: `pay_claim:${claim.id}`,
        kind: 'pay_claim',
        role: 'finance',
        what: `拨付快递补贴 ${claim.id}（${claim.business}）`,
        since: claim.review?.at ?? null,
        due: null,
        anchor: 'parcels',
      });
  }
  return complete(p.programCode, null, drafts);
}
