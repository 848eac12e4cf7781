-- Objections and reports from the public through the column (issue 14, R-PUB-1).
-- Submissions counted per client address, per publicity item and per program's reports in fixed windows
-- (activities/public-throttle.ts): `key` is e.g. `client:<address>`, `item:<program>/<seq>[/<milestone>]`.
CREATE TABLE "submission_throttle" (
  "key"          TEXT NOT NULL PRIMARY KEY,
  "count"        INTEGER NOT NULL,
  "window_start" TIMESTAMPTZ(3) NOT NULL
);

-- A receipt (回执编号) names its submission's event: the status check finds it by this index.
CREATE INDEX "event_receipt_idx" ON "event" ((data -> 'sender' ->> 'receipt')) WHERE data ? 'sender';
