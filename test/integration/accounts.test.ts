// Accounts: login throttling (issue 12.6: 982 attempts in 30 s were all processed) and the office's
// acts on an account (issue 13's users page: reset a password, disable, enable, unlock), each an
// audited office act whose event never holds a password or its hash.
import { runCli } from '../support/cli';
import { later, ok } from '../support/flows';
import { PASSWORD, startTestServer, type TestServer } from '../support/server';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.close();
});
// every test starts with no failures counted (they all come from one address, 127.0.0.1)
beforeEach(async () => {
  await t.rt.pool.query('DELETE FROM login_throttle');
});
/** Moves the engine's clock without logging anyone in again (a log-in clears a username's count). */
const wait = (seconds: number) => t.clock.set(later(t, seconds / 86_400));

const login = (username: string, password: string) =>
  t.call('POST', '/api/auth/login', { body: { username, password } });
const act = (username: string, what: string, body: unknown = {}) =>
  t.call('POST', `/api/users/${username}/${what}`, { token: t.tokens.office, body });

test('issue 12.6: five wrong passwords lock the username, with 429 and Retry-After, doubling; the right password waits too', async () => {
  for (let i = 0; i < 5; i++)
    expect((await login('contractor1', 'wrong-password')).status).toBe(401);
  const locked = await login('contractor1', PASSWORD);
  expect(locked.status).toBe(429);
  expect(locked.body.code).toBe('LOGIN-THROTTLED');
  expect(locked.body.detail).toContain('秒后再试');
  expect(locked.headers.get('retry-after')).toBe('1');
  // a burst like the reported one is refused without checking a password
  const burst = await Promise.all(
    Array.from({ length: 50 }, () => login('contractor1', 'wrong-password')),
  );
  expect(burst.every((r) => r.status === 429)).toBe(true);

  wait(1.5); // the 1-second lock has passed
  expect((await login('contractor1', 'wrong-password')).status).toBe(401); // 6th failure: 2 s
  expect((await login('contractor1', PASSWORD)).headers.get('retry-after')).toBe('2');
  wait(3);
  expect((await login('contractor1', PASSWORD)).status).toBe(200); // and the count starts again
  for (let i = 0; i < 4; i++)
    expect((await login('contractor1', 'wrong-password')).status).toBe(401);
  expect((await login('contractor1', PASSWORD)).status).toBe(200);
});

test('issue 12.6: an unknown username answers exactly as a known one, lock included', async () => {
  const answers = async (username: string) => {
    const out: (string | null)[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await login(username, 'wrong-password');
      out.push(`${r.status} ${r.body.code} ${r.headers.get('retry-after')}`);
    }
    return out;
  };
  expect(await answers('nobody-here')).toEqual(await answers('evaluator1'));
});

test('issue 12.6: one address is locked after 20 failures whatever the usernames', async () => {
  for (let i = 0; i < 20; i++)
    expect((await login(`guess${i}`, 'wrong-password')).status).toBe(401);
  expect((await login('finance1', PASSWORD)).status).toBe(429);
  wait(2);
  expect((await login('finance1', PASSWORD)).status).toBe(200);
});

test('the office unlocks a locked user at once; unlocking one not locked changes nothing (409)', async () => {
  expect((await act('supervisor1', 'unlock')).status).toBe(409);
  for (let i = 0; i < 5; i++) await login('supervisor1', 'wrong-password');
  expect((await login('supervisor1', PASSWORD)).status).toBe(429);
  const users = ok(await t.call('GET', '/api/users', { token: t.tokens.office })).items;
  expect(users.find((u: { username: string }) => u.username === 'supervisor1')).toMatchObject({
    failedLogins: 5,
    unlockable: true,
    lockedUntil: expect.any(String),
  });
  expect(ok(await act('supervisor1', 'unlock', { reason: '本人电话确认' }))).toEqual({
    username: 'supervisor1',
    done: 'unlock',
  });
  expect((await login('supervisor1', PASSWORD)).status).toBe(200);
  // only the office
  const r = await t.call('POST', '/api/users/supervisor1/unlock', {
    token: t.tokens.supervisor,
    body: {},
  });
  expect(r.status).toBe(403);
});

test('a reset password ends every session of the account; the event holds no password', async () => {
  const old = t.tokens.contractorB;
  expect(ok(await t.call('GET', '/api/me', { token: old })).username).toBe('contractorB');
  const short = await act('contractorB', 'password', { password: 'short' });
  expect(short.status).toBe(400);
  expect(short.body.errors[0]).toMatchObject({ path: 'password' });
  ok(await act('contractorB', 'password', { password: 'new-horse-battery', reason: '遗忘密码' }));
  expect((await t.call('GET', '/api/me', { token: old })).status).toBe(401);
  expect((await login('contractorB', PASSWORD)).status).toBe(401);
  expect((await login('contractorB', 'new-horse-battery')).status).toBe(200);
  const { rows } = await t.rt.pool.query(
    `SELECT type, data::text AS data, actor, reason FROM event WHERE stream_id = 'user-contractorB'`,
  );
  expect(rows).toEqual([
    {
      type: 'PasswordReset',
      data: '{"username": "contractorB"}',
      actor: 'office1',
      reason: '遗忘密码',
    },
  ]);
  expect((await act('nobody-here', 'password', { password: 'long-enough-1' })).status).toBe(404);
});

test('a disabled account cannot log in (the same answer as a wrong password) until enabled; the office cannot disable itself', async () => {
  const token = t.tokens.evaluator;
  ok(await act('evaluator1', 'disable', { reason: '人员离职' }));
  expect((await t.call('GET', '/api/me', { token })).status).toBe(401);
  const refused = await login('evaluator1', PASSWORD);
  expect(refused.status).toBe(401);
  expect(refused.body.code).toBe('LOGIN-FAILED');
  expect((await act('evaluator1', 'disable')).status).toBe(409);
  ok(await act('evaluator1', 'enable'));
  expect((await login('evaluator1', PASSWORD)).status).toBe(200);
  const self = await act('office1', 'disable');
  expect(self.status).toBe(409);
  expect(self.body.detail).toBe('不能停用自己的账户');
  const types = await t.rt.pool.query(
    `SELECT type FROM event WHERE stream_id = 'user-evaluator1' ORDER BY version`,
  );
  expect(types.rows.map((r) => r.type)).toEqual(['UserDisabled', 'UserEnabled']);
});

test('an office user who forgot the password is reset on the server with `shifan user password`', async () => {
  const env = { DATABASE_URL: t.db.url };
  const r = await runCli(['user', 'password', 'office1', 'server-side-reset-1'], env);
  expect(r.stderr).toBe('');
  expect(r.stdout).toContain('已重置 office1 的密码');
  expect((await login('office1', 'server-side-reset-1')).status).toBe(200);
  const short = await runCli(['user', 'password', 'office1', 'short'], env);
  expect(short.code).not.toBe(0);
  expect(short.stderr).toContain('密码至少8位');
  const { rows } = await t.rt.pool.query(
    `SELECT actor, reason FROM event WHERE stream_id = 'user-office1' AND type = 'PasswordReset'`,
  );
  expect(rows).toEqual([{ actor: 'cli', reason: 'shifan user password' }]);
});
