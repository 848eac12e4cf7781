// Deadlines people must hear about before they pass (reminders, N days ahead) and after (the monthly
// supervision digest, 每月督查: everything overdue, per responsible party, R-PH-3). Read from the
// aggregates' state; the mails are queued like any other, keyed so each is sent once.
import type { Pool } from 'pg';
import { beijingText, daysBetween, shanghaiDay } from '../../workflows/time';
import type { ActiveProgram } from '../../workflows/program/decider';
import type { SubprojectCore } from '../../workflows/subproject/types';
import { programDeadlines, subprojectDeadlines, type Deadline } from '../projections/deadlines';
import { programAggregate, subprojectAggregate } from '../aggregates';
import { loadStates } from '../store/event-store';

export type { Deadline };

/**
 * Every open deadline due by `before` (all of them without it). Only streams whose stored `next_due` is
 * by then (or not yet known) are folded, through the index on it.
 */
export async function openDeadlines(pool: Pool, before?: Date): Promise<Deadline[]> {
  const programs = (await loadStates(pool, 'program', programAggregate, before)).filter(
    (p) => p.state.status === 'active',
  );
  const subs = (await loadStates(pool, 'subproject', subprojectAggregate, before)).filter(
    (x) => x.state.status === 'active',
  );
  const all = [
    ...programs.flatMap(({ id, state }) => programDeadlines(id, state as ActiveProgram)),
    ...subs.flatMap(({ id, state }) => subprojectDeadlines(id, state as SubprojectCore)),
  ];
  return before ? all.filter((x) => Date.parse(x.deadline) <= before.getTime()) : all;
}

/** Deadlines not yet passed whose Beijing calendar day is at most `days` days away. */
export const upcoming = (all: Deadline[], now: Date, days: number) =>
  all.filter(
    (x) =>
      Date.parse(x.deadline) >= now.getTime() &&
      daysBetween(shanghaiDay(now.toISOString()), shanghaiDay(x.deadline)) <= days,
  );

/** Overdue deadlines grouped by responsible party, for the monthly digest. */
export function overdueByParty(
  all: Deadline[],
  now: Date,
): { name: string; items: { what: string; deadline: string }[] }[] {
  const late = all
    .filter((x) => Date.parse(x.deadline) < now.getTime())
    .sort((a, b) => a.deadline.localeCompare(b.deadline));
  const parties = new Map<string, { what: string; deadline: string }[]>();
  for (const x of late)
    parties.set(x.party, [...(parties.get(x.party) ?? []), { what: x.what, deadline: x.deadline }]);
  return [...parties.entries()].map(([name, items]) => ({ name, items }));
}

/** "2020年8月" of an instant, Beijing time; and its key "2020-08". */
export function monthOf(now: Date): { key: string; text: string } {
  const day = shanghaiDay(now.toISOString());
  return { key: day.slice(0, 7), text: `${Number(day.slice(0, 4))}年${Number(day.slice(5, 7))}月` };
}
export { beijingText };
