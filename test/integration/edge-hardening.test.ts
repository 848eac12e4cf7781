// Issue 12, points 1 and 2, and the HTTP edge: whatever a client sends answers a 4xx
// application/problem+json naming the field or parameter (never a 5xx, never a bare answer), and a refused
// request stores nothing. Also the security headers, the HTTP timeouts and the HOST setting.
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import pino from 'pino';
import { createApp } from '../../api/app';
import { loadConfig } from '../../engine/config';
import { importProgram } from '../support/flows';
import { startTestServer, type TestServer } from '../support/server';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
  await importProgram(t);
});
afterAll(async () => {
  await t?.close();
});

const problem = (r: { status: number; headers: Headers; body: any }, status: number) => {
  expect({ status: r.status, type: r.headers.get('content-type') }).toEqual({
    status,
    type: expect.stringContaining('application/problem+json'),
  });
  expect(r.body).toMatchObject({
    status,
    detail: expect.any(String),
    detail_en: expect.any(String),
  });
  expect(JSON.stringify(r.body)).not.toMatch(/\bat .*\.(ts|js):\d+/); // no stack trace
  return r.body;
};
const stored = async () => [await t.count('event'), await t.count('stream')];
const json = (token: string | null, body: string) => ({
  token,
  body,
  headers: { 'content-type': 'application/json' },
});

describe('issue 12.1: deeply nested JSON', () => {
  const deep = '['.repeat(10_000) + ']'.repeat(10_000);
  test('issue 12.1: 10,000 nested arrays on /api/auth/login (no token) answer 400, not 500 (stack overflow in the NUL guard)', async () => {
    const r = await t.call('POST', '/api/auth/login', json(null, deep));
    const p = problem(r, 400);
    expect(p.code).toBe('JSON-TOO-DEEP');
    expect(p.detail).toContain('32');
  });

  test('issue 12.1: 10,000 nested objects inside a field answer 400 naming where the nesting got too deep', async () => {
    const before = await stored();
    const body = `{"origin":"self_check","title":"x","extra":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`;
    const r = await t.call(
      'POST',
      '/api/programs/tengzhou-2019/findings',
      json(t.tokens.office, body),
    );
    const p = problem(r, 400);
    expect(p.errors[0].path).toMatch(/^extra(\.a)+$/);
    expect(await stored()).toEqual(before);
  });

  test('issue 12.1: a body nested 20 levels (within the limit) still reaches the schema', async () => {
    const r = await t.call(
      'POST',
      '/api/templates/tender_announcement/preview',
      json(t.tokens.office, `{"data":${'{"a":'.repeat(20)}1${'}'.repeat(20)}}`),
    );
    expect(r.status).toBeLessThan(500);
    expect(r.body?.code).not.toBe('JSON-TOO-DEEP');
  });
});

describe('issue 12.1: a lone UTF-16 surrogate in any string', () => {
  const cases: [string, string, string, string, string][] = [
    // what, role, path, raw JSON body (\ud800 as JSON escape), field named
    [
      'login username',
      '',
      '/api/auth/login',
      '{"username":"a\\ud800b","password":"x"}',
      'username',
    ],
    [
      'designation org',
      'office',
      '/api/programs/tengzhou-2019/subprojects/7/designation',
      '{"org":"某\\udc00公司","reason":"直接委托"}',
      'org',
    ],
    [
      'finding title',
      'office',
      '/api/programs/tengzhou-2019/findings',
      '{"origin":"self_check","title":"问题\\ud83d"}',
      'title',
    ],
    [
      'objection text',
      'contractorB',
      '/api/programs/tengzhou-2019/subprojects/3/objections',
      '{"text":"异议\\ud800"}',
      'text',
    ],
    [
      'program name (budget table)',
      'office',
      '/api/programs',
      '{"code":"x-2020","name":"县\\udfff","subprojects":[]}',
      'name',
    ],
    [
      'an object key',
      'office',
      '/api/programs/tengzhou-2019/findings',
      '{"origin":"self_check","title":"t","k\\ud800":1}',
      'k\ud800',
    ],
    [
      'a nested field',
      'office',
      '/api/programs/tengzhou-2019/gates/plan_filed',
      '{"document":{"title":"a","number":"\\ud800"}}',
      'document.number',
    ],
  ];
  test.each(cases)(
    'issue 12.1: a lone surrogate in the %s answers 400 naming the field, not 500, and stores nothing',
    async (_what, role, path, body, field) => {
      const before = await stored();
      const r = await t.call('POST', path, json(role ? t.tokens[role] : null, body));
      const p = problem(r, 400);
      expect(p.code).toBe('INVALID-TEXT');
      expect(p.errors).toEqual([expect.objectContaining({ path: field })]);
      expect(p.detail).toContain('代理项');
      expect(p.detail_en).toContain('surrogate');
      expect(await stored()).toEqual(before);
    },
  );

  test('issue 12.1: a well-formed surrogate pair (an emoji) is text like any other', async () => {
    const r = await t.call('POST', '/api/auth/login', {
      body: { username: 'a\ud83d\ude00b', password: 'x' },
    });
    expect(r.status).toBe(401);
  });

  test('issue 12.1: a NUL in a query parameter answers 400 naming it, not 500', async () => {
    const r = await t.call('GET', '/api/notices?program=a%00b');
    expect(problem(r, 400).errors[0].path).toBe('query.program');
  });

  test('issue 12.1: a NUL in a text path parameter (a milestone key) answers 400 naming it', async () => {
    const r = await t.call(
      'POST',
      '/api/programs/tengzhou-2019/subprojects/1/milestones/M%001/submission',
      { token: t.tokens.contractor, body: { deliverable: 'x' } },
    );
    expect(problem(r, 400).errors[0].path).toBe('key');
  });
});

describe('issue 12.1: X-File-Name', () => {
  test('issue 12.1: a NUL in X-File-Name (URL-encoded %00) answers 400 naming the header, not 500, and stores no file', async () => {
    const files = async () =>
      Number((await t.rt.pool.query('SELECT count(*)::int AS n FROM evidence_file')).rows[0].n);
    const before = await files();
    const res = await fetch(`${t.base}/api/files`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${t.tokens.contractor}`,
        'content-type': 'text/plain',
        'x-file-name': 'a%00b.txt',
      },
      body: 'hello',
    });
    const body = await res.json();
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(body.errors[0].path).toBe('X-File-Name');
    expect(await files()).toBe(before);
  });
});

describe('issue 12.1: ids beyond BIGINT', () => {
  const huge = ['9223372036854775807', '9223372036854775808', '9007199254740993', '1'.repeat(40)];
  test.each(huge)(
    'issue 12.1: notice and mail id %s answers 404 naming the id, not 500',
    async (id) => {
      const before = await stored();
      for (const [method, path, token, body] of [
        ['GET', `/api/notices/${id}`, null, undefined],
        ['GET', `/api/notices/${id}/pdf`, null, undefined],
        ['POST', `/api/notices/${id}/corrections`, t.tokens.office, { text: '更正' }],
        ['POST', `/api/mail/${id}/retry`, t.tokens.office, undefined],
      ] as const) {
        const r = await t.call(method, path, { token, body });
        const p = problem(r, 404);
        expect(p.errors).toEqual([expect.objectContaining({ path: 'id' })]);
        expect(p.detail).toContain(id);
      }
      expect(await stored()).toEqual(before);
    },
  );

  test('issue 12.1: a canonical id within range that names no notice is still the ordinary 404', async () => {
    const r = await t.call('GET', '/api/notices/9007199254740991');
    expect(problem(r, 404).errors).toBeUndefined();
  });
});

describe('issue 12.1: a path over 12 KB', () => {
  test("issue 12.1: a 20 KB path answers 431 application/problem+json, not Node's bare 431", async () => {
    const r = await t.call('GET', `/api/programs/${'a'.repeat(20_000)}`, {
      token: t.tokens.office,
    });
    expect(problem(r, 431).code).toBe('HEADERS-TOO-LARGE');
    // and the server goes on answering
    expect((await t.call('GET', '/healthz')).status).toBe(200);
  });

  test('issue 12.1: a malformed request line answers a 400 problem, not a bare 400', async () => {
    const raw = await rawRequest(
      t.base,
      'GET /api/notices HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n',
    );
    expect(raw).toMatch(/^HTTP\/1\.1 400 /);
    expect(raw).toContain('application/problem+json');
    expect(raw).toContain('"code":"MALFORMED-HTTP"');
  });
});

describe('issue 12.2: non-canonical numbers in paths', () => {
  const forms = ['0x1', '1e0', '+1', '%201', '1.0', '0b1', '01', '1%20', '0', '-1', '2147483648'];
  test.each(forms)(
    'issue 12.2: seq "%s" addresses no subproject: 404 naming seq (it addressed subproject 1)',
    async (seq) => {
      const r = await t.call('GET', `/api/programs/tengzhou-2019/subprojects/${seq}`, {
        token: t.tokens.office,
      });
      const p = problem(r, 404);
      expect(p.code).toBe('NOT-FOUND');
      expect(p.errors).toEqual([expect.objectContaining({ path: 'seq' })]);
      expect(p.detail).toContain('seq');
    },
  );

  test('issue 12.2: POST …/subprojects/0x1/tranches/T1/release (it paid 1万元) answers 404 and moves nothing', async () => {
    const before = await stored();
    const ledger = async () =>
      Number((await t.rt.pool.query('SELECT count(*)::int AS n FROM ledger_entry')).rows[0].n);
    const l0 = await ledger();
    for (const seq of ['0x1', '1e0', '+1', '01'])
      problem(
        await t.call('POST', `/api/programs/tengzhou-2019/subprojects/${seq}/tranches/T1/release`, {
          token: t.tokens.finance,
          body: { amount: '1' },
          headers: { 'idempotency-key': `k-${seq}` },
        }),
        404,
      );
    expect(await stored()).toEqual(before);
    expect(await ledger()).toBe(l0);
  });

  test('issue 12.2: the canonical seq 1 still addresses subproject 1', async () => {
    const r = await t.call('GET', '/api/programs/tengzhou-2019/subprojects/1', {
      token: t.tokens.office,
    });
    expect(r.status).toBe(200);
    expect(r.body.seq).toBe(1);
  });

  test('issue 12.2: objection, finding and claim ids are canonical too (F01, F+1, O0x1: 404)', async () => {
    for (const path of [
      '/api/programs/tengzhou-2019/findings/F01/close',
      '/api/programs/tengzhou-2019/findings/F+1/close',
      '/api/programs/tengzhou-2019/subprojects/3/objections/O0x1/resolve',
      '/api/programs/tengzhou-2019/parcel-claims/C1e0/review',
    ]) {
      const r = await t.call('POST', path, { token: t.tokens.office, body: {} });
      expect(problem(r, 404).errors[0].path).toBe('id');
    }
  });

  test('issue 12.2: the OpenAPI document states the canonical form of seq and id', async () => {
    const doc = (await t.call('GET', '/openapi.json')).body;
    const seq = doc.paths['/api/programs/{code}/subprojects/{seq}'].get.parameters.find(
      (p: { name: string }) => p.name === 'seq',
    );
    expect(seq.schema.pattern).toBe('^[1-9][0-9]*$');
  });
});

describe('issue 12: security headers, timeouts, HOST', () => {
  test('issue 12: every answer carries security headers (CSP, nosniff, frame and referrer policy), no HSTS over plain HTTP', async () => {
    for (const path of ['/healthz', '/api/nothing-here', '/login']) {
      const res = await fetch(t.base + path);
      const h = res.headers;
      expect(h.get('content-security-policy')).toContain("script-src 'self'");
      expect(h.get('content-security-policy')).toContain("frame-ancestors 'self'");
      expect(h.get('content-security-policy')).not.toContain('upgrade-insecure-requests');
      expect(h.get('x-content-type-options')).toBe('nosniff');
      expect(h.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(h.get('referrer-policy')).toBe('no-referrer');
      expect(h.get('strict-transport-security')).toBeNull();
      expect(h.get('x-powered-by')).toBeNull();
    }
  });

  test('issue 12: a client that sends its headers too slowly gets a 408 problem and its socket closed (headers timeout)', async () => {
    const app = createApp({
      ...t.rt,
      log: pino({ level: 'silent' }),
      http: { headersTimeoutMs: 600, requestTimeoutMs: 1000 },
    });
    const server: Server = app.listen(0);
    await new Promise<void>((r) => server.once('listening', () => r()));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      expect(server.headersTimeout).toBe(600);
      expect(server.requestTimeout).toBe(1000);
      const started = Date.now();
      const raw = await rawRequest(base, 'GET /healthz HTTP/1.1\r\nHost: x\r\n'); // never ends its headers
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(raw).toMatch(/^HTTP\/1\.1 408 /);
      expect(raw).toContain('"code":"REQUEST-TIMEOUT"');
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  test('issue 12: HOST and the HTTP timeouts are configuration, checked at start', () => {
    const c = loadConfig({ HOST: '127.0.0.1', HTTP_HEADERS_TIMEOUT_MS: '5000' });
    expect(c).toMatchObject({
      HOST: '127.0.0.1',
      HTTP_HEADERS_TIMEOUT_MS: 5000,
      HTTP_REQUEST_TIMEOUT_MS: 120_000,
      HTTP_KEEP_ALIVE_TIMEOUT_MS: 5_000,
    });
    expect(loadConfig({}).HOST).toBeUndefined();
    expect(() => loadConfig({ HOST: 'a b' })).toThrow(/HOST/);
    expect(() => loadConfig({ HTTP_REQUEST_TIMEOUT_MS: 'soon' })).toThrow(
      /HTTP_REQUEST_TIMEOUT_MS/,
    );
    expect(() =>
      loadConfig({ HTTP_HEADERS_TIMEOUT_MS: '60000', HTTP_REQUEST_TIMEOUT_MS: '30000' }),
    ).toThrow(/HTTP_HEADERS_TIMEOUT_MS/);
  });
});

/** Writes bytes to the server as they are and reads what comes back until the server closes. */
function rawRequest(base: string, bytes: string): Promise<string> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const s = connect(Number(port), hostname, () => s.write(bytes));
    let got = '';
    const giveUp = setTimeout(() => {
      s.destroy();
      resolve(got);
    }, 8_000);
    s.setEncoding('utf8');
    s.on('data', (d: string) => (got += d));
    s.on('end', () => {
      clearTimeout(giveUp);
      resolve(got);
    });
    s.on('error', (e) => {
      clearTimeout(giveUp);
      reject(e);
    });
  });
}
