// Issue 12.3: one idempotency mechanism for every money-moving or record-creating command (releases,
// recoveries, parcel payments and claims, findings, tender and acceptance objections): the same
// Idempotency-Key and body answer 200 with `Idempotent-Replayed: true` and the first answer; the same key
// with another body answers 422 IDEMPOTENCY-MISMATCH and records nothing.
import {
  acceptMilestone,
  contract,
  importProgram,
  later,
  ok,
  preEvaluate,
  release,
  submitMilestone,
  tengzhouInImplementation,
} from '../support/flows';
import { startTestServer, type TestServer } from '../support/server';

type Answer = { status: number; body: any; headers: Headers };

const replayed = (r: Answer) => r.headers.get('idempotent-replayed');
const eventCount = async (t: TestServer) =>
  Number((await t.rt.pool.query('SELECT count(*)::int AS n FROM event')).rows[0].n);

describe('Tengzhou', () => {
  let t: TestServer;
  const P = '/api/programs/tengzhou-2019';
  beforeAll(async () => {
    t = await startTestServer();
    await tengzhouInImplementation(t);
  });
  afterAll(async () => {
    await t?.close();
  });
  const post = (path: string, token: string, body: unknown, key?: string) =>
    t.call('POST', path, {
      token,
      body,
      headers: key === undefined ? {} : { 'idempotency-key': key },
    }) as Promise<Answer>;

  test('issue 12.3: a recovery replayed answers 200 with Idempotent-Replayed and the first answer; with another body 422 IDEMPOTENCY-MISMATCH and records nothing', async () => {
    const SP = `${P}/subprojects/4`;
    await contract(t, 'tengzhou-2019', 4, {
      milestones: [
        { key: 'M1', title: '区域公共品牌', due: '2020-06-30' },
        { key: 'M2', title: '溯源系统', due: '2020-12-31' },
      ],
      tranches: [
        { key: 'T1', milestone: 'M1', source: 'central', amount: '200' },
        { key: 'T2', milestone: 'M2', source: 'central', amount: '279' },
        { key: 'T3', milestone: 'M2', source: 'local', amount: '120' },
      ],
    });
    await acceptMilestone(t, 'tengzhou-2019', 4, 'M1', { deliverable: '品牌发布' });
    const first = await release(t, 'tengzhou-2019', 4, 'T1', 'tz4-T1');
    expect(first.status).toBe(201);
    // releases go through the same mechanism: the replay is the first answer, another body is refused
    const again = await release(t, 'tengzhou-2019', 4, 'T1', 'tz4-T1');
    expect([again.status, replayed(again)]).toEqual([200, 'true']);
    expect(again.body.disbursement).toEqual(first.body.disbursement);
    const other = await release(t, 'tengzhou-2019', 4, 'T1', 'tz4-T1', { amount: '1' });
    expect([other.status, other.body.code]).toEqual([422, 'IDEMPOTENCY-MISMATCH']);

    const m = `${SP}/milestones/M2`;
    await submitMilestone(t, m, { deliverable: '溯源系统上线' });
    await preEvaluate(t, m, { opinion: '未实现一品一码', recommendation: 'reject' });
    ok(
      await post(`${m}/decision`, t.tokens.office, {
        decision: 'reject',
        defects: ['未实现“一品一码”'],
        rectificationDeadline: later(t, 15).slice(0, 10),
      }),
    );
    await t.at(later(t, 16));
    await t.rt.scheduler.runDue(); // terminated: 200万 central to be recovered

    const rec = (amount: string, key: string) =>
      post(`${SP}/recoveries`, t.tokens.finance, { source: 'central', amount }, key);
    const r1 = await rec('120', 'recovery-0001');
    expect([r1.status, replayed(r1)]).toEqual([201, null]);
    const events = await eventCount(t);
    const r2 = await rec('120', 'recovery-0001');
    expect([r2.status, replayed(r2)]).toEqual([200, 'true']); // was 201 without the header
    expect(r2.body).toEqual(r1.body);
    const r3 = await rec('80', 'recovery-0001');
    expect([r3.status, r3.body.code]).toEqual([422, 'IDEMPOTENCY-MISMATCH']); // was 201, nothing recorded
    expect(await eventCount(t)).toBe(events);
    const L = ok(await t.call('GET', `${SP}/ledger`, { token: t.tokens.finance }));
    expect(L.total).toMatchObject({ recovered: { wan: '120' }, outstanding: { wan: '80' } });
    // the key is still required on money
    expect((await rec('80', undefined as unknown as string)).status).toBe(400);
  });

  test('issue 12.3: a finding sent twice with one key is recorded once (200 replay); another body under the key 422; without a key as before', async () => {
    const F = `${P}/findings`;
    const body = { origin: 'self_check', title: '站点台账不全' };
    const f1 = await post(F, t.tokens.office, body, 'finding-1');
    expect(f1.status).toBe(201);
    const f2 = await post(F, t.tokens.office, body, 'finding-1');
    expect([f2.status, replayed(f2)]).toEqual([200, 'true']); // was a second finding
    expect(f2.body).toEqual(f1.body);
    const f3 = await post(F, t.tokens.office, { ...body, title: '另一事项' }, 'finding-1');
    expect([f3.status, f3.body.code]).toEqual([422, 'IDEMPOTENCY-MISMATCH']);
    const findings = async () => ok(await t.call('GET', P, { token: t.tokens.office })).findings;
    expect(await findings()).toHaveLength(1);
    // Prefer: return=minimal replays the first version and events
    const min = await t.call('POST', F, {
      token: t.tokens.office,
      body,
      headers: { 'idempotency-key': 'finding-1', prefer: 'return=minimal' },
    });
    expect(min.body).toEqual({ version: f1.body.version, appended: f1.body.appended });
    // a key-less request behaves as today: each one records a finding
    expect((await post(F, t.tokens.office, body)).status).toBe(201);
    expect((await post(F, t.tokens.office, body)).status).toBe(201);
    expect(await findings()).toHaveLength(3);
    // keys are per user: another user's same key is another key (here refused by role, not replayed)
    expect((await post(F, t.tokens.finance, body, 'finding-1')).status).toBe(403);
  });

  test('issue 12.3: a replay after a crash lost the stored answer is rebuilt from the events the key names (same version and events)', async () => {
    const F = `${P}/findings`;
    const body = { origin: 'provincial', title: '绩效评价：物流体系覆盖不足' };
    const f1 = await post(F, t.tokens.office, body, 'finding-crash');
    expect(f1.status).toBe(201);
    // the state a crash between the commit and storing the answer leaves
    await t.rt.pool.query("UPDATE idempotency_key SET answer = NULL WHERE key = 'finding-crash'");
    const f2 = await post(F, t.tokens.office, body, 'finding-crash');
    expect([f2.status, replayed(f2)]).toEqual([200, 'true']);
    expect(f2.body.appended).toEqual(f1.body.appended);
    expect(f2.body.version).toBe(f1.body.version);
    expect(
      ok(await t.call('GET', P, { token: t.tokens.office })).findings.filter(
        (f: { title: string }) => f.title === body.title,
      ),
    ).toHaveLength(1);
  });

  test('issue 12.3: ten concurrent requests with one key record one finding: one 201, nine 200 replays', async () => {
    const body = { origin: 'self_check', title: '并发重试' };
    const rs = await Promise.all(
      Array.from({ length: 10 }, () => post(`${P}/findings`, t.tokens.office, body, 'finding-x')),
    );
    expect(rs.map((r) => r.status).sort()).toEqual([
      200, 200, 200, 200, 200, 200, 200, 200, 200, 201,
    ]);
    expect(
      ok(await t.call('GET', P, { token: t.tokens.office })).findings.filter(
        (f: { title: string }) => f.title === body.title,
      ),
    ).toHaveLength(1);
  });

  test('issue 12.3: tender and acceptance objections take a key: a retry does not raise a second objection', async () => {
    // a tender objection during candidate publicity (subproject 3)
    const SP3 = `${P}/subprojects/3`;
    const p3 = (path: string, token: string, body: unknown = {}) =>
      post(`${SP3}${path}`, token, body);
    ok(
      await p3('/tender', t.tokens.office, {
        announcement: { title: '分项目3招标公告' },
        bidDeadline: later(t, 21).slice(0, 10),
      }),
      201,
    );
    for (const token of [t.tokens.contractor, t.tokens.contractorB, t.tokens.contractorC])
      ok(await p3('/bids', token, { price: '1000000', proposal: '方案' }), 201);
    await t.at(later(t, 22));
    ok(await p3('/opening', t.tokens.office));
    ok(
      await p3('/scores', t.tokens.evaluator, {
        scores: [
          { org: '滕州市邮政分公司', score: 95 },
          { org: '某物流有限公司', score: 90 },
          { org: '鲁南快递有限公司', score: 85 },
        ],
      }),
    );
    ok(await p3('/candidate', t.tokens.office, { org: '滕州市邮政分公司' }));
    const o = { text: '评分不公' };
    const o1 = await post(`${SP3}/objections`, t.tokens.contractorB, o, 'tender-obj');
    expect(o1.status).toBe(201);
    const o2 = await post(`${SP3}/objections`, t.tokens.contractorB, o, 'tender-obj');
    expect([o2.status, replayed(o2)]).toEqual([200, 'true']);
    const o3 = await post(
      `${SP3}/objections`,
      t.tokens.contractorB,
      { text: '另一异议' },
      'tender-obj',
    );
    expect([o3.status, o3.body.code]).toEqual([422, 'IDEMPOTENCY-MISMATCH']);
    const objections = (
      await t.rt.pool.query(
        "SELECT count(*)::int AS n FROM event WHERE stream_id = 'subproject-tengzhou-2019-3' AND type = 'ObjectionRaised'",
      )
    ).rows[0].n;
    expect(objections).toBe(1);

    // an acceptance objection during acceptance publicity (subproject 7, designated)
    const SP7 = `${P}/subprojects/7`;
    ok(
      await post(`${SP7}/designation`, t.tokens.office, {
        org: '滕州市邮政分公司',
        reason: '资金安排表确定为直接委托',
      }),
      201,
    );
    ok(
      await post(`${SP7}/contract`, t.tokens.office, {
        document: { title: '委托协议' },
        milestones: [{ key: 'M1', title: '宣传推广', due: '2021-06-30' }],
        tranches: [{ key: 'T1', milestone: 'M1', source: 'local', amount: '100' }],
      }),
      201,
    );
    const m = `${SP7}/milestones/M1`;
    await submitMilestone(t, m, { deliverable: '宣传推广' });
    await preEvaluate(t, m, { opinion: '合格', recommendation: 'accept' });
    ok(await post(`${m}/decision`, t.tokens.office, { decision: 'accept' }));
    const a = { text: '预评报告与实际不符' };
    const a1 = await post(`${m}/objections`, t.tokens.supervisor, a, 'acc-obj');
    expect(a1.status).toBe(201);
    const a2 = await post(`${m}/objections`, t.tokens.supervisor, a, 'acc-obj');
    expect([a2.status, replayed(a2)]).toEqual([200, 'true']);
    expect(a2.body).toEqual(a1.body);
    const a3 = await post(`${m}/objections`, t.tokens.supervisor, { text: '改了' }, 'acc-obj');
    expect([a3.status, a3.body.code]).toEqual([422, 'IDEMPOTENCY-MISMATCH']);
    const s = ok(await t.call('GET', SP7, { token: t.tokens.office }));
    expect(s.milestones[0].publicity.objections).toHaveLength(1);
  });

  test('issue 12.3: the OpenAPI document names the Idempotency-Key header and the 200 replay on every keyed command', async () => {
    const doc = ok(await t.call('GET', '/openapi.json'));
    const ops: [string, boolean][] = [
      ['/api/programs/{code}/subprojects/{seq}/tranches/{tranche}/release', true],
      ['/api/programs/{code}/subprojects/{seq}/recoveries', true],
      ['/api/programs/{code}/parcel-claims/{id}/pay', true],
      ['/api/programs/{code}/parcel-claims', false],
      ['/api/programs/{code}/findings', false],
      ['/api/programs/{code}/subprojects/{seq}/objections', false],
      ['/api/programs/{code}/subprojects/{seq}/milestones/{key}/objections', false],
    ];
    for (const [path, required] of ops) {
      const op = doc.paths[path].post;
      const h = op.parameters.find(
        (p: { in: string; name: string }) => p.in === 'header' && p.name === 'idempotency-key',
      );
      expect([path, Boolean(h), Boolean(h?.required)]).toEqual([path, true, required]);
      expect([path, op.responses['200']?.headers?.['Idempotent-Replayed']]).toEqual([
        path,
        expect.objectContaining({ schema: expect.anything() }),
      ]);
      expect([path, Boolean(op.responses['422'])]).toEqual([path, true]);
    }
  });
});

describe('Shicheng parcel subsidies', () => {
  let t: TestServer;
  const C = '/api/programs/shicheng-2020/parcel-claims';
  beforeAll(async () => {
    t = await startTestServer({ now: '2020-04-10T02:00:00.000Z' });
    await importProgram(t, 'shicheng-2020');
  });
  afterAll(async () => {
    await t?.close();
  });

  test('issue 12.3: a parcel claim retried with its key is claimed once (200 replay, not 422 duplicate waybills); a payment key reused for another claim is 422', async () => {
    const csv =
      '运单号,寄件地,品名\n' +
      Array.from({ length: 10 }, (_, i) => `YT${String(i + 1).padStart(9, '0')},石城县,白莲`).join(
        '\n',
      );
    const up = await fetch(`${t.base}/api/files`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${t.tokens.contractor}`,
        'content-type': 'text/csv',
        'x-file-name': 'q1.csv',
      },
      body: csv,
    });
    const file = ((await up.json()) as { sha256: string }).sha256;
    const claim = (quarter: string, key?: string) =>
      t.call('POST', C, {
        token: t.tokens.contractor,
        body: { quarter, file },
        headers: key ? { 'idempotency-key': key } : {},
      }) as Promise<Answer>;
    const c1 = await claim('2020Q1', 'claim-q1');
    expect(c1.status).toBe(201);
    const c2 = await claim('2020Q1', 'claim-q1');
    expect([c2.status, replayed(c2)]).toEqual([200, 'true']); // was 422 (its own waybills "claimed twice")
    expect(c2.body).toEqual(c1.body);
    const c3 = await claim('2020Q2', 'claim-q1');
    expect([c3.status, c3.body.code]).toEqual([422, 'IDEMPOTENCY-MISMATCH']);
    expect(ok(await t.call('GET', C, { token: t.tokens.office })).items).toHaveLength(1);

    ok(
      await t.call('POST', `${C}/C1/review`, {
        token: t.tokens.office,
        body: { decision: 'approve' },
      }),
    );
    const pay = (id: string, key: string) =>
      t.call('POST', `${C}/${id}/pay`, {
        token: t.tokens.finance,
        headers: { 'idempotency-key': key },
      }) as Promise<Answer>;
    const p1 = await pay('C1', 'pay-1');
    expect(p1.status).toBe(201);
    const p2 = await pay('C1', 'pay-1');
    expect([p2.status, replayed(p2)]).toEqual([200, 'true']);
    expect(p2.body).toEqual(p1.body);
    const p3 = await pay('C9', 'pay-1');
    expect([p3.status, p3.body.code]).toEqual([422, 'IDEMPOTENCY-MISMATCH']);
  });
});
