// A contractor registers what its own subproject delivered, linked to a milestone of its contract
// (R-EV-1, R-TD-3), on real PostgreSQL through the real tender → award → contract flow.
import { contract, ok, tengzhouInImplementation } from '../support/flows';
import { startTestServer, type TestServer } from '../support/server';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
  await tengzhouInImplementation(t);
  // subproject 2 (stations) to 滕州市邮政分公司 (contractor1), milestones M1 and M2
  await contract(t, 'tengzhou-2019', 2, {
    milestones: [
      { key: 'M1', title: '镇级服务站建成', due: '2020-06-30' },
      { key: 'M2', title: '村级服务点建成', due: '2020-12-31' },
    ],
    tranches: [
      { key: 'T1', milestone: 'M1', source: 'central', amount: '21' },
      { key: 'T2', milestone: 'M2', source: 'central', amount: '120' },
      { key: 'T3', milestone: 'M2', source: 'local', amount: '120' },
    ],
  });
}, 120_000);
afterAll(async () => {
  await t?.close();
});

const stations = (seq: number | undefined, milestone?: string) => ({
  stations: [
    {
      level: 'town',
      town: '龙阳镇',
      operator: '滕州市邮政分公司',
      openedOn: t.clock.now().toISOString().slice(0, 10),
      ...(seq !== undefined ? { seq } : {}),
      ...(milestone ? { milestone } : {}),
    },
  ],
});
const register = (token: string, body: unknown) =>
  t.call('POST', '/api/programs/tengzhou-2019/register/stations', { token, body });

test('the awarded contractor registers a town station against M1 of its contract', async () => {
  const r = ok(await register(t.tokens.contractor, stations(2, 'M1')), 201);
  expect(r.stations[0]).toMatchObject({ id: 'S1', seq: 2, milestone: 'M1', by: 'contractor1' });
});

test('a milestone that is not in the contract is refused naming it (R-EV-1)', async () => {
  const r = await register(t.tokens.office, {
    stations: [{ ...stations(2, 'M9').stations[0], town: '级索镇' }],
  });
  expect(r.status).toBe(422);
  expect(r.body.violations[0].message).toBe(
    '第 1 条：分项目2「镇、村两级电子商务服务站点建设」的承办协议中没有里程碑 M9',
  );
});

test('another organisation, or a row naming no subproject, is refused (R-TD-3)', async () => {
  const other = await register(t.tokens.contractorB, {
    stations: [{ ...stations(2).stations[0], town: '洪绪镇' }],
  });
  expect(other.status).toBe(403);
  expect(other.body.code).toBe('R-TD-3');
  expect(other.body.detail).toBe('分项目 2 不是本单位承办的，不能登记其台账');
  const loose = await register(t.tokens.contractor, {
    stations: [{ ...stations(undefined).stations[0], town: '洪绪镇' }],
  });
  expect(loose.status).toBe(403);
  expect(loose.body.detail).toContain('第 1 条没有注明分项目');
});
