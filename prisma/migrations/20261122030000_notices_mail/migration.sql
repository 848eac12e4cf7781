-- Official notices with 文号, mail per (event, recipient), user e-mail addresses, outbox retry times.

-- AlterTable
ALTER TABLE "app_user" ADD COLUMN     "email" TEXT;

-- AlterTable
ALTER TABLE "outbox" ADD COLUMN     "next_attempt_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;

-- CreateTable
CREATE TABLE "official_notice" (
    "id" BIGSERIAL NOT NULL,
    "program_code" TEXT NOT NULL,
    "year" INTEGER NOT NULL,
    "serial" INTEGER NOT NULL,
    "doc_number" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "html" TEXT NOT NULL,
    "body_text" TEXT NOT NULL,
    "pdf" BYTEA,
    "sha256" TEXT NOT NULL,
    "pdf_sha256" TEXT,
    "stream_id" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "corrects_id" BIGINT,
    "is_public" BOOLEAN NOT NULL DEFAULT true,
    "issued_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "official_notice_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "mail_message" (
    "id" BIGSERIAL NOT NULL,
    "event_key" TEXT NOT NULL,
    "template" TEXT NOT NULL,
    "recipient" TEXT NOT NULL,
    "recipient_name" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "text" TEXT NOT NULL,
    "message_id" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_error" TEXT,
    "sent_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "mail_message_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "official_notice_doc_number_key" ON "official_notice"("doc_number");

-- CreateIndex
CREATE UNIQUE INDEX "official_notice_program_code_year_serial_key" ON "official_notice"("program_code", "year", "serial");

-- CreateIndex
CREATE UNIQUE INDEX "official_notice_stream_id_version_kind_key" ON "official_notice"("stream_id", "version", "kind");

-- CreateIndex
CREATE INDEX "mail_message_status_next_attempt_at_idx" ON "mail_message"("status", "next_attempt_at");

-- CreateIndex
CREATE UNIQUE INDEX "mail_message_event_key_template_recipient_key" ON "mail_message"("event_key", "template", "recipient");


-- Issued notices never change (R-PUB-3): a correction is a new notice that references the old one.
CREATE FUNCTION shifan_notice_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'official notices are immutable: issue a correction instead' USING ERRCODE = 'SF403';
END $$;
CREATE TRIGGER official_notice_immutable BEFORE UPDATE OR DELETE ON official_notice
  FOR EACH ROW EXECUTE FUNCTION shifan_notice_immutable();

-- The append function dates outbox rows with the command's time.
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

  -- outbox rows are due at the command's time (the engine's clock), not the database's
  INSERT INTO outbox (stream_id, version, kind, payload, created_at, next_attempt_at)
    SELECT p_stream, (o->>'version')::int, o->>'kind', o->'payload', p_now, p_now FROM jsonb_array_elements(p_outbox) AS o;
  RETURN v;
END $$;
