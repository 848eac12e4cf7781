// 待办: every act a user must take now, by role and organisation, with since when, the due date and a
// link to its form. Folded from the program, subproject and parcel states (the same states the
// commands are decided on), so a task shows exactly when its command would be accepted.
import {
  programAggregate,
  parcelsAggregate,
  subprojectAggregate,
  subprojectKey,
} from '../engine/aggregates';
import { gateStatuses, type ActiveProgram } from '../workflows/program/decider';
import type { Actor } from '../workflows/program/types';
import { trancheDisbursed } from '../workflows/subproject/delivery';
import type { SubprojectCore } from '../workflows/subproject/types';
import { daysOverdue, endOfDayShanghai } from '../workflows/time';
import type { AppContext } from './context';

export interface Task {
  kind: string;
  /** what to do, in Chinese */
  what: string;
  programCode: string;
  programName: string;
  seq: number | null;
  subprojectName: string | null;
  since: string | null;
  due: string | null;
  /** whole days left (0 = due today), or negative: days overdue */
  daysLeft: number | null;
  overdue: boolean;
  /** the page (and anchor) holding the form */
  href: string;
}

const DAY = 86_400_000;

function timing(due: string | null, nowMs: number) {
  if (!due) return { daysLeft: null, overdue: false };
  const end = /^\d{4}-\d{2}-\d{2}$/.test(due) ? endOfDayShanghai(due) : Date.parse(due);
  const late = daysOverdue(end, nowMs);
  return late !== null
    ? { daysLeft: -late, overdue: true }
    : { daysLeft: Math.floor((end - nowMs) / DAY), overdue: false };
}

/** The office's open gate acts and findings (computed gates are the system's, not a task). */
function programTasks(p: ActiveProgram, actor: Actor): Omit<Task, 'daysLeft' | 'overdue'>[] {
  if (actor.role !== 'office' || p.status !== 'active') return [];
  const phase = p.def.phases[p.phaseIndex];
  const href = `/programs/${p.def.code}`;
  const base = {
    programCode: p.def.code,
    programName: p.def.name,
    seq: null,
    subprojectName: null,
  };
  const tasks: Omit<Task, 'daysLeft' | 'overdue'>[] = gateStatuses(p)
    .filter((g) => g.open && g.kind === 'act')
    .map((g) => ({
      ...base,
      kind: 'gate',
      what: `登记关口：${g.name}`,
      since: p.phaseEnteredAt,
      due: phase?.end ?? null,
      href: `${href}#gate-${g.key}`,
    }));
  for (const f of p.findings.filter((x) => !x.closed))
    tasks.push({
      ...base,
      kind: 'finding',
      what: `整改事项销号：${f.title}`,
      since: null,
      due: f.due,
      href: `${href}#findings`,
    });
  return tasks;
}

function subprojectTasks(
  s: SubprojectCore,
  actor: Actor,
  programName: string,
  nowIso: string,
): Omit<Task, 'daysLeft' | 'overdue'>[] {
  const out: Omit<Task, 'daysLeft' | 'overdue'>[] = [];
  const href = `/programs/${s.programCode}/subprojects/${s.seq}`;
  const base = { programCode: s.programCode, programName, seq: s.seq, subprojectName: s.name };
  const add = (
    kind: string,
    what: string,
    since: string | null,
    due: string | null,
    anchor: string,
  ) => out.push({ ...base, kind, what, since, due, href: `${href}#${anchor}` });
  const t = s.tenders[s.tenders.length - 1];
  const mine = actor.role === 'contractor' && s.award?.org === actor.org;
  const now = Date.parse(nowIso);

  if (actor.role === 'office' && t) {
    if (s.stage === 'bidding' && Date.parse(t.bidDeadline) <= now)
      add('open_bids', '开标（投标已截止）', t.bidDeadline, null, 'opening');
    if (s.stage === 'closed')
      add('open_bids', '开标（投标已截止）', t.biddingClosedAt ?? t.bidDeadline, null, 'opening');
    if (s.stage === 'opened' && t.scores)
      add('propose', '确定中标候选人并公示', t.openedAt, null, 'candidate');
    if (s.stage === 'opened' && !t.scores) add('score', '记录评标得分', t.openedAt, null, 'scores');
    for (const o of t.objections.filter((x) => !x.resolution))
      add('objection', `处理异议：${o.text.slice(0, 30)}`, o.at, null, 'objections');
    if (
      s.stage === 'publicity' &&
      t.candidate &&
      !t.objections.some((o) => !o.resolution) &&
      Date.parse(t.candidate.publicityEnds) <= now
    )
      add(
        'award',
        `定标：${t.candidate.org}（公示期满）`,
        t.candidate.publicityEnds,
        null,
        'award',
      );
  }
  if (actor.role === 'evaluator' && s.stage === 'opened' && t && !t.scores)
    add('score', '评标打分', t.openedAt, null, 'scores');
  if (
    actor.role === 'contractor' &&
    s.stage === 'bidding' &&
    t &&
    Date.parse(t.bidDeadline) > now
  ) {
    const bid = t.bids.some((b) => !b.withdrawn && b.org === actor.org);
    add('bid', bid ? '投标已提交（截止前可替换）' : '可投标', t.openedAt, t.bidDeadline, 'bid');
  }
  for (const m of Object.values(s.delivery.milestones)) {
    const plan = s.contract?.milestones.find((x) => x.key === m.key);
    const title = plan?.title ?? m.key;
    const last = m.submissions[m.submissions.length - 1];
    if (actor.role === 'evaluator' && m.status === 'submitted')
      add('pre_evaluate', `预评里程碑：${title}`, last?.at ?? null, null, `milestone-${m.key}`);
    if (actor.role === 'office' && m.status === 'pre_evaluated')
      add('decide', `验收决定：${title}`, m.evaluation?.at ?? null, null, `milestone-${m.key}`);
    if (actor.role === 'office' && m.publicity)
      for (const o of m.publicity.objections.filter((x) => !x.resolution))
        add('objection', `处理验收异议：${o.text.slice(0, 30)}`, o.at, null, `milestone-${m.key}`);
    if (
      actor.role === 'office' &&
      m.status === 'rectifying' &&
      m.rectification &&
      Date.parse(m.rectification.deadline) < now
    )
      add(
        'rectification_overdue',
        `整改逾期：${title}`,
        m.rectification.orderedAt,
        m.rectification.deadline,
        `milestone-${m.key}`,
      );
    if (mine && m.status === 'planned' && !s.delivery.terminated)
      add(
        'submit',
        `提交里程碑：${title}`,
        s.contract?.signedAt ?? null,
        plan?.due ?? null,
        `milestone-${m.key}`,
      );
    if (mine && m.status === 'rectifying' && m.rectification)
      add(
        'rectify',
        `整改后重新提交：${title}`,
        m.rectification.orderedAt,
        m.rectification.deadline,
        `milestone-${m.key}`,
      );
  }
  if (actor.role === 'finance' && !s.delivery.terminated)
    for (const tr of s.contract?.tranches ?? []) {
      const m = s.delivery.milestones[tr.milestone];
      if (m?.status === 'accepted' && trancheDisbursed(s, tr.key) < tr.amount)
        add(
          'release',
          `拨付批次 ${tr.key}`,
          m.publicity?.endedAt ?? null,
          null,
          `tranche-${tr.key}`,
        );
    }
  const c = s.delivery.clawback;
  if (c && !c.settledAt && (actor.role === 'finance' || mine))
    add(
      'clawback',
      actor.role === 'finance' ? '登记追回款' : '退回已拨付资金',
      c.demandedAt,
      c.deadline,
      'clawback',
    );
  return out;
}

/** The user's open tasks, the overdue first, then by due date. */
export async function inbox(ctx: AppContext, actor: Actor): Promise<Task[]> {
  const nowMs = ctx.engine.clock.now().getTime();
  const nowIso = new Date(nowMs).toISOString();
  const programs = await ctx.prisma.program.findMany({
    where: { status: 'active' },
    select: { code: true },
  });
  const tasks: Omit<Task, 'daysLeft' | 'overdue'>[] = [];
  for (const { code } of programs) {
    const { state: p } = await ctx.engine.read(programAggregate, code);
    if (p.status !== 'active') continue;
    const subs = await Promise.all(
      p.def.subprojects.map(
        async (sp) =>
          (await ctx.engine.read(subprojectAggregate, subprojectKey(code, sp.seq))).state,
      ),
    );
    tasks.push(...programTasks(p, actor));
    for (const s of subs)
      if (
        s.status === 'active' &&
        (actor.role !== 'contractor' || !s.award || s.award.org === actor.org)
      )
        tasks.push(...subprojectTasks(s, actor, p.def.name, nowIso));
    if (actor.role === 'finance' || actor.role === 'office') {
      const { state: parcels } = await ctx.engine.read(parcelsAggregate, code);
      if (parcels.status === 'active')
        for (const claim of parcels.claims) {
          if (actor.role === 'finance' && claim.status === 'approved')
            tasks.push({
              kind: 'pay_claim',
              what: `拨付快递补贴 ${claim.id}（${claim.business}）`,
              programCode: code,
              programName: p.def.name,
              seq: null,
              subprojectName: null,
              since: claim.review?.at ?? null,
              due: null,
              href: `/programs/${code}#parcels`,
            });
          if (actor.role === 'office' && claim.status === 'submitted')
            tasks.push({
              kind: 'review_claim',
              what: `审核快递补贴申报 ${claim.id}（${claim.business}）`,
              programCode: code,
              programName: p.def.name,
              seq: null,
              subprojectName: null,
              since: claim.submittedAt,
              due: null,
              href: `/programs/${code}#parcels`,
            });
        }
    }
  }
  return tasks
    .map((x) => ({ ...x, ...timing(x.due, nowMs) }))
    .sort(
      (a, b) =>
        Number(b.overdue) - Number(a.overdue) || (a.due ?? '9999').localeCompare(b.due ?? '9999'),
    );
}
