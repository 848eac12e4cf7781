// HTTP API against real PostgreSQL: import, budget refusals (nothing stored), gates and phases.
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { createApp } from '../../api/app';
import { createLogger } from '../../api/logger';
import { loadTable, withFunding } from '../support/fixtures';
import { startTestServer, type TestServer } from '../support/server';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.close();
});

const office = () => t.tokens.office;
const post = (path: string, body: unknown, token: string | null = office()) =>
  t.call('POST', path, { token, body });

describe('importing budget tables', () => {
  test('both real tables import (201) and read back with phase, gates, subprojects and budget by source', async () => {
    for (const name of ['tengzhou-2019', 'shicheng-2020'] as const) {
      const r = await post('/api/programs', loadTable(name));
      expect(r.status).toBe(201);
      expect(r.headers.get('location')).toBe(`/api/programs/${name}`);
    }
    const r = await t.call('GET', '/api/programs/tengzhou-2019', { token: t.tokens.supervisor });
    expect(r.status).toBe(200);
    expect(r.body.phase).toMatchObject({ key: 'prepare', name: '启动筹备' });
    expect(r.body.gates.map((g: { key: string; open: boolean }) => [g.key, g.open])).toEqual([
      ['plan_filed', true],
      ['leading_group_established', true],
      ['budget_valid', false],
    ]);
    expect(r.body.budget.bySource).toEqual([
      { source: 'central', name: '中央财政资金', fen: 1_500_000_000, wan: '1500' },
      { source: 'local', name: '地方配套资金', fen: 600_000_000, wan: '600' },
      { source: 'enterprise', name: '企业自筹及社会资本', fen: 0, wan: '0' },
    ]);
    expect(r.body.budget.total).toEqual({ fen: 2_100_000_000, wan: '2100' });
    expect(r.body.subprojects).toHaveLength(7);
    expect(r.body.subprojects[1]).toMatchObject({
      seq: 2,
      name: '镇、村两级电子商务服务站点建设',
      funding: { central: { wan: '141' }, total: { wan: '261' } },
      status: 'planned',
    });
    const sc = await t.call('GET', '/api/programs/shicheng-2020', { token: t.tokens.contractor });
    expect(sc.body.budget.total.wan).toBe('3500');
    expect(sc.body.phases.map((p: { name: string }) => p.name)).toEqual([
      '项目启动与筹备',
      '项目建设与验收',
      '项目巩固与完善',
    ]);
    const list = await t.call('GET', '/api/programs', { token: t.tokens.finance });
    expect(list.body.items.map((p: { code: string }) => p.code)).toEqual([
      'shicheng-2020',
      'tengzhou-2019',
    ]);
    expect(await t.count('subproject')).toBe(14);
  });

  test('importing the same code twice → 409', async () => {
    const r = await post('/api/programs', loadTable('tengzhou-2019'));
    expect(r.status).toBe(409);
    expect(r.body.detail).toContain('已存在');
  });

  describe('refused tables store nothing', () => {
    const before: Record<string, number> = {};
    beforeEach(async () => {
      for (const tb of ['program', 'subproject', 'stream', 'event'] as const)
        before[tb] = await t.count(tb);
    });
    afterEach(async () => {
      for (const tb of ['program', 'subproject', 'stream', 'event'] as const)
        expect(await t.count(tb)).toBe(before[tb]);
    });
    const renamed = <T extends { code: string }>(x: T): T => ({ ...x, code: 'refused-1' });

    test('Shicheng with centre 226 / promotion 154 → 422 R-FUND-3 "centre 15.07% > 15%"', async () => {
      const r = await post(
        '/api/programs',
        renamed(
          withFunding(
            withFunding(loadTable('shicheng-2020'), 1, 'central', '226'),
            7,
            'central',
            '154',
          ),
        ),
      );
      expect(r.status).toBe(422);
      expect(r.headers.get('content-type')).toContain('application/problem+json');
      expect(r.body.rules).toEqual(['R-FUND-3']);
      expect(r.body.violations[0].message_en).toContain('centre 15.07% > 15%');
      expect(r.body.detail).toContain('15.07% > 15%');
    });
    test('central column summing to 1,499 → 422 R-FUND-1 naming the column', async () => {
      const r = await post(
        '/api/programs',
        renamed(withFunding(loadTable('tengzhou-2019'), 4, 'central', '478')),
      );
      expect(r.status).toBe(422);
      expect(r.body.rules).toEqual(['R-FUND-1']);
      expect(r.body.violations[0]).toMatchObject({
        field: 'totals.central',
        figures: { column: 'central', sum: '1499', totals: '1500' },
      });
    });
    test('logistics moved so the ≥ 50% group falls to 49.9% → 422 R-FUND-2', async () => {
      const r = await post(
        '/api/programs',
        renamed(
          withFunding(
            withFunding(loadTable('tengzhou-2019'), 3, 'central', '128.5'),
            5,
            'central',
            '451.5',
          ),
        ),
      );
      expect(r.status).toBe(422);
      expect(r.body.rules).toEqual(['R-FUND-2']);
      expect(r.body.violations[0].figures.percent).toBe('49.90');
    });
    test('malformed input → 400 with field paths', async () => {
      const bad = renamed(loadTable('tengzhou-2019')) as unknown as Record<string, unknown>;
      const r = await post('/api/programs', { ...bad, year: '2019', totals: { central: 'x' } });
      expect(r.status).toBe(400);
      expect(r.body.errors.map((e: { path: string }) => e.path)).toEqual(
        expect.arrayContaining(['year', 'totals.central', 'totals.local']),
      );
    });
    test('an amount finer than one fen → 400 naming the field', async () => {
      const r = await post(
        '/api/programs',
        renamed(withFunding(loadTable('tengzhou-2019'), 1, 'central', '200.0000001')),
      );
      expect(r.status).toBe(400);
      expect(r.body.errors[0].path).toBe('subprojects[0].funding.central');
    });
    test('broken JSON → 400 problem, no stack trace', async () => {
      const r = await t.call('POST', '/api/programs', {
        token: office(),
        body: '{"code": ',
        headers: { 'content-type': 'application/json' },
      });
      expect(r.status).toBe(400);
      expect(r.body.detail).toBe('请求体不是有效的 JSON');
      expect(JSON.stringify(r.body)).not.toMatch(/at .*\.ts:\d+/);
    });
  });
});

describe('phases and gates over HTTP', () => {
  const code = 'tengzhou-2019';
  test('advancing from 启动筹备 with open gates → 409 naming each open gate', async () => {
    const r = await post(`/api/programs/${code}/advance`, { to: 'implement' });
    expect(r.status).toBe(409);
    expect(r.body.rules).toEqual(['R-PH-2']);
    expect(r.body.violations.map((v: { field: string }) => v.field)).toEqual([
      'gates.plan_filed',
      'gates.leading_group_established',
    ]);
  });
  test('after filing the plan and establishing the leading group it advances; skipping/going back is refused', async () => {
    let r = await post(`/api/programs/${code}/gates/plan_filed`, {
      document: {
        title: '滕州市电子商务进农村综合示范实施方案',
        number: '滕政办字〔2019〕33号',
        date: '2019-09-20',
      },
      reason: '已报省商务厅备案',
    });
    expect(r.status).toBe(200);
    expect(r.body.gates.find((g: { key: string }) => g.key === 'plan_filed')).toMatchObject({
      open: false,
      act: {
        by: 'office1',
        document: { number: '滕政办字〔2019〕33号' },
        reason: '已报省商务厅备案',
      },
    });
    r = await post(`/api/programs/${code}/advance`, { to: 'implement' });
    expect(r.status).toBe(409);
    expect(r.body.violations.map((v: { field: string }) => v.field)).toEqual([
      'gates.leading_group_established',
    ]);
    r = await post(`/api/programs/${code}/gates/leading_group_established`, {
      document: { title: '关于成立电子商务进农村综合示范工作领导小组的通知' },
    });
    expect(r.status).toBe(200);
    r = await post(`/api/programs/${code}/advance`, { to: 'evaluate' });
    expect(r.status).toBe(409);
    expect(r.body.rules).toEqual(['R-PH-1']);
    r = await post(`/api/programs/${code}/advance`, { to: 'implement', reason: '筹备工作完成' });
    expect(r.status).toBe(200);
    expect(r.body.phase).toMatchObject({ key: 'implement', name: '组织实施' });
    r = await post(`/api/programs/${code}/advance`, { to: 'prepare' });
    expect(r.status).toBe(409);
    expect(r.body.rules).toEqual(['R-PH-1']);
    const ev = await t.call('GET', `/api/programs/${code}/events`, { token: t.tokens.supervisor });
    expect(ev.body.items.map((e: { type: string; actor: string }) => [e.type, e.actor])).toEqual([
      ['ProgramCreated', 'office1'],
      ['GateActRecorded', 'office1'],
      ['GateActRecorded', 'office1'],
      ['PhaseAdvanced', 'office1'],
    ]);
    expect(ev.body.items[3]).toMatchObject({ command: 'AdvancePhase', reason: '筹备工作完成' });
    expect(ev.body.items[1].prevHash).toBe(ev.body.items[0].hash);
  });
  test('R-PH-3: an overdue phase is visible in the program and the list', async () => {
    t.clock.set('2021-01-05T00:00:00.000Z'); // 组织实施 was planned to end 2020-12-31
    const stale = await t.call('GET', `/api/programs/${code}`, { token: office() });
    expect(stale.status).toBe(401); // sessions last 12 hours of the engine's clock
    await t.relogin();
    const r = await t.call('GET', `/api/programs/${code}`, { token: office() });
    expect(r.body.overdue).toEqual({ phase: 'implement', end: '2020-12-31', days: 5 });
    const list = await t.call('GET', '/api/programs', { token: office() });
    expect(list.body.items.find((p: { code: string }) => p.code === code).overdueDays).toBe(5);
  });
  test('unknown program → 404; unknown gate → 400', async () => {
    expect((await t.call('GET', '/api/programs/nope-1', { token: office() })).status).toBe(404);
    expect((await post('/api/programs/nope-1/advance', { to: 'implement' })).status).toBe(404);
    const r = await post(`/api/programs/${code}/gates/bogus`, { document: { title: 'x' } });
    expect(r.status).toBe(400);
    expect(r.body.errors[0].path).toBe('gate');
  });
});

describe('service endpoints', () => {
  test('/healthz and /openapi.json', async () => {
    expect((await t.call('GET', '/healthz')).body).toMatchObject({ status: 'ok', db: 'up' });
    const doc = (await t.call('GET', '/openapi.json')).body;
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/auth/login',
        '/api/programs',
        '/api/programs/{code}',
        '/api/programs/{code}/advance',
        '/api/programs/{code}/gates/{gate}',
      ]),
    );
    expect(
      doc.paths['/api/programs'].post.requestBody.content['application/json'].schema,
    ).toBeDefined();
    expect(
      doc.paths['/api/programs'].post.responses['422'].content['application/problem+json'],
    ).toBeDefined();
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });
  test('unknown route → 404 problem', async () => {
    const r = await t.call('GET', '/api/nothing');
    expect(r.status).toBe(404);
    expect(r.body.code).toBe('NOT-FOUND');
  });
});

describe('what a user meets on mistakes', () => {
  test('validation messages are in Chinese; an unknown field is named at its own path', async () => {
    const r = await post('/api/programs/tengzhou-2019/advance', { to: 5, foo: 1 });
    expect(r.status).toBe(400);
    expect(r.body.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'to', message: expect.stringContaining('无效输入') }),
        expect.objectContaining({ path: 'foo', message: '不认识的字段「foo」' }),
      ]),
    );
  });
  test('a body that is not JSON → 415', async () => {
    const r = await t.call('POST', '/api/programs/tengzhou-2019/advance', {
      token: office(),
      body: '{"to":"evaluate"}',
      headers: { 'content-type': 'text/plain' },
    });
    expect(r.status).toBe(415);
    expect(r.body.detail).toContain('application/json');
  });
});

test('Bearer tokens never reach the log', async () => {
  const lines: string[] = [];
  const log = createLogger(
    'info',
    new Writable({
      write(chunk, _e, cb) {
        lines.push(String(chunk));
        cb();
      },
    }),
  );
  const server = createApp({ ...t.rt, log }).listen(0);
  await new Promise<void>((r) => server.once('listening', () => r()));
  try {
    const port = (server.address() as AddressInfo).port;
    await fetch(`http://127.0.0.1:${port}/api/programs`, {
      headers: { authorization: `Bearer ${office()}` },
    });
    expect(lines.join('')).toContain('/api/programs');
    expect(lines.join('')).not.toContain(office());
    expect(lines.join('')).toContain('[已隐藏]');
  } finally {
    await new Promise((r) => server.close(r));
  }
});

test('Prefer: return=minimal answers a command with the new version and the events appended', async () => {
  const r = await t.call('POST', '/api/programs/tengzhou-2019/findings', {
    token: office(),
    body: { origin: 'self_check', title: '最小响应' },
    headers: { prefer: 'return=minimal' },
  });
  expect(r.status).toBe(201);
  expect(r.headers.get('preference-applied')).toBe('return=minimal');
  expect(Object.keys(r.body).sort()).toEqual(['appended', 'version']);
  expect(r.body.appended[0]).toMatchObject({ type: 'FindingRecorded' });
});

describe("routing (find-my-way, with Express's matching rules)", () => {
  test('a trailing slash and the letter case of the path do not matter; parameters keep their case', async () => {
    const a = await t.call('GET', '/api/programs/tengzhou-2019/', { token: office() });
    expect(a.status).toBe(200);
    expect(a.body.code).toBe('tengzhou-2019');
    const b = await t.call('GET', '/API/Programs/tengzhou-2019', { token: office() });
    expect(b.status).toBe(200);
    const c = await t.call('GET', '/api/programs/TENGZHOU-2019', { token: office() });
    expect(c.status).toBe(400); // the code arrives as sent (codes are lower case): not lowercased on the way
    expect(c.body.errors[0].path).toBe('code');
  });

  test('HEAD answers a GET route without a body; a method the path does not have is a 405 with Allow; an unknown path a 404', async () => {
    const h = await fetch(`${t.base}/api/notices`, { method: 'HEAD' });
    expect(h.status).toBe(200);
    expect(await h.text()).toBe('');
    const x = await t.call('DELETE', '/api/programs/tengzhou-2019', { token: office() });
    expect(x.status).toBe(405);
    expect(x.headers.get('allow')).toBe('GET, HEAD');
    expect(x.body.code).toBe('METHOD-NOT-ALLOWED');
    expect(x.headers.get('content-type')).toContain('application/problem+json');
    // the most specific route's methods: POST /api/programs/xlsx is not GET /api/programs/:code
    const o = await fetch(`${t.base}/api/programs/xlsx`, { method: 'OPTIONS' });
    expect([o.status, o.headers.get('allow')]).toEqual([405, 'POST']);
    const n = await t.call('DELETE', '/api/nowhere', { token: office() });
    expect(n.status).toBe(404);
    expect(n.body.detail).toContain('DELETE /api/nowhere');
  });

  test('a path with malformed percent-encoding is a 400 naming it, not a 404', async () => {
    const r = await t.call('GET', '/api/programs/%E0%A4%A', { token: office() });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('INVALID-PATH');
    expect(r.body.detail).toContain('百分号编码');
  });

  test('percent-encoded parameters arrive decoded', async () => {
    const r = await t.call('GET', '/api/programs/no%2Dsuch%2Dprogram', { token: office() });
    expect(r.status).toBe(404);
    expect(r.body.detail).toContain('no-such-program');
  });
});

test('a NUL character (U+0000) anywhere in a body is refused with 400 naming the field, and nothing is stored', async () => {
  const before = (await t.call('GET', '/api/programs/tengzhou-2019', { token: office() })).body
    .version;
  const r = await post('/api/programs/tengzhou-2019/findings', {
    origin: 'self_check',
    title: '含\u0000空字符',
  });
  expect(r.status).toBe(400);
  expect(r.body.errors).toEqual([expect.objectContaining({ path: 'title' })]);
  expect(r.body.detail).toContain('U+0000');
  const nested = await post('/api/programs/tengzhou-2019/gates/plan_filed', {
    document: { title: 'a', number: 'x\u0000' },
  });
  expect(nested.status).toBe(400);
  expect(nested.body.errors[0].path).toBe('document.number');
  expect(
    (await t.call('GET', '/api/programs/tengzhou-2019', { token: office() })).body.version,
  ).toBe(before);
});
