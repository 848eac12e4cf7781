-- shifan schema: accounts, event store (streams, events, outbox), read models, ledger, notices, mail.

-- CreateEnum
CREATE TYPE "Role" AS ENUM ('office', 'contractor', 'evaluator', 'finance', 'supervisor');

-- CreateTable
CREATE TABLE "organisation" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "organisation_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "app_user" (
    "id" SERIAL NOT NULL,
    "username" TEXT NOT NULL,
    "password_hash" TEXT NOT NULL,
    "role" "Role" NOT NULL,
    "org_id" INTEGER,
    "display_name" TEXT,
    "email" TEXT,
    "disabled" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "app_user_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "session" (
    "token_hash" TEXT NOT NULL,
    "user_id" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "session_pkey" PRIMARY KEY ("token_hash")
);

-- CreateTable
CREATE TABLE "stream" (
    "id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "state" JSONB NOT NULL,
    "head_hash" TEXT NOT NULL,
    "wake_at" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "stream_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "event" (
    "id" BIGSERIAL NOT NULL,
    "stream_id" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "type" TEXT NOT NULL,
    "data" JSONB NOT NULL,
    "actor" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "command" TEXT NOT NULL,
    "reason" TEXT,
    "at" TIMESTAMPTZ(3) NOT NULL,
    "prev_hash" TEXT NOT NULL,
    "hash" TEXT NOT NULL,

    CONSTRAINT "event_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "outbox" (
    "id" BIGSERIAL NOT NULL,
    "stream_id" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "kind" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "dispatched_at" TIMESTAMPTZ(3),
    "last_error" TEXT,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "outbox_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "program" (
    "code" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "province" TEXT NOT NULL,
    "county" TEXT NOT NULL,
    "year" INTEGER NOT NULL,
    "phase_key" TEXT NOT NULL,
    "phase_name" TEXT NOT NULL,
    "phase_index" INTEGER NOT NULL,
    "phase_end" TEXT,
    "status" TEXT NOT NULL,
    "central_fen" BIGINT NOT NULL,
    "local_fen" BIGINT NOT NULL,
    "enterprise_fen" BIGINT NOT NULL,
    "total_fen" BIGINT NOT NULL,
    "version" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "program_pkey" PRIMARY KEY ("code")
);

-- CreateTable
CREATE TABLE "subproject" (
    "program_code" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "direction" TEXT NOT NULL,
    "procurement" TEXT NOT NULL,
    "deadline" TEXT,
    "status" TEXT NOT NULL,
    "central_fen" BIGINT NOT NULL,
    "local_fen" BIGINT NOT NULL,
    "enterprise_fen" BIGINT NOT NULL,
    "contractor_org" TEXT,
    "stage" TEXT NOT NULL DEFAULT 'unprocured',

    CONSTRAINT "subproject_pkey" PRIMARY KEY ("program_code","seq")
);

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
CREATE UNIQUE INDEX "organisation_name_key" ON "organisation"("name");

-- CreateIndex
CREATE UNIQUE INDEX "app_user_username_key" ON "app_user"("username");

-- CreateIndex
CREATE INDEX "session_user_id_idx" ON "session"("user_id");

-- CreateIndex
CREATE INDEX "stream_wake_at_idx" ON "stream"("wake_at");

-- CreateIndex
CREATE UNIQUE INDEX "event_stream_id_version_key" ON "event"("stream_id", "version");

-- CreateIndex
CREATE INDEX "outbox_dispatched_at_idx" ON "outbox"("dispatched_at");

-- CreateIndex
CREATE INDEX "ledger_entry_program_code_idx" ON "ledger_entry"("program_code");

-- CreateIndex
CREATE UNIQUE INDEX "ledger_entry_stream_id_version_kind_source_key" ON "ledger_entry"("stream_id", "version", "kind", "source");

-- CreateIndex
CREATE INDEX "notice_program_code_idx" ON "notice"("program_code");

-- CreateIndex
CREATE UNIQUE INDEX "notice_stream_id_version_kind_key" ON "notice"("stream_id", "version", "kind");

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

-- AddForeignKey
ALTER TABLE "app_user" ADD CONSTRAINT "app_user_org_id_fkey" FOREIGN KEY ("org_id") REFERENCES "organisation"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "session" ADD CONSTRAINT "session_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "app_user"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "event" ADD CONSTRAINT "event_stream_id_fkey" FOREIGN KEY ("stream_id") REFERENCES "stream"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "subproject" ADD CONSTRAINT "subproject_program_code_fkey" FOREIGN KEY ("program_code") REFERENCES "program"("code") ON DELETE RESTRICT ON UPDATE CASCADE;

-- The embedded engine's append path: ONE round trip per command (see README, "How it is built"). It checks
-- the expected version (optimistic concurrency), appends the events (hash chain computed by the caller),
-- stores the folded state, upserts the read models and queues outbox rows, all in one transaction.
-- It holds no business rule: the deciders decide, this only writes what they decided.
CREATE FUNCTION shifan_append(
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

-- R-PUB-3: events are never edited or deleted, and issued notices never change (a correction is a new
-- notice that references the old one). A superuser can still bypass the triggers (e.g. with
-- session_replication_role = replica); `shifan audit verify` detects that through the hashes.
CREATE FUNCTION shifan_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'SF403';
END $$;
CREATE TRIGGER event_append_only BEFORE UPDATE OR DELETE ON event
  FOR EACH ROW EXECUTE FUNCTION shifan_refuse_change('event rows are append-only (R-PUB-3)');
CREATE TRIGGER official_notice_immutable BEFORE UPDATE OR DELETE ON official_notice
  FOR EACH ROW EXECUTE FUNCTION shifan_refuse_change('official notices are immutable: issue a correction instead');
