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
