-- Money loop (R-FUND-5..8, R-AC-5, R-FUND-6): ledger entries, public notices, evidence files, claimed waybills.
-- CreateTable
CREATE TABLE "ledger_entry" (
    "id" BIGSERIAL NOT NULL,
    "program_code" TEXT NOT NULL,
    "seq" INTEGER,
    "stream_id" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "kind" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "amount_fen" BIGINT NOT NULL,
    "tranche" TEXT,
    "idempotency_key" TEXT,
    "org" TEXT,
    "at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "ledger_entry_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "notice" (
    "id" BIGSERIAL NOT NULL,
    "program_code" TEXT NOT NULL,
    "seq" INTEGER,
    "kind" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "org" TEXT,
    "stream_id" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "notice_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "evidence_file" (
    "sha256" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "size" INTEGER NOT NULL,
    "content" BYTEA NOT NULL,
    "uploaded_by" TEXT NOT NULL,
    "org" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "evidence_file_pkey" PRIMARY KEY ("sha256")
);

-- CreateTable
CREATE TABLE "parcel_waybill" (
    "program_code" TEXT NOT NULL,
    "waybill" TEXT NOT NULL,
    "claim_id" TEXT NOT NULL,

    CONSTRAINT "parcel_waybill_pkey" PRIMARY KEY ("program_code","waybill")
);

-- CreateIndex
CREATE INDEX "ledger_entry_program_code_idx" ON "ledger_entry"("program_code");

-- CreateIndex
CREATE UNIQUE INDEX "ledger_entry_stream_id_version_kind_source_key" ON "ledger_entry"("stream_id", "version", "kind", "source");

-- CreateIndex
CREATE INDEX "notice_program_code_idx" ON "notice"("program_code");

-- CreateIndex
CREATE UNIQUE INDEX "notice_stream_id_version_kind_key" ON "notice"("stream_id", "version", "kind");


-- The append function learns the new read models.
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

  INSERT INTO outbox (stream_id, version, kind, payload)
    SELECT p_stream, (o->>'version')::int, o->>'kind', o->'payload' FROM jsonb_array_elements(p_outbox) AS o;
  RETURN v;
END $$;
