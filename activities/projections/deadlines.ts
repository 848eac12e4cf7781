// The open deadlines of one stream's state: milestone due dates, rectification and clawback deadlines,
// phase ends, bid deadlines. Pure mapping; the reminders, the monthly digest and the overdue list read
// them, and each append stores the earliest as the stream's `next_due`, so that those reads fold only the
// streams with something due by then.
import type { ActiveProgram } from '../../workflows/program/decider';
import type { SubprojectCore } from '../../workflows/subproject/types';
import { endOfDayShanghai } from '../../workflows/time';
import type { Recipients } from '../notify/effects';

export interface Deadline {
  key: string;
  programCode: string;
  what: string;
  deadline: string;
  party: string;
  to: Recipients;
}

export function programDeadlines(id: string, p: ActiveProgram): Deadline[] {
  const phase = p.def.phases[p.phaseIndex];
  return phase?.end
    ? [
        {
          key: `${id}:phase:${phase.key}`,
          programCode: p.def.code,
          what: `${p.def.name}「${phase.name}」阶段`,
          deadline: new Date(endOfDayShanghai(phase.end)).toISOString(),
          party: '领导小组办公室',
          to: { roles: ['office'] },
        },
      ]
    : [];
}

export function subprojectDeadlines(id: string, s: SubprojectCore): Deadline[] {
  const out: Deadline[] = [];
  const label = `${s.programCode} 分项目${s.seq}「${s.name}」`;
  const org = s.award?.org ?? null;
  const d = s.delivery;
  if (s.stage === 'bidding') {
    const t = s.tenders[s.tenders.length - 1];
    out.push({
      key: `${id}:bid:${t.round}`,
      programCode: s.programCode,
      what: `${label}投标截止`,
      deadline: t.bidDeadline,
      party: '领导小组办公室',
      to: { roles: ['office'] },
    });
  }
  if (d.terminated) {
    const c = d.clawback;
    if (c && !c.settledAt)
      out.push({
        key: `${id}:clawback`,
        programCode: s.programCode,
        what: `${label}追回资金`,
        deadline: c.deadline,
        party: org ?? '承办单位',
        to: { org, roles: ['finance'] },
      });
    return out;
  }
  for (const m of s.contract?.milestones ?? []) {
    const st = d.milestones[m.key];
    if (!st) continue;
    if (st.status === 'planned')
      out.push({
        key: `${id}:due:${m.key}`,
        programCode: s.programCode,
        what: `${label}里程碑 ${m.key}「${m.title}」`,
        deadline: new Date(endOfDayShanghai(m.due)).toISOString(),
        party: org ?? '承办单位',
        to: { org },
      });
    if (st.status === 'rectifying' && st.rectification)
      out.push({
        key: `${id}:rectify:${m.key}:${st.rejections}`,
        programCode: s.programCode,
        what: `${label}里程碑 ${m.key} 整改`,
        deadline: st.rectification.deadline,
        party: org ?? '承办单位',
        to: { org },
      });
  }
  return out;
}

/** The earliest deadline among them, 'infinity' when there is none (stream.next_due). */
export function earliest(deadlines: Deadline[]): string {
  let min = 'infinity';
  let t = Infinity;
  for (const x of deadlines) {
    const v = Date.parse(x.deadline);
    if (v < t) {
      t = v;
      min = x.deadline;
    }
  }
  return min;
}
