-- Issue 12.3: one idempotency mechanism for every money-moving or record-creating command. A keyed
-- command's row (who, which key, the hash of what was asked) is written by shifan_append in the very
-- statement that appends the command's events, so the two commit or fail together: a crash between the
-- commit and the answer leaves the row, and the retry replays instead of doing the command again. The
-- answer as first sent is added right after the commit (`answer`); when a crash lost it, the replay
-- rebuilds it from the events the row names (stream, first_version..last_version).
CREATE TABLE "idempotency_key" (
  "actor"         TEXT NOT NULL,
  "key"           TEXT NOT NULL,
  "request_hash"  TEXT NOT NULL,
  "command"       TEXT NOT NULL,
  "stream_id"     TEXT NOT NULL,
  "first_version" INTEGER NOT NULL,
  "last_version"  INTEGER NOT NULL,
  "status"        INTEGER NOT NULL,
  "answer"        JSONB,
  "created_at"    TIMESTAMPTZ(3) NOT NULL,
  CONSTRAINT "idempotency_key_pkey" PRIMARY KEY ("actor", "key")
);

-- shifan_append keeps its body (now shifan_append_tasks) and writes the idempotency row after it; the
-- batch function calls shifan_append by name, so it takes the new one. A key used twice at the same
-- moment fails the second append on the primary key (its caller then replays the first).
ALTER FUNCTION shifan_append(text, text, int, jsonb, text, timestamptz, jsonb, jsonb, jsonb, timestamptz, timestamptz)
  RENAME TO shifan_append_tasks;
CREATE FUNCTION shifan_append(
  p_stream text, p_type text, p_expected int, p_state jsonb, p_head text, p_wake timestamptz,
  p_events jsonb, p_views jsonb, p_outbox jsonb, p_now timestamptz, p_next_due timestamptz
) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  v int := shifan_append_tasks(p_stream, p_type, p_expected, p_state, p_head, p_wake, p_events, p_views, p_outbox, p_now, p_next_due);
  i jsonb := p_views->'idempotency';
BEGIN
  IF i IS NOT NULL THEN
    INSERT INTO idempotency_key (actor, key, request_hash, command, stream_id, first_version, last_version, status, created_at)
      VALUES (i->>'actor', i->>'key', i->>'request_hash', i->>'command', p_stream, p_expected + 1, v, (i->>'status')::int, p_now);
  END IF;
  RETURN v;
END $$;

-- Issue 12.4: files are owned per organisation (a user without one owns its own uploads): the same bytes
-- uploaded by another organisation are that organisation's own file, with its own name. `owner` is
-- `org:<organisation>` or `user:<username>`.
ALTER TABLE "evidence_file" ADD COLUMN "owner" TEXT;
UPDATE "evidence_file" SET "owner" = COALESCE('org:' || "org", 'user:' || "uploaded_by");
ALTER TABLE "evidence_file" ALTER COLUMN "owner" SET NOT NULL;
ALTER TABLE "evidence_file" DROP CONSTRAINT "evidence_file_pkey";
ALTER TABLE "evidence_file" ADD CONSTRAINT "evidence_file_pkey" PRIMARY KEY ("sha256", "owner");
