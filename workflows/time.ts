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
