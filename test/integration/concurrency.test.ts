// Concurrent commands on one program serialise: no lost update, no duplicate, versions contiguous,
// within one process (queued) and across processes (optimistic version check + retry).
import { programAggregate } from '../../engine/aggregates';
import { EmbeddedEngine } from '../../engine/embedded/engine';
import { importProgram } from '../support/flows';
import { startTestServer, type TestServer } from '../support/server';
import canonicalize from 'canonicalize';
import { Pool } from 'pg';
import { SNAPSHOT_EVERY } from '../../activities/store/append';
import { verifyAudit } from '../../engine/audit';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
  await importProgram(t);
});
afterAll(async () => {
  await t?.close();
});

test('30 parallel findings over HTTP → 30 distinct findings, versions 2..31, chain intact', async () => {
  const rs = await Promise.all(
    Array.from({ length: 30 }, (_, i) =>
      t.call('POST', '/api/programs/tengzhou-2019/findings', {
        token: t.tokens.office,
        body: { origin: 'self_check', title: `问题${i}` },
      }),
    ),
  );
  expect(rs.map((r) => r.status)).toEqual(Array(30).fill(201));
  const p = await t.call('GET', '/api/programs/tengzhou-2019', { token: t.tokens.office });
  expect(p.body.findings.map((f: { id: string }) => f.id).sort()).toEqual(
    Array.from({ length: 30 }, (_, i) => `F${i + 1}`).sort(),
  );
  expect(new Set(p.body.findings.map((f: { title: string }) => f.title)).size).toBe(30);
  const { rows } = await t.rt.pool.query(
    'SELECT version FROM event WHERE stream_id = $1 ORDER BY version',
    ['program-tengzhou-2019'],
  );
  expect(rows.map((r) => r.version)).toEqual(Array.from({ length: 31 }, (_, i) => i + 1));
  expect(p.body.version).toBe(31);
});

test('10 parallel requests recording the same gate → exactly one 200, nine 409', async () => {
  const rs = await Promise.all(
    Array.from({ length: 10 }, () =>
      t.call('POST', '/api/programs/tengzhou-2019/gates/plan_filed', {
        token: t.tokens.office,
        body: { document: { title: '实施方案' } },
      }),
    ),
  );
  expect(rs.filter((r) => r.status === 200)).toHaveLength(1);
  expect(rs.filter((r) => r.status === 409)).toHaveLength(9);
  const { rows } = await t.rt.pool.query(
    "SELECT count(*)::int AS n FROM event WHERE type = 'GateActRecorded'",
  );
  expect(rows[0].n).toBe(1);
});

test("two engines (two processes' worth of pools) racing on one stream: every command lands once", async () => {
  const pools = [
    new Pool({ connectionString: t.db.url, max: 5 }),
    new Pool({ connectionString: t.db.url, max: 5 }),
  ];
  const engines = pools.map((p) => new EmbeddedEngine(p, t.clock));
  try {
    const before = (await engines[0].read(programAggregate, 'tengzhou-2019')).version;
    const actor = { username: 'office1', role: 'office' as const };
    // rounds of 24 commands until the two engines really raced (a loaded machine may serialise a round)
    let rounds = 0;
    while (rounds < 5 && engines[0].stats.conflicts + engines[1].stats.conflicts === 0) {
      const round = rounds++;
      const results = await Promise.allSettled(
        Array.from({ length: 24 }, (_, i) =>
          engines[i % 2].execute(
            programAggregate,
            'tengzhou-2019',
            { type: 'RecordFinding', origin: 'provincial', title: `并发${round}-${i}` },
            { actor },
          ),
        ),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(24);
    }
    expect(engines[0].stats.conflicts + engines[1].stats.conflicts).toBeGreaterThan(0); // the race really happened
    const after = await engines[1].read(programAggregate, 'tengzhou-2019');
    expect(after.version).toBe(before + 24 * rounds);
    if (after.state.status === 'empty') throw new Error();
    expect(after.state.findings.filter((f) => f.origin === 'provincial')).toHaveLength(24 * rounds);
  } finally {
    await Promise.all(pools.map((p) => p.end()));
  }
});

test('a state cached by one process is not trusted once another process changed the stream', async () => {
  const pools = [
    new Pool({ connectionString: t.db.url, max: 2 }),
    new Pool({ connectionString: t.db.url, max: 2 }),
  ];
  const [a, b] = pools.map((p) => new EmbeddedEngine(p, t.clock));
  const actor = { username: 'office1', role: 'office' as const };
  const code = 'tengzhou-2019';
  try {
    await a.execute(
      programAggregate,
      code,
      { type: 'RecordFinding', origin: 'self_check', title: '甲' },
      { actor },
    ); // a caches the state it appended
    expect(a.cache.size).toBe(1);
    const byB = await b.execute(
      programAggregate,
      code,
      { type: 'RecordFinding', origin: 'self_check', title: '乙' },
      { actor },
    );
    if (byB.state.status === 'empty') throw new Error();
    const newest = byB.state.findings[byB.state.findings.length - 1].id;
    // refused on a's cached state (no such finding there): decided again on what the database holds
    const closed = await a.execute(
      programAggregate,
      code,
      { type: 'CloseFinding', findingId: newest, document: { title: '整改报告' } },
      { actor },
    );
    expect(closed.events.map((e) => e.type)).toEqual(['FindingClosed']);
    expect(a.stats.conflicts).toBe(0);
    // accepted on a stale cached state: the append's version check refuses it, and it is decided again
    await b.execute(
      programAggregate,
      code,
      { type: 'RecordFinding', origin: 'self_check', title: '丙' },
      { actor },
    );
    const hitsBefore = a.stats.cacheHits;
    const last = await a.execute(
      programAggregate,
      code,
      { type: 'RecordFinding', origin: 'self_check', title: '丁' },
      { actor },
    );
    expect(a.stats.cacheHits).toBe(hitsBefore + 1);
    expect(a.stats.conflicts).toBe(1);
    if (last.state.status === 'empty') throw new Error();
    expect(last.state.findings.slice(-4).map((f) => f.title)).toEqual(['甲', '乙', '丙', '丁']);
    expect(last.state.findings.find((f) => f.id === newest)?.closed).toBeTruthy();
    const { rows } = await t.rt.pool.query<{ version: number }>(
      'SELECT version FROM event WHERE stream_id = $1 ORDER BY version',
      [`program-${code}`],
    );
    expect(rows.map((r) => r.version)).toEqual(rows.map((_, i) => i + 1)); // contiguous: nothing lost, nothing twice
  } finally {
    await Promise.all(pools.map((p) => p.end()));
  }
});

test('cached states are frozen: code that would change one in place fails loudly instead of corrupting later commands', async () => {
  const r = await t.rt.engine.execute(
    programAggregate,
    'tengzhou-2019',
    { type: 'RecordFinding', origin: 'self_check', title: '冻结' },
    { actor: { username: 'office1', role: 'office' } },
  );
  if (r.state.status === 'empty') throw new Error();
  const findings = r.state.findings as unknown as { title: string }[];
  expect(() => {
    findings[0].title = 'changed';
  }).toThrow(TypeError);
});

test('the stored state is a snapshot at most SNAPSHOT_EVERY events behind; a fresh engine folds the rest, and the audit agrees', async () => {
  const actor = { username: 'office1', role: 'office' as const };
  let last;
  for (let i = 0; i < SNAPSHOT_EVERY + 5; i++)
    last = await t.rt.engine.execute(
      programAggregate,
      'tengzhou-2019',
      { type: 'RecordFinding', origin: 'self_check', title: `快照${i}` },
      { actor },
    );
  if (!last) throw new Error('the loop ran no command');
  const {
    rows: [row],
  } = await t.rt.pool.query<{ version: number; state_lag: number; findings: number }>(
    "SELECT version, state_lag, jsonb_array_length(state->'findings') AS findings FROM stream WHERE id = 'program-tengzhou-2019'",
  );
  expect(row.version).toBe(last.version);
  expect(row.state_lag).toBeGreaterThanOrEqual(0);
  expect(row.state_lag).toBeLessThan(SNAPSHOT_EVERY);
  if (last.state.status === 'empty') throw new Error();
  expect(row.findings).toBe(last.state.findings.length - row.state_lag); // the snapshot lacks exactly the events after it
  const pool = new Pool({ connectionString: t.db.url, max: 1 });
  try {
    const fresh = await new EmbeddedEngine(pool, t.clock).read(programAggregate, 'tengzhou-2019'); // no cache: stored state + the events after it
    expect(canonicalize(fresh.state)).toBe(canonicalize(last.state));
    expect(fresh.version).toBe(last.version);
  } finally {
    await pool.end();
  }
  expect((await verifyAudit(t.rt.pool)).ok).toBe(true);
});
