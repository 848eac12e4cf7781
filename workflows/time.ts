// Calendar days are Asia/Shanghai (UTC+8, no daylight saving since 1991): a deadline date means the
// end of that day there. Pure functions of their arguments.
const SHANGHAI_OFFSET_MS = 8 * 3600_000;

/** "2019-10-31" → epoch ms of 2019-10-31T23:59:59.999+08:00. */
export function endOfDayShanghai(day: string): number {
  const t = Date.parse(`${day}T23:59:59.999+08:00`);
  if (Number.isNaN(t)) throw new Error(`not a date: ${day}`);
  return t;
}

/** The Asia/Shanghai calendar day of an instant: "2020-12-31". */
export function shanghaiDay(iso: string | number): string {
  const t = typeof iso === 'number' ? iso : Date.parse(iso);
  return new Date(t + SHANGHAI_OFFSET_MS).toISOString().slice(0, 10);
}

/** "2019-12-30" + 3 → "2020-01-02" (calendar arithmetic on the date itself). */
export function addDays(day: string, n: number): string {
  const t = Date.parse(`${day}T00:00:00Z`);
  if (Number.isNaN(t)) throw new Error(`not a date: ${day}`);
  return new Date(t + n * 86_400_000).toISOString().slice(0, 10);
}

/** Whole calendar days from `from` to `to` (both YYYY-MM-DD). */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

/** For people: an instant as Beijing wall time, "2019-11-26 09:30（北京时间）". */
export function beijingText(iso: string): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const s = new Date(t + SHANGHAI_OFFSET_MS).toISOString();
  return `${s.slice(0, 10)} ${s.slice(11, 16)}（北京时间）`;
}

/** Whole days (started days count) by which `nowMs` is past `deadlineMs`; null when it is not (R-PH-3).
 * The one overdue count everywhere: the program's phase, the program list, the overdue list. */
export function daysOverdue(deadlineMs: number, nowMs: number): number | null {
  const late = nowMs - deadlineMs;
  return late > 0 ? Math.ceil(late / 86_400_000) : null;
}
