// Issue 12.7: integrity at run time. A superuser who edits the stored record behind the application's
// back (bypassing the append-only trigger) must not move money: every load for a command checks the
// events it folds against the hash chain and the snapshot against the event hash it is bound to, a
// release cross-checks ledger_entry, and a stream that fails is refused (503 STREAM-INTEGRITY naming the
// stream and the first broken event) and raised as an alarm in /healthz.
import { verifyAudit } from '../../engine/audit';
import { acceptMilestone, contract, ok, release, tengzhouInImplementation } from '../support/flows';
import { startTestServer, type TestServer } from '../support/server';
import { asSuperuser } from '../support/tamper';

let t: TestServer;
const STREAM = 'subproject-tengzhou-2019-6';
const TRANCHE_FEN = 100_000_000; // 100万元

beforeAll(async () => {
  t = await startTestServer();
  await tengzhouInImplementation(t);
  await contract(t, 'tengzhou-2019', 6, {
    milestones: [{ key: 'M1', title: '电商扶贫', due: '2020-06-30' }],
    tranches: [{ key: 'T1', milestone: 'M1', source: 'central', amount: '100' }],
  });
  await acceptMilestone(t, 'tengzhou-2019', 6, 'M1', { deliverable: '电商扶贫完成' });
  ok(await release(t, 'tengzhou-2019', 6, 'T1', 'tz6-T1-first'), 201);
});
afterAll(async () => {
  await t?.close();
});

const q = async <R extends Record<string, unknown>>(sql: string, params: unknown[] = []) =>
  (await t.rt.pool.query<R>(sql, params)).rows;
const paid = async () =>
  Number(
    (
      await q<{ fen: string }>(
        "SELECT coalesce(sum(amount_fen), 0)::text AS fen FROM ledger_entry WHERE stream_id = $1 AND kind = 'disbursement'",
        [STREAM],
      )
    )[0].fen,
  );
const releasedEvent = async () =>
  (
    await q<{ id: string; version: number; amount: number }>(
      "SELECT id, version, (data->>'amount')::bigint AS amount FROM event WHERE stream_id = $1 AND type = 'TrancheReleased'",
      [STREAM],
    )
  )[0];
const restart = async () => {
  await t.stopServer();
  t = await startTestServer({ reuse: t });
};
const health = async () => (await t.call('GET', '/healthz')).body;

test('issue 12.7: a tampered TrancheReleased pays 0 fen more after a restart', async () => {
  expect(await paid()).toBe(TRANCHE_FEN);
  const ev = await releasedEvent();
  const [row] = await q<{ version: number; state_lag: number }>(
    'SELECT version, state_lag FROM stream WHERE id = $1',
    [STREAM],
  );
  // the edited event lies after the stored snapshot: a load folds it (as in the reproduction)
  expect(row.version - row.state_lag).toBeLessThan(ev.version);

  await asSuperuser(
    t.rt.pool,
    `UPDATE event SET data = jsonb_set(data, '{amount}', '1') WHERE id = $1`,
    [ev.id],
  );
  await restart();
  const again = await release(t, 'tengzhou-2019', 6, 'T1', 'tz6-T1-again');
  expect(again.status).toBe(503);
  expect(again.headers.get('content-type')).toContain('application/problem+json');
  expect(again.body.code).toBe('STREAM-INTEGRITY');
  expect(again.body.detail).toContain(STREAM);
  expect(again.body.detail).toContain(`#${ev.id}`);
  expect(again.body.detail_en).toContain(`event #${ev.id} (version ${ev.version})`);
  expect(again.body.violations[0].figures).toEqual({
    stream: STREAM,
    version: ev.version,
    eventId: Number(ev.id),
  });
  expect(await paid()).toBe(TRANCHE_FEN); // 0 fen more (before: 199,999,999 fen in all)

  // every command on the stream is refused, not only releases; reads still answer
  const other = await t.call(
    'POST',
    '/api/programs/tengzhou-2019/subprojects/6/milestones/M1/objections',
    {
      token: t.tokens.contractorB,
      body: { reason: '异议' },
    },
  );
  expect(other.status).not.toBe(201);
  expect(
    (await t.call('GET', '/api/programs/tengzhou-2019/subprojects/6', { token: t.tokens.office }))
      .status,
  ).toBe(200);

  const h = await health();
  expect(h.status).toBe('alarm');
  expect(h.integrity).toEqual([
    expect.objectContaining({ streamId: STREAM, version: ev.version, eventId: Number(ev.id) }),
  ]);

  // put right: the stream loads intact again, the alarm clears, and the tranche stays paid exactly once
  await asSuperuser(
    t.rt.pool,
    `UPDATE event SET data = jsonb_set(data, '{amount}', $2::text::jsonb) WHERE id = $1`,
    [ev.id, String(ev.amount)],
  );
  const repaired = await release(t, 'tengzhou-2019', 6, 'T1', 'tz6-T1-after-repair');
  expect(repaired.status).toBeGreaterThanOrEqual(400);
  expect(repaired.status).toBeLessThan(500);
  expect(repaired.body.code).not.toBe('STREAM-INTEGRITY');
  expect(await paid()).toBe(TRANCHE_FEN);
  expect((await health()).status).toBe('ok');
});

test('issue 12.7: an edited snapshot (the budget in stream.state raised) is refused', async () => {
  const [row] = await q<{ version: number; state_lag: number; central: string | null }>(
    "SELECT version, state_lag, state->'budget'->>'central' AS central FROM stream WHERE id = $1",
    [STREAM],
  );
  expect(Number(row.central)).toBe(TRANCHE_FEN); // the snapshot holds the subproject's budget
  await asSuperuser(
    t.rt.pool,
    `UPDATE stream SET state = jsonb_set(state, '{budget,central}', '200000000') WHERE id = $1`,
    [STREAM],
  );
  await restart();
  const r = await release(t, 'tengzhou-2019', 6, 'T1', 'tz6-T1-snapshot');
  expect(r.status).toBe(503);
  expect(r.body.code).toBe('STREAM-INTEGRITY');
  expect(r.body.detail).toContain(STREAM);
  expect(r.body.detail_en).toContain(
    `the state snapshot at version ${row.version - row.state_lag}`,
  );
  expect(await paid()).toBe(TRANCHE_FEN);
  const report = await verifyAudit(t.rt.pool);
  expect(report.broken).toMatchObject({ streamId: STREAM, version: row.version - row.state_lag });

  await asSuperuser(
    t.rt.pool,
    `UPDATE stream SET state = jsonb_set(state, '{budget,central}', $2::text::jsonb) WHERE id = $1`,
    [STREAM, String(TRANCHE_FEN)],
  );
  expect((await verifyAudit(t.rt.pool)).ok).toBe(true);
});

test('issue 12.7: a release cross-checks ledger_entry (a row edited to 1 fen: refused, nothing paid)', async () => {
  await asSuperuser(
    t.rt.pool,
    "UPDATE ledger_entry SET amount_fen = 1 WHERE stream_id = $1 AND kind = 'disbursement' AND tranche = 'T1'",
    [STREAM],
  );
  // no restart: the state this server holds in memory is checked against the ledger too
  const r = await release(t, 'tengzhou-2019', 6, 'T1', 'tz6-T1-ledger');
  expect(r.status).toBe(503);
  expect(r.body.code).toBe('STREAM-INTEGRITY');
  expect(r.body.detail).toContain('ledger_entry');
  expect(r.body.detail_en).toContain(
    `the state says ${TRANCHE_FEN} fen were paid, ledger_entry 1 fen`,
  );
  expect(await paid()).toBe(1);
  expect((await health()).integrity).toEqual([expect.objectContaining({ streamId: STREAM })]);
  await asSuperuser(
    t.rt.pool,
    "UPDATE ledger_entry SET amount_fen = $2 WHERE stream_id = $1 AND kind = 'disbursement' AND tranche = 'T1'",
    [STREAM, TRANCHE_FEN],
  );
  expect((await release(t, 'tengzhou-2019', 6, 'T1', 'tz6-T1-first')).status).toBe(200); // the first release, replayed
  expect(await paid()).toBe(TRANCHE_FEN);
});

test('a snapshot written before bindings still loads, checked by folding every event from the first', async () => {
  // as a data directory from before this change holds it: no $snapshot binding in the row's state
  await t.rt.pool.query(`UPDATE stream SET state = state - '$snapshot' WHERE id = $1`, [STREAM]);
  t.rt.engine.cache.clear();
  expect((await release(t, 'tengzhou-2019', 6, 'T1', 'tz6-T1-first')).status).toBe(200);
  expect((await verifyAudit(t.rt.pool)).ok).toBe(true);

  // an edited event is caught even where the old snapshot covers it
  const [first] = await q<{ id: string }>(
    'SELECT id FROM event WHERE stream_id = $1 AND version = 1',
    [STREAM],
  );
  await asSuperuser(t.rt.pool, "UPDATE event SET reason = '事后补写' WHERE id = $1", [first.id]);
  t.rt.engine.cache.clear();
  const r = await release(t, 'tengzhou-2019', 6, 'T1', 'tz6-T1-legacy');
  expect(r.status).toBe(503);
  expect(r.body.violations[0].figures).toEqual({
    stream: STREAM,
    version: 1,
    eventId: Number(first.id),
  });
  expect(await paid()).toBe(TRANCHE_FEN);
});
