-- 待办 as a read model (issue 13): one row per open human task, written by the projections in the
-- append's transaction (workflows/tasks.ts derives them from the new state), so the inbox and the
-- navigation count are one indexed query however many programs the database holds.
-- `show_from` / `show_until`: a task that waits for a moment (open the bids after the deadline, award
-- after the publicity) or ends at one (bid before the deadline); the query compares them with its clock.
CREATE TABLE "task" (
  "stream_id"    TEXT NOT NULL,
  "key"          TEXT NOT NULL,
  "program_code" TEXT NOT NULL,
  "seq"          INTEGER,
  "kind"         TEXT NOT NULL,
  "role"         TEXT NOT NULL,
  "org"          TEXT,
  "what"         TEXT NOT NULL,
  "since"        TIMESTAMPTZ(3),
  "due"          TEXT,
  "due_at"       TIMESTAMPTZ(3),
  "show_from"    TIMESTAMPTZ(3),
  "show_until"   TIMESTAMPTZ(3),
  "anchor"       TEXT NOT NULL,
  "ord"          INTEGER NOT NULL,
  CONSTRAINT "task_pkey" PRIMARY KEY ("stream_id", "key")
);
CREATE INDEX "task_role_org_due_idx" ON "task"("role", "org", "due_at");

-- A stream's open tasks become exactly `p_tasks`: rows no longer open are deleted, new ones inserted, and
-- unchanged ones left alone (most commands change none of a stream's tasks: nothing is written then).
CREATE FUNCTION shifan_put_tasks(p_stream text, p_tasks jsonb) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM task t WHERE t.stream_id = p_stream
     AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(p_tasks) AS n WHERE n->>'key' = t.key);
  INSERT INTO task AS t (stream_id, key, program_code, seq, kind, role, org, what, since, due, due_at, show_from, show_until, anchor, ord)
    SELECT p_stream, r.key, r."programCode", r.seq, r.kind, r.role, r.org, r.what, r.since, r.due, r."dueAt", r."from", r."until", r.anchor, r.ord
      FROM jsonb_to_recordset(p_tasks) AS r(key text, "programCode" text, seq int, kind text, role text, org text, what text,
                                            since timestamptz, due text, "dueAt" timestamptz, "from" timestamptz, "until" timestamptz, anchor text, ord int)
  ON CONFLICT (stream_id, key) DO UPDATE SET
    kind = EXCLUDED.kind, role = EXCLUDED.role, org = EXCLUDED.org, what = EXCLUDED.what, since = EXCLUDED.since,
    due = EXCLUDED.due, due_at = EXCLUDED.due_at, show_from = EXCLUDED.show_from, show_until = EXCLUDED.show_until,
    anchor = EXCLUDED.anchor, ord = EXCLUDED.ord
  WHERE (t.kind, t.role, t.org, t.what, t.since, t.due, t.due_at, t.show_from, t.show_until, t.anchor, t.ord)
        IS DISTINCT FROM
        (EXCLUDED.kind, EXCLUDED.role, EXCLUDED.org, EXCLUDED.what, EXCLUDED.since, EXCLUDED.due, EXCLUDED.due_at,
         EXCLUDED.show_from, EXCLUDED.show_until, EXCLUDED.anchor, EXCLUDED.ord);
END $$;

-- shifan_append keeps its body (now shifan_append_views) and writes the tasks after it; the batch
-- function calls shifan_append by name, so it takes the new one.
ALTER FUNCTION shifan_append(text, text, int, jsonb, text, timestamptz, jsonb, jsonb, jsonb, timestamptz, timestamptz)
  RENAME TO shifan_append_views;
CREATE FUNCTION shifan_append(
  p_stream text, p_type text, p_expected int, p_state jsonb, p_head text, p_wake timestamptz,
  p_events jsonb, p_views jsonb, p_outbox jsonb, p_now timestamptz, p_next_due timestamptz
) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  v int := shifan_append_views(p_stream, p_type, p_expected, p_state, p_head, p_wake, p_events, p_views, p_outbox, p_now, p_next_due);
BEGIN
  IF p_views ? 'tasks' THEN PERFORM shifan_put_tasks(p_stream, p_views->'tasks'); END IF;
  RETURN v;
END $$;

-- Streams written before this migration have no task rows yet: the server derives them once at start
-- (activities/store/tasks.ts) and deletes each stream's row here as it goes.
CREATE TABLE "task_backfill" ("stream_id" TEXT NOT NULL PRIMARY KEY);
INSERT INTO "task_backfill" SELECT id FROM stream WHERE type IN ('program', 'subproject', 'parcels');
