// R-PUB-3: every event carries actor, time, command, reason and a hash chained to the previous one;
// `shifan audit verify` names the first broken link after a row is edited directly in PostgreSQL.
import path from 'node:path';
import { verifyAudit } from '../../engine/audit';
import { runCli, ROOT } from '../support/cli';
import { importProgram, ok } from '../support/flows';
import { startTestServer, type TestServer } from '../support/server';
import { asSuperuser } from '../support/tamper';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
  await importProgram(t);
  const office = t.tokens.office;
  ok(
    await t.call('POST', '/api/programs/tengzhou-2019/gates/plan_filed', {
      token: office,
      body: { document: { title: '实施方案', number: '滕政办字〔2019〕33号' }, reason: '报省备案' },
    }),
  );
  ok(
    await t.call('POST', '/api/programs/tengzhou-2019/gates/leading_group_established', {
      token: office,
      body: { document: { title: '领导小组通知' } },
    }),
  );
});
afterAll(async () => {
  await t?.close();
});

const env = () => ({ DATABASE_URL: t.db.url });

test('every event stores actor, role, time, command, reason and a chained hash', async () => {
  const { rows } = await t.rt.pool.query('SELECT * FROM event ORDER BY version');
  expect(rows.map((r) => [r.actor, r.role, r.command])).toEqual([
    ['office1', 'office', 'CreateProgram'],
    ['office1', 'office', 'RecordGateAct'],
    ['office1', 'office', 'RecordGateAct'],
  ]);
  expect(rows[1].reason).toBe('报省备案');
  expect(rows[0].prev_hash).toBe('0'.repeat(64));
  expect(rows[1].prev_hash).toBe(rows[0].hash);
  expect(rows[2].prev_hash).toBe(rows[1].hash);
  expect(rows[0].at.toISOString()).toBe('2019-08-01T02:00:00.000Z'); // the engine's clock
});

test('the application cannot edit or delete events (trigger)', async () => {
  await expect(t.rt.pool.query("UPDATE event SET reason = 'x' WHERE version = 1")).rejects.toThrow(
    /append-only/,
  );
  await expect(t.rt.pool.query('DELETE FROM event WHERE version = 3')).rejects.toThrow(
    /append-only/,
  );
});

test('`shifan audit verify` passes on an intact chain', async () => {
  const r = await runCli(['audit', 'verify'], env());
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('审计链完好：1 个流、3 个事件');
});

test('editing an event row directly in PostgreSQL → verify fails naming that event', async () => {
  const { rows } = await t.rt.pool.query(
    "SELECT id FROM event WHERE stream_id = 'program-tengzhou-2019' AND version = 2",
  );
  const id = Number(rows[0].id);
  await asSuperuser(
    t.rt.pool,
    `UPDATE event SET data = jsonb_set(data, '{document,number}', '"滕政办字〔2019〕99号"') WHERE id = $1`,
    [id],
  );
  const r = await runCli(['audit', 'verify'], env());
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('审计链断开');
  expect(r.stderr).toContain('program-tengzhou-2019');
  expect(r.stderr).toContain(`#${id}`);
  expect(r.stderr).toContain('版本 version 2');
  expect(r.stderr).toContain('内容已被改动');
  const report = await verifyAudit(t.rt.pool);
  expect(report.broken).toMatchObject({
    streamId: 'program-tengzhou-2019',
    version: 2,
    eventId: id,
  });
});

test('a deleted event is found too', async () => {
  await asSuperuser(
    t.rt.pool,
    "DELETE FROM event WHERE stream_id = 'program-tengzhou-2019' AND version > 1",
  );
  const report = await verifyAudit(t.rt.pool);
  expect(report.ok).toBe(false);
  expect(report.broken!.problem).toContain('有事件被删除');
});

test('CLI errors are clear and exit non-zero', async () => {
  const r = await runCli(['program', 'import', path.join(ROOT, 'no-such-file.json')], env());
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('无法读取');
  const u = await runCli(
    ['user', 'add', '--username', 'c9', '--password', 'longenough1', '--role', 'contractor'],
    env(),
  );
  expect(u.code).toBe(1);
  expect(u.stderr).toContain('--org');
});
