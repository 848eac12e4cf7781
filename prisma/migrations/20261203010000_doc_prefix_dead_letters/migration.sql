-- 文号 per issuing office (issue 12.5): a notice's number is 机关代字〔年份〕序号号 and the serial runs per
-- (机关代字, year), so two programs never allocate the same 文号 (before, the prefix was the county's first
-- character and the serial ran per program: 试验县 and 试点县 collided on doc_number and the second one's
-- outbox row retried forever). The prefix is derived from the stored number itself, so it can never
-- disagree with it, and rows issued before this migration (…电商示范〔2019〕1号) keep theirs.
ALTER TABLE "official_notice"
  ADD COLUMN "doc_prefix" TEXT GENERATED ALWAYS AS (substring("doc_number" from '^(.*)〔')) STORED;

CREATE UNIQUE INDEX "official_notice_doc_prefix_year_serial_key"
  ON "official_notice"("doc_prefix", "year", "serial");
-- the serial is no longer per program: a program of an office that already issued this year (or one that
-- moves from the old …电商示范 prefix to its 机关代字 mid-year) starts wherever that office's count is
DROP INDEX "official_notice_program_code_year_serial_key";
CREATE INDEX "official_notice_program_code_year_idx" ON "official_notice"("program_code", "year");

-- Dead letters: an outbox row that fails permanently (a constraint violation, a payload the dispatcher
-- cannot read), or transiently too many times, stops being retried; it keeps its error and attempt count
-- for the office (GET /api/outbox/dead) and /healthz.
ALTER TABLE "outbox" ADD COLUMN "dead_at" TIMESTAMPTZ(3);

CREATE INDEX "outbox_dead_at_idx" ON "outbox"("dead_at");
