-- Login throttling (issue 12.6): failed log-ins counted per username and per client address
-- (`user:<name>`, `client:<address>`), also for usernames that do not exist, so the answers cannot tell
-- them apart. From the 5th failure of a username (20th of an address) within 15 minutes of each other,
-- log-in is refused without checking the password until `locked_until`, doubling from 1 s up to 15 min
-- (activities/throttle.ts). A successful log-in clears its username's row; the office can unlock one.
CREATE TABLE "login_throttle" (
  "key"             TEXT NOT NULL PRIMARY KEY,
  "failures"        INTEGER NOT NULL,
  "last_failure_at" TIMESTAMPTZ(3) NOT NULL,
  "locked_until"    TIMESTAMPTZ(3)
);
