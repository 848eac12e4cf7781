// Login throttling (issue 12.6): failed log-ins are counted per username and per client address in
// `login_throttle`, in PostgreSQL so that every process of one installation shares the count. From the
// threshold on, each further failure locks the key for twice as long (1 s, 2 s, 4 s … up to 15 min); a
// locked key is refused without checking the password. Counts start again after 15 minutes without a
// failure. Unknown usernames are counted exactly like known ones: the answers never tell them apart.
import type { Pool, PoolClient } from 'pg';

export const THROTTLE = {
  /** failures of one username before it is locked */
  perUser: 5,
  /** failures from one address (several users of an office share one) */
  perClient: 20,
  /** a quiet period after which a key's count starts again */
  windowMs: 15 * 60_000,
  maxLockMs: 15 * 60_000,
} as const;

export interface ThrottleKey {
  key: string;
  threshold: number;
}

export const userKey = (username: string): ThrottleKey => ({
  key: `user:${username.toLowerCase()}`,
  threshold: THROTTLE.perUser,
});
export const clientKey = (address: string): ThrottleKey => ({
  key: `client:${address}`,
  threshold: THROTTLE.perClient,
});

/** How long a key stays locked after its `failures`-th failure (0: not locked). */
export function lockMs(failures: number, threshold: number): number {
  if (failures < threshold) return 0;
  return Math.min(THROTTLE.maxLockMs, 1000 * 2 ** Math.min(failures - threshold, 30));
}

type Db = Pool | PoolClient;

/** Milliseconds until every one of `keys` is free again (0: none is locked). */
export async function lockedFor(db: Db, keys: ThrottleKey[], now: Date): Promise<number> {
  const { rows } = await db.query<{ until: Date }>(
    `SELECT max(locked_until) AS until FROM login_throttle WHERE key = ANY($1) AND locked_until > $2`,
    [keys.map((k) => k.key), now],
  );
  const until = rows[0]?.until;
  return until ? until.getTime() - now.getTime() : 0;
}

/** Counts a failure against each key; answers the longest lock it caused (0: none). */
export async function recordFailure(db: Db, keys: ThrottleKey[], now: Date): Promise<number> {
  let longest = 0;
  for (const k of keys) {
    const { rows } = await db.query<{ failures: number }>(
      `INSERT INTO login_throttle AS l (key, failures, last_failure_at) VALUES ($1, 1, $2)
       ON CONFLICT (key) DO UPDATE SET
         failures = CASE WHEN l.last_failure_at < $2::timestamptz - make_interval(secs => $3 / 1000.0)
                         THEN 1 ELSE l.failures + 1 END,
         last_failure_at = $2
       RETURNING failures`,
      [k.key, now, THROTTLE.windowMs],
    );
    const ms = lockMs(rows[0].failures, k.threshold);
    if (ms) {
      await db.query('UPDATE login_throttle SET locked_until = $2 WHERE key = $1', [
        k.key,
        new Date(now.getTime() + ms),
      ]);
      longest = Math.max(longest, ms);
    }
  }
  return longest;
}

/** A key's failures are forgotten (a successful log-in, or the office unlocking a user). */
export async function clearFailures(db: Db, key: ThrottleKey): Promise<void> {
  await db.query('DELETE FROM login_throttle WHERE key = $1', [key.key]);
}

/** A username's throttle as the office sees it (null: no failures counted). */
export async function userThrottle(
  db: Db,
  usernames: string[],
  now: Date,
): Promise<Map<string, { failures: number; lockedUntil: string | null }>> {
  const { rows } = await db.query<{ key: string; failures: number; locked_until: Date | null }>(
    `SELECT key, failures, locked_until FROM login_throttle
      WHERE key = ANY($1) AND last_failure_at > $2`,
    [usernames.map((u) => userKey(u).key), new Date(now.getTime() - THROTTLE.windowMs)],
  );
  const byKey = new Map(rows.map((r) => [r.key, r]));
  const out = new Map<string, { failures: number; lockedUntil: string | null }>();
  for (const u of usernames) {
    const r = byKey.get(userKey(u).key);
    if (r)
      out.set(u, {
        failures: r.failures,
        lockedUntil: r.locked_until && r.locked_until > now ? r.locked_until.toISOString() : null,
      });
  }
  return out;
}
