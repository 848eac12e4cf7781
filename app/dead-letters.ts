// Dead letters (issue 12.5): outbox rows the dispatcher gave up on — a permanent failure (a constraint
// violation, a payload it cannot read) or too many transient ones (activities/notify/dispatch.ts) — and
// mails whose sending failed for good. The office sees them (GET /api/outbox/dead) and /healthz counts
// them; a dead mail goes back to pending through POST /api/mail/:id/retry (app/admin.ts retryMail).
import type { AppContext } from './context';

export interface DeadOutboxRow {
  id: number;
  /** the stream whose event made the row (subproject-tengzhou-2019-1, …) and the event's version */
  streamId: string;
  version: number;
  programCode: string | null;
  eventType: string | null;
  /** the notices it was to issue (tender_announcement, …) */
  notices: string[];
  attempts: number;
  lastError: string | null;
  createdAt: string;
  deadAt: string;
}

/** Every dead outbox row, oldest first, with its error and attempt count. */
export async function deadLetters(ctx: AppContext): Promise<{ items: DeadOutboxRow[] }> {
  const { rows } = await ctx.pool.query<{
    id: string;
    stream_id: string;
    version: number;
    program_code: string | null;
    event_type: string | null;
    notices: string[] | null;
    attempts: number;
    last_error: string | null;
    created_at: Date;
    dead_at: Date;
  }>(
    `SELECT id, stream_id, version, payload->>'programCode' AS program_code, payload->>'eventType' AS event_type,
            CASE WHEN jsonb_typeof(payload->'notices') = 'array'
                 THEN ARRAY(SELECT n->>'kind' FROM jsonb_array_elements(payload->'notices') AS n) END AS notices,
            attempts, last_error, created_at, dead_at
       FROM outbox WHERE dead_at IS NOT NULL ORDER BY id`,
  );
  return {
    items: rows.map((r) => ({
      id: Number(r.id),
      streamId: r.stream_id,
      version: r.version,
      programCode: r.program_code,
      eventType: r.event_type,
      notices: (r.notices ?? []).filter((k): k is string => typeof k === 'string'),
      attempts: r.attempts,
      lastError: r.last_error,
      createdAt: r.created_at.toISOString(),
      deadAt: r.dead_at.toISOString(),
    })),
  };
}

/** How many outbox rows and mails are dead (the /healthz detail). */
export async function deadLetterCount(ctx: AppContext): Promise<{ outbox: number; mail: number }> {
  const {
    rows: [r],
  } = await ctx.pool.query<{ outbox: number; mail: number }>(
    `SELECT (SELECT count(*)::int FROM outbox WHERE dead_at IS NOT NULL) AS outbox,
            (SELECT count(*)::int FROM mail_message WHERE status = 'dead') AS mail`,
  );
  return { outbox: r.outbox, mail: r.mail };
}
