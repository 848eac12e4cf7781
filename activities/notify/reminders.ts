// Deadlines people must hear about before they pass (reminders, N days ahead) and after (the monthly
// supervision digest, 每月督查: everything overdue, per responsible party, R-PH-3). Read from the
// aggregates' state; the mails are queued like any other, keyed so each is sent once.
import type { Pool } from 'pg';
import { beijingText, daysBetween, endOfDayShanghai, shanghaiDay } from '../../workflows/time';
import type { ActiveProgram } from '../../workflows/program/decider';
import type { SubprojectCore } from '../../workflows/subproject/types';
import type { Recipients } from './effects';
import { programAggregate, subprojectAggregate } from '../aggregates';
import { loadStates } from '../store/event-store';

export interface Deadline { key: string; programCode: string; what: string; deadline: string; party: string; to: Recipients }

/** Every open deadline: milestone due dates, rectification and clawback deadlines, phase ends, bid deadlines. */
export async function openDeadlines(pool: Pool): Promise<Deadline[]> {
  const out: Deadline[] = [];
  const programs = (await loadStates(pool, 'program', programAggregate)).filter((p) => p.state.status === 'active');
  for (const { id, state } of programs) {
    const p = state as ActiveProgram;
    const phase = p.def.phases[p.phaseIndex];
    if (phase?.end) out.push({ key: `${id}:phase:${phase.key}`, programCode: p.def.code, what: `${p.def.name}「${phase.name}」阶段`, deadline: new Date(endOfDayShanghai(phase.end)).toISOString(), party: '领导小组办公室', to: { roles: ['office'] } });
  }
  const subs = (await loadStates(pool, 'subproject', subprojectAggregate)).filter((x) => x.state.status === 'active');
  for (const { id, state } of subs) {
    const s = state as SubprojectCore;
    const label = `${s.programCode} 分项目${s.seq}「${s.name}」`;
    const org = s.award?.org ?? null;
    const d = s.delivery;
    if (s.stage === 'bidding') {
      const t = s.tenders[s.tenders.length - 1];
      out.push({ key: `${id}:bid:${t.round}`, programCode: s.programCode, what: `${label}投标截止`, deadline: t.bidDeadline, party: '领导小组办公室', to: { roles: ['office'] } });
    }
    if (d.terminated) {
      const c = d.clawback;
      if (c && !c.settledAt) out.push({ key: `${id}:clawback`, programCode: s.programCode, what: `${label}追回资金`, deadline: c.deadline, party: org ?? '承办单位', to: { org, roles: ['finance'] } });
      continue;
    }
    for (const m of s.contract?.milestones ?? []) {
      const st = d.milestones[m.key];
      if (!st) continue;
      if (st.status === 'planned') out.push({ key: `${id}:due:${m.key}`, programCode: s.programCode, what: `${label}里程碑 ${m.key}「${m.title}」`, deadline: new Date(endOfDayShanghai(m.due)).toISOString(), party: org ?? '承办单位', to: { org } });
      if (st.status === 'rectifying' && st.rectification) out.push({ key: `${id}:rectify:${m.key}:${st.rejections}`, programCode: s.programCode, what: `${label}里程碑 ${m.key} 整改`, deadline: st.rectification.deadline, party: org ?? '承办单位', to: { org } });
    }
  }
  return out;
}

/** Deadlines not yet passed whose Beijing calendar day is at most `days` days away. */
export const upcoming = (all: Deadline[], now: Date, days: number) =>
  all.filter((x) => Date.parse(x.deadline) >= now.getTime()
    && daysBetween(shanghaiDay(now.toISOString()), shanghaiDay(x.deadline)) <= days);

/** Overdue deadlines grouped by responsible party, for the monthly digest. */
export function overdueByParty(all: Deadline[], now: Date): { name: string; items: { what: string; deadline: string }[] }[] {
  const late = all.filter((x) => Date.parse(x.deadline) < now.getTime()).sort((a, b) => a.deadline.localeCompare(b.deadline));
  const parties = new Map<string, { what: string; deadline: string }[]>();
  for (const x of late) parties.set(x.party, [...(parties.get(x.party) ?? []), { what: x.what, deadline: x.deadline }]);
  return [...parties.entries()].map(([name, items]) => ({ name, items }));
}

/** "2020年8月" of an instant, Beijing time; and its key "2020-08". */
export function monthOf(now: Date): { key: string; text: string } {
  const day = shanghaiDay(now.toISOString());
  return { key: day.slice(0, 7), text: `${Number(day.slice(0, 4))}年${Number(day.slice(5, 7))}月` };
}
export { beijingText };
