-- The append path, cheaper for PostgreSQL per command:
-- * a stream's folded state (a subproject's is 3-5 KB) stays in its row, uncompressed, up to ~8 KB:
--   no TOAST chunks written and compressed on every command (toast_tuple_target), and room on the page
--   for the new row version (fillfactor);
-- * the stored state is a snapshot: `state_lag` events may follow it (the engine writes the state again
--   every 16 events, activities/store/append.ts), so most appends send and write only their events;
-- * a subproject's status row is written only when its status, stage or contractor changed;
-- * `next_due`: the stream's earliest open deadline (milestone due, rectification, clawback, bid deadline,
--   phase end; 'infinity' when none, NULL until the stream's next append after this migration), so that
--   the reminders, the monthly digest and the overdue list fold only the streams with something due.
ALTER TABLE "stream" SET (toast_tuple_target = 8160, fillfactor = 80);
ALTER TABLE "stream" ADD COLUMN "state_lag" INTEGER NOT NULL DEFAULT 0;
COMMENT ON COLUMN "stream"."state_lag" IS 'events after the stored state: fold events version - state_lag + 1 .. version onto it';
ALTER TABLE "stream" ADD COLUMN "next_due" TIMESTAMPTZ(3);
CREATE INDEX "stream_next_due_idx" ON "stream"("next_due");
COMMENT ON COLUMN "stream"."next_due" IS 'earliest open deadline of the state (infinity: none; NULL: not computed yet)';

DROP FUNCTION shifan_append(text, text, int, jsonb, text, timestamptz, jsonb, jsonb, jsonb, timestamptz);

CREATE FUNCTION shifan_append(
  p_stream text, p_type text, p_expected int, p_state jsonb, p_head text, p_wake timestamptz,
  p_events jsonb, p_views jsonb, p_outbox jsonb, p_now timestamptz, p_next_due timestamptz
) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  v int := p_expected + jsonb_array_length(p_events);
BEGIN
  IF p_expected = 0 THEN
    IF p_state IS NULL THEN RAISE EXCEPTION 'a new stream % needs its state', p_stream; END IF;
    INSERT INTO stream (id, type, version, state, state_lag, head_hash, wake_at, next_due, updated_at)
      VALUES (p_stream, p_type, v, p_state, 0, p_head, p_wake, p_next_due, p_now) ON CONFLICT (id) DO NOTHING;
  ELSIF p_state IS NULL THEN -- keep the snapshot: the new events follow it
    UPDATE stream SET version = v, state_lag = state_lag + (v - p_expected), head_hash = p_head, wake_at = p_wake, next_due = p_next_due, updated_at = p_now
      WHERE id = p_stream AND version = p_expected;
  ELSE
    UPDATE stream SET version = v, state = p_state, state_lag = 0, head_hash = p_head, wake_at = p_wake, next_due = p_next_due, updated_at = p_now
      WHERE id = p_stream AND version = p_expected;
  END IF;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'stream % is no longer at version %', p_stream, p_expected USING ERRCODE = 'SF409';
  END IF;

  INSERT INTO event (stream_id, version, type, data, actor, role, command, reason, at, prev_hash, hash)
    SELECT p_stream, e.version, e.type, e.data, e.actor, e.role, e.command, e.reason, e.at, e.prev_hash, e.hash
      FROM jsonb_to_recordset(p_events) AS e(version int, type text, data jsonb, actor text, role text,
                                             command text, reason text, at timestamptz, prev_hash text, hash text);

  IF p_views ? 'program' THEN
    INSERT INTO program SELECT * FROM jsonb_populate_record(NULL::program, p_views->'program')
    ON CONFLICT (code) DO UPDATE SET
      name = EXCLUDED.name, phase_key = EXCLUDED.phase_key, phase_name = EXCLUDED.phase_name,
      phase_index = EXCLUDED.phase_index, phase_end = EXCLUDED.phase_end, status = EXCLUDED.status,
      central_fen = EXCLUDED.central_fen, local_fen = EXCLUDED.local_fen, enterprise_fen = EXCLUDED.enterprise_fen,
      total_fen = EXCLUDED.total_fen, version = EXCLUDED.version, updated_at = EXCLUDED.updated_at;
  END IF;
  IF p_views ? 'subprojects' THEN
    INSERT INTO subproject SELECT * FROM jsonb_populate_recordset(NULL::subproject, p_views->'subprojects')
    ON CONFLICT (program_code, seq) DO UPDATE SET
      name = EXCLUDED.name, direction = EXCLUDED.direction, procurement = EXCLUDED.procurement,
      deadline = EXCLUDED.deadline, central_fen = EXCLUDED.central_fen,
      local_fen = EXCLUDED.local_fen, enterprise_fen = EXCLUDED.enterprise_fen;
  END IF;
  IF p_views ? 'subproject_state' THEN
    UPDATE subproject s SET status = r.status, stage = r.stage, contractor_org = r.contractor_org
      FROM jsonb_to_record(p_views->'subproject_state') AS r(program_code text, seq int, status text, stage text, contractor_org text)
     WHERE s.program_code = r.program_code AND s.seq = r.seq
       AND (s.status, s.stage, s.contractor_org) IS DISTINCT FROM (r.status, r.stage, r.contractor_org);
  END IF;

  IF p_views ? 'ledger_entries' THEN
    INSERT INTO ledger_entry (program_code, seq, stream_id, version, kind, source, amount_fen, tranche, idempotency_key, org, at)
      SELECT r.program_code, r.seq, p_stream, r.version, r.kind, r.source, r.amount_fen, r.tranche, r.idempotency_key, r.org, r.at
        FROM jsonb_to_recordset(p_views->'ledger_entries') AS r(program_code text, seq int, version int, kind text, source text,
                                                            amount_fen bigint, tranche text, idempotency_key text, org text, at timestamptz)
    ON CONFLICT (stream_id, version, kind, source) DO NOTHING;
  END IF;
  IF p_views ? 'notices' THEN
    INSERT INTO notice (program_code, seq, kind, title, body, org, stream_id, version, at)
      SELECT r.program_code, r.seq, r.kind, r.title, r.body, r.org, p_stream, r.version, r.at
        FROM jsonb_to_recordset(p_views->'notices') AS r(program_code text, seq int, kind text, title text, body text, org text, version int, at timestamptz)
    ON CONFLICT (stream_id, version, kind) DO NOTHING;
  END IF;
  IF p_views ? 'waybills' THEN
    -- a waybill claimed before makes the whole command fail (unique violation): the caller checks first
    INSERT INTO parcel_waybill (program_code, waybill, claim_id)
      SELECT p_views->'waybills'->>'program_code', w, p_views->'waybills'->>'claim_id'
        FROM jsonb_array_elements_text(p_views->'waybills'->'numbers') AS w;
  END IF;

  -- outbox rows are due at the command's time (the engine's clock), not the database's
  INSERT INTO outbox (stream_id, version, kind, payload, created_at, next_attempt_at)
    SELECT p_stream, (o->>'version')::int, o->>'kind', o->'payload', p_now, p_now FROM jsonb_array_elements(p_outbox) AS o;
  RETURN v;
END $$;

-- Group commit (AppendBatcher): several appends in one statement and one transaction, each item in its own
-- subtransaction (the BEGIN … EXCEPTION block), so one item's failure rolls back that item alone. Items are
-- shifan_append's parameters as JSON arrays; the answer has, per item, {"v": new version} or the error's
-- {"code", "message", "constraint"}.
CREATE FUNCTION shifan_append_batch(p_items jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  it jsonb;
  res jsonb := '[]'::jsonb;
  v int;
  c text;
BEGIN
  FOR it IN SELECT value FROM jsonb_array_elements(p_items) LOOP
    BEGIN
      v := shifan_append(it->>0, it->>1, (it->>2)::int, NULLIF(it->3, 'null'::jsonb), it->>4, (it->>5)::timestamptz, it->6, it->7, it->8, (it->>9)::timestamptz, (it->>10)::timestamptz);
      res := res || jsonb_build_array(jsonb_build_object('v', v));
    EXCEPTION WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS c = CONSTRAINT_NAME;
      res := res || jsonb_build_array(jsonb_build_object('code', SQLSTATE, 'message', SQLERRM, 'constraint', NULLIF(c, '')));
    END;
  END LOOP;
  RETURN res;
END $$;
