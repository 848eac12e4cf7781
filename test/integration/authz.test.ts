// Role × endpoint matrix: only the leading group office creates programs and moves phases; nothing
// changes when anyone else tries.
import { loadTable } from '../support/fixtures';
import { startTestServer, type TestServer } from '../support/server';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
  const r = await t.call('POST', '/api/programs', {
    token: t.tokens.office,
    body: loadTable('shicheng-2020'),
  });
  expect(r.status).toBe(201);
});
afterAll(async () => {
  await t?.close();
});

const doc = { document: { title: '实施方案' } };
const writes: [string, string, unknown][] = [
  ['POST', '/api/programs', { ...loadTable('tengzhou-2019') }],
  ['POST', '/api/programs/shicheng-2020/advance', { to: 'build' }],
  ['POST', '/api/programs/shicheng-2020/gates/plan_filed', doc],
  ['POST', '/api/programs/shicheng-2020/findings', { origin: 'self_check', title: '问题' }],
  ['POST', '/api/programs/shicheng-2020/findings/F1/close', doc],
];
const callers = [
  'anonymous',
  'contractor',
  'contractorB',
  'finance',
  'supervisor',
  'evaluator',
] as const;

describe.each(writes)('%s %s', (method, path, body) => {
  test.each(callers)('refused for %s, nothing changes', async (who) => {
    const events = await t.count('event');
    const token = who === 'anonymous' ? null : t.tokens[who];
    const r = await t.call(method, path, { token, body });
    expect(r.status).toBe(who === 'anonymous' ? 401 : 403);
    expect(r.headers.get('content-type')).toContain('application/problem+json');
    expect(r.body.detail).toMatch(who === 'anonymous' ? /请先登录/ : /无权/);
    expect(await t.count('event')).toBe(events);
  });
  test('a bad or expired token is 401', async () => {
    expect((await t.call(method, path, { token: 'not-a-token', body })).status).toBe(401);
  });
});

describe('reads', () => {
  test.each(['office', 'contractor', 'finance', 'supervisor', 'evaluator'] as const)(
    '%s reads programs',
    async (who) => {
      expect(
        (await t.call('GET', '/api/programs/shicheng-2020', { token: t.tokens[who] })).status,
      ).toBe(200);
      expect((await t.call('GET', '/api/programs', { token: t.tokens[who] })).status).toBe(200);
    },
  );
  test('anonymous reads nothing of the console API', async () => {
    expect((await t.call('GET', '/api/programs')).status).toBe(401);
    expect((await t.call('GET', '/api/programs/shicheng-2020')).status).toBe(401);
  });
  test.each([
    ['contractor', 403],
    ['evaluator', 403],
    ['supervisor', 200],
    ['finance', 200],
    ['office', 200],
  ] as const)('audit trail for %s → %i', async (who, status) => {
    expect(
      (await t.call('GET', '/api/programs/shicheng-2020/events', { token: t.tokens[who] })).status,
    ).toBe(status);
  });
  test('the office can act (control for the matrix above)', async () => {
    const r = await t.call('POST', '/api/programs/shicheng-2020/gates/plan_filed', {
      token: t.tokens.office,
      body: doc,
    });
    expect(r.status).toBe(200);
  });
});

describe('login', () => {
  test('wrong password and unknown user get the same 401', async () => {
    const a = await t.call('POST', '/api/auth/login', {
      body: { username: 'office1', password: 'wrong-password' },
    });
    const b = await t.call('POST', '/api/auth/login', {
      body: { username: 'nobody', password: 'wrong-password' },
    });
    expect([a.status, b.status]).toEqual([401, 401]);
    expect(a.body.detail).toBe(b.body.detail);
  });
  test('logout revokes the token', async () => {
    const r = await t.call('POST', '/api/auth/login', {
      body: { username: 'supervisor1', password: 'correct-horse-1' },
    });
    const token = r.body.token;
    expect((await t.call('GET', '/api/me', { token })).body).toMatchObject({
      username: 'supervisor1',
      role: 'supervisor',
    });
    expect((await t.call('POST', '/api/auth/logout', { token })).status).toBe(204);
    expect((await t.call('GET', '/api/me', { token })).status).toBe(401);
  });
  test('passwords are stored as scrypt hashes, never in clear', async () => {
    const rows = await t.rt.prisma.user.findMany();
    for (const u of rows) {
      expect(u.passwordHash).toMatch(/^scrypt\$16384\$8\$1\$/);
      expect(u.passwordHash).not.toContain('correct-horse');
    }
  });
});
