-- Subprojects become aggregates of their own (procurement now; milestones and funds later): their
-- read-model row gets the procurement stage, and the program's projection no longer overwrites the
-- status or contractor that the subproject's own events set.
ALTER TABLE "subproject" ADD COLUMN "stage" TEXT NOT NULL DEFAULT 'unprocured';

CREATE OR REPLACE FUNCTION shifan_append(
  p_stream text, p_type text, p_expected int, p_state jsonb, p_head text, p_wake timestamptz,
  p_events jsonb, p_views jsonb, p_outbox jsonb, p_now timestamptz
) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  v int := p_expected + jsonb_array_length(p_events);
BEGIN
  IF p_expected = 0 THEN
    INSERT INTO stream (id, type, version, state, head_hash, wake_at, updated_at)
      VALUES (p_stream, p_type, v, p_state, p_head, p_wake, p_now) ON CONFLICT (id) DO NOTHING;
  ELSE
    UPDATE stream SET version = v, state = p_state, head_hash = p_head, wake_at = p_wake, updated_at = p_now
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
     WHERE s.program_code = r.program_code AND s.seq = r.seq;
  END IF;

  INSERT INTO outbox (stream_id, version, kind, payload)
    SELECT p_stream, (o->>'version')::int, o->>'kind', o->'payload' FROM jsonb_array_elements(p_outbox) AS o;
  RETURN v;
END $$;
