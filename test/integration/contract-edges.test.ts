// Issue 12.8, the smaller defects: the budget table refused unknown root fields no more than any other
// body does now; the policy answered under the names the import takes (`centreMaxPercent`, not
// `centreMaxBp`), so a table read back can be sent again; the bids of another organisation's designated
// subproject answer 403 R-TD-3 like every other endpoint of it, not 404.
import { loadTable } from '../support/fixtures';
import { ok, tengzhouInImplementation } from '../support/flows';
import { startTestServer, type TestServer } from '../support/server';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
  await tengzhouInImplementation(t);
});
afterAll(async () => {
  await t?.close();
});

test('issue 12.8: an unknown root field of the budget table is refused (400, naming it) and nothing is stored', async () => {
  const before = await t.count('stream');
  const r = await t.call('POST', '/api/programs', {
    token: t.tokens.office,
    body: { ...loadTable('shicheng-2020'), totalz: { central: '1' } },
  });
  expect(r.status).toBe(400);
  expect(r.body.errors).toContainEqual(expect.objectContaining({ path: 'totalz' }));
  expect(await t.count('stream')).toBe(before);
});

test('issue 12.8: the policy reads back under the import names and units, and imports again as it is', async () => {
  const p = ok(await t.call('GET', '/api/programs/tengzhou-2019', { token: t.tokens.office }));
  expect(p.policy).toMatchObject({ centreMaxPercent: '15', upwardGroupMinPercent: '50' });
  expect(p.policy).not.toHaveProperty('centreMaxBp');
  const table = { ...loadTable('shicheng-2020'), policy: p.policy };
  const r = await t.call('POST', '/api/programs', { token: t.tokens.office, body: table });
  expect(r.status).toBe(201);
});

test('issue 12.8: bids of a subproject designated to another organisation answer 403 R-TD-3', async () => {
  ok(
    await t.call('POST', '/api/programs/tengzhou-2019/subprojects/7/designation', {
      token: t.tokens.office,
      body: { org: '某物流有限公司', reason: '资金安排表确定为直接委托' },
    }),
    201,
  );
  const r = await t.call('GET', '/api/programs/tengzhou-2019/subprojects/7/bids', {
    token: t.tokens.contractor,
  });
  expect(r.status).toBe(403);
  expect(r.body.code).toBe('R-TD-3');
});
