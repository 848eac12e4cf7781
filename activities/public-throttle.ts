// Throttling of the public's objections and reports (issue 14, R-PUB-1): nobody logs in, so each
// submission is counted in fixed windows per client address, then per publicity item (or per program
// for reports), in PostgreSQL so that every process of one installation shares the count. The address is
// counted first and a refused address counts nothing against the item: one client cannot use up an
// item's allowance and so silence the objections of others.
import type { Pool } from 'pg';

export interface SubmissionLimit {
  key: string;
  /** submissions in one window */
  max: number;
  windowMs: number;
}

const HOUR = 3600_000;
export const PUBLIC_LIMITS = {
  /** one address: objections and reports together */
  client: (address: string): SubmissionLimit => ({
    key: `client:${address}`,
    max: 10,
    windowMs: HOUR,
  }),
  /** one publicity item (a candidate's or a milestone's 公示), from every address */
  item: (code: string, seq: number, milestone: string | null): SubmissionLimit => ({
    key: `item:${code}/${seq}${milestone ? `/${milestone}` : ''}`,
    max: 50,
    windowMs: 24 * HOUR,
  }),
  /** one program's reports, from every address */
  reports: (code: string): SubmissionLimit => ({
    key: `reports:${code}`,
    max: 200,
    windowMs: 24 * HOUR,
  }),
} as const;

/** Counts one submission against each limit in turn; answers the milliseconds until the first limit
 * exceeded lets it through (its later limits are not counted), or 0 when every limit took it. */
export async function countSubmission(
  pool: Pool,
  limits: SubmissionLimit[],
  now: Date,
): Promise<number> {
  for (const l of limits) {
    const { rows } = await pool.query<{ count: number; window_start: Date }>(
      `INSERT INTO submission_throttle AS t (key, count, window_start) VALUES ($1, 1, $2)
       ON CONFLICT (key) DO UPDATE SET
         count = CASE WHEN t.window_start <= $2::timestamptz - make_interval(secs => $3 / 1000.0)
                      THEN 1 ELSE t.count + 1 END,
         window_start = CASE WHEN t.window_start <= $2::timestamptz - make_interval(secs => $3 / 1000.0)
                             THEN $2 ELSE t.window_start END
       RETURNING count, window_start`,
      [l.key, now, l.windowMs],
    );
    const row = rows[0];
    if (row.count > l.max)
      return Math.max(1, row.window_start.getTime() + l.windowMs - now.getTime());
  }
  return 0;
}
