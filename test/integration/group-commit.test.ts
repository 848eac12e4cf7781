// Group commit (AppendBatcher → shifan_append_batch): appends waiting together go to PostgreSQL as one
// statement, and each item still stands alone: one item's refusal rolls back that item only.
import { Pool } from 'pg';
import {
  AppendBatcher,
  AppendItemError,
  chainEvents,
  VersionConflict,
  type AppendInput,
} from '../../activities/store/event-store';
import { GENESIS_HASH } from '../../activities/store/hash';
import { createTestDb, type TestDb } from '../support/pg-test-db';

let db: TestDb;
let pool: Pool;
beforeAll(async () => {
  db = await createTestDb();
  pool = new Pool({ connectionString: db.url, max: 4 });
});
afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

const NOW = '2020-01-01T00:00:00.000Z';
const meta = { actor: 'office1', role: 'office', command: 'Test', reason: null, at: NOW };
function input(streamId: string, expected = 0, extra: Partial<AppendInput> = {}): AppendInput {
  const events = chainEvents(
    streamId,
    expected,
    GENESIS_HASH,
    [{ type: 'Happened', data: { n: 1 } }],
    meta,
  );
  return {
    streamId,
    streamType: 'test',
    expected,
    state: { n: 1 },
    events,
    wakeAt: null,
    nextDue: null,
    views: {},
    outbox: [{ kind: 'notify', payload: { n: 1 } }],
    now: NOW,
    ...extra,
  };
}

test('20 appends at once: a few statements, each item answered on its own, failed items leave nothing behind', async () => {
  await pool.query(
    "INSERT INTO parcel_waybill (program_code, waybill, claim_id) VALUES ('p1', 'W-TAKEN', 'claim-0')",
  );
  const batcher = new AppendBatcher(pool, 32, 1); // one statement at a time: everything after the first waits and gathers
  const good = Array.from({ length: 18 }, (_, i) => input(`test-ok-${i}`));
  const stale = input('test-never-created', 5); // expects version 5 of a stream that does not exist
  const dupWaybill = input('test-waybill', 0, {
    views: { waybills: { program_code: 'p1', claim_id: 'claim-1', numbers: ['W-NEW', 'W-TAKEN'] } },
  });
  const results = await Promise.allSettled(
    [...good, stale, dupWaybill].map((a) => batcher.append(a)),
  );

  expect(results.slice(0, 18).map((r) => r.status === 'fulfilled' && r.value)).toEqual(
    Array(18).fill(1),
  );
  const staleResult = results[18];
  expect(staleResult.status === 'rejected' && staleResult.reason).toBeInstanceOf(VersionConflict);
  const dup = results[19];
  expect(dup.status === 'rejected' && dup.reason).toBeInstanceOf(AppendItemError);
  expect(dup.status === 'rejected' && (dup.reason as AppendItemError).constraint).toBe(
    'parcel_waybill_pkey',
  ); // what the parcel route looks for
  expect(dup.status === 'rejected' && (dup.reason as AppendItemError).code).toBe('23505');

  expect(batcher.stats.appends).toBe(20);
  expect(batcher.stats.statements).toBeLessThan(20); // gathered
  expect(batcher.stats.largest).toBeGreaterThan(1);

  const { rows: streams } = await pool.query<{ id: string }>(
    "SELECT id FROM stream WHERE type = 'test' ORDER BY id",
  );
  expect(streams.map((s) => s.id).sort()).toEqual(good.map((g) => g.streamId).sort());
  const {
    rows: [counts],
  } = await pool.query<{ events: number; outbox: number; waybills: number }>(`SELECT
    (SELECT count(*)::int FROM event WHERE stream_id LIKE 'test-%') AS events,
    (SELECT count(*)::int FROM outbox WHERE stream_id LIKE 'test-%') AS outbox,
    (SELECT count(*)::int FROM parcel_waybill WHERE program_code = 'p1') AS waybills`);
  expect(counts).toEqual({ events: 18, outbox: 18, waybills: 1 }); // the refused claim's W-NEW was rolled back with it
});

test('an item PostgreSQL refuses outright fails the statement: every item then goes alone, and only that one fails', async () => {
  const batcher = new AppendBatcher(pool, 32, 1);
  const bad = input('test-nul', 0, { state: { text: 'a\u0000b' } }); // jsonb has no NUL character
  const results = await Promise.allSettled(
    [input('test-first'), input('test-a'), bad, input('test-b')].map((a) => batcher.append(a)),
  );
  expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
  expect(batcher.stats.fallbacks).toBe(1);
  const { rows } = await pool.query(
    "SELECT id FROM stream WHERE id IN ('test-first', 'test-a', 'test-nul', 'test-b') ORDER BY id",
  );
  expect(rows.map((r) => r.id)).toEqual(['test-a', 'test-b', 'test-first']);
});

test('a statement that fails as a whole rejects every item in it, and nothing is written', async () => {
  const broken = new Pool({
    connectionString: db.url.replace(/\/[^/]+$/, '/no_such_database'),
    max: 1,
  });
  broken.on('error', () => {});
  try {
    const batcher = new AppendBatcher(broken, 32, 1);
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, (_, i) => batcher.append(input(`test-lost-${i}`))),
    );
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
  } finally {
    await broken.end();
  }
  const { rows } = await pool.query(
    "SELECT count(*)::int AS n FROM stream WHERE id LIKE 'test-lost-%'",
  );
  expect(rows[0].n).toBe(0);
});
