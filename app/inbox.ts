// 待办: every act a user must take now, by role and organisation, with since when, the due date and a
// link to its form. One indexed query on the `task` read model, which the projections keep in the
// append's transaction from the same states the commands are decided on (workflows/tasks.ts), so a
// task shows exactly when its command would be accepted.
import type { Actor } from '../workflows/program/types';
import type { TaskKind } from '../workflows/tasks';
import { daysOverdue } from '../workflows/time';
import type { AppContext } from './context';

export interface Task {
  kind: TaskKind;
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

/** How many tasks one page of the inbox lists (the count in the navigation counts them all). */
export const INBOX_PAGE = 100;

const DAY = 86_400_000;

function timing(dueAt: Date | null, nowMs: number) {
  if (!dueAt) return { daysLeft: null, overdue: false };
  const late = daysOverdue(dueAt.getTime(), nowMs);
  return late !== null
    ? { daysLeft: -late, overdue: true }
    : { daysLeft: Math.floor((dueAt.getTime() - nowMs) / DAY), overdue: false };
}

// the user's open tasks at $3: its role's, and a contractor's only those of its organisation (or open
// to every contractor: a tender's bidding), in active programs
const FROM = `task t JOIN program p ON p.code = t.program_code AND p.status = 'active'`;
// a contractor's: those of its organisation and those open to every contractor; anyone else's: the
// role's (org NULL). Two shapes, so that each is one range of the index (task_inbox_idx).
const WHEN = `(t.show_from IS NULL OR t.show_from <= $3) AND (t.show_until IS NULL OR t.show_until > $3)`;
const openFor = (contractor: boolean) =>
  `t.role = $1 AND ${contractor ? '(t.org IS NULL OR t.org = $2)' : '(t.org IS NULL AND $2::text IS NULL)'} AND ${WHEN}`;

interface Row {
  kind: TaskKind;
  what: string;
  program_code: string;
  program_name: string;
  seq: number | null;
  subproject_name: string | null;
  since: Date | null;
  due: string | null;
  due_at: Date | null;
  anchor: string;
}

function params(ctx: AppContext, actor: Actor): [string, string | null, Date] {
  return [
    actor.role,
    actor.role === 'contractor' ? (actor.org ?? '') : null,
    ctx.engine.clock.now(),
  ];
}

/** The user's open tasks, the overdue first (the earliest due first), then those without a due date. */
export async function inbox(
  ctx: AppContext,
  actor: Actor,
  page = 1,
  limit = INBOX_PAGE,
): Promise<Task[]> {
  if (actor.role === 'system') return [];
  const values = params(ctx, actor);
  const { rows } = await ctx.pool.query<Row>(
    `SELECT t.kind, t.what, t.program_code, p.name AS program_name, t.seq, s.name AS subproject_name,
            t.since, t.due, t.due_at, t.anchor
       FROM ${FROM} LEFT JOIN subproject s ON s.program_code = t.program_code AND s.seq = t.seq
      WHERE ${openFor(actor.role === 'contractor')}
      ORDER BY t.due_at, t.since, t.program_code, t.seq, t.ord
      LIMIT $4 OFFSET $5`,
    [...values, limit, (page - 1) * limit],
  );
  const nowMs = values[2].getTime();
  return rows.map((r) => ({
    kind: r.kind,
    what: r.what,
    programCode: r.program_code,
    programName: r.program_name,
    seq: r.seq,
    subprojectName: r.subproject_name,
    since: r.since?.toISOString() ?? null,
    due: r.due,
    ...timing(r.due_at, nowMs),
    href: `/programs/${r.program_code}${r.seq === null ? '' : `/subprojects/${r.seq}`}#${r.anchor}`,
  }));
}

/** How many open tasks the user has (the count in the navigation). */
export async function inboxCount(ctx: AppContext, actor: Actor): Promise<number> {
  if (actor.role === 'system') return 0;
  const { rows } = await ctx.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${FROM} WHERE ${openFor(actor.role === 'contractor')}`,
    params(ctx, actor),
  );
  return rows[0].n;
}

/** 待办 as the page and `GET /api/me/tasks` show it: one page of `INBOX_PAGE` tasks (the first by
 * default), how many there are in all, and how many pages that makes. */
export async function myTasks(
  ctx: AppContext,
  actor: Actor,
  page = 1,
): Promise<{ total: number; page: number; pages: number; tasks: Task[] }> {
  const [tasks, total] = await Promise.all([inbox(ctx, actor, page), inboxCount(ctx, actor)]);
  return { total, page, pages: Math.max(1, Math.ceil(total / INBOX_PAGE)), tasks };
}
