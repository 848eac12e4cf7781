// R-FUND-7 "exactly once" when the process dies: the server is SIGKILLed right after a disbursement's
// transaction commits and before its response is sent (fault-injection point); after a restart the
// retry with the same Idempotency-Key returns the recorded disbursement and the ledger holds one entry.
import { spawn, type ChildProcess } from 'node:child_process';
import { Client } from 'pg';
import { acceptMilestone, contract, tengzhouInImplementation } from '../support/flows';
import { ROOT, SERVER_MAIN } from '../support/cli';
import { freePort } from '../support/free-port';
import { PASSWORD, startTestServer, type TestServer } from '../support/server';

jest.setTimeout(90_000);
let t: TestServer;
const procs: ChildProcess[] = [];
afterAll(async () => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  await t?.close();
});

function serve(env: Record<string, string>): Promise<{ proc: ChildProcess; base: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [SERVER_MAIN], {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    procs.push(proc);
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('exit', (code, sig) => reject(new Error(`server exited (${code ?? sig}): ${out}`)));
    const port = env.PORT;
    const poll = async () => {
      for (let i = 0; i < 200; i++) {
        try {
          if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok)
            return resolve({ proc, base: `http://127.0.0.1:${port}` });
        } catch {
          /* not yet */
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      reject(new Error(`server did not come up: ${out}`));
    };
    void poll();
  });
}

test('SIGKILL after commit, before the response; the retry returns the recorded disbursement', async () => {
  t = await startTestServer();
  await tengzhouInImplementation(t);
  await contract(t, 'tengzhou-2019', 6, {
    milestones: [{ key: 'M1', title: '电商扶贫', due: '2020-12-31' }],
    tranches: [{ key: 'T1', milestone: 'M1', source: 'central', amount: '100' }],
  });
  await acceptMilestone(t, 'tengzhou-2019', 6, 'M1', { deliverable: '贫困户增收' });
  await t.stopServer();

  const env = { DATABASE_URL: t.db.url, PORT: String(await freePort()), TIMER_POLL_MS: '60000' };
  const login = async (base: string) =>
    (
      await (
        await fetch(`${base}/api/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: 'finance1', password: PASSWORD }),
        })
      ).json()
    ).token;
  const releaseOnce = (base: string, token: string) =>
    fetch(`${base}/api/programs/tengzhou-2019/subprojects/6/tranches/T1/release`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${token}`,
        'idempotency-key': 'crash-test-key-1',
      },
      body: '{}',
    });

  // 1) the server dies between commit and response
  const first = await serve({ ...env, SHIFAN_FAILPOINT: 'after-disbursement-commit' });
  const token = await login(first.base);
  const died = new Promise<string | null>((r) => first.proc.once('exit', (_c, sig) => r(sig)));
  await expect(releaseOnce(first.base, token)).rejects.toThrow(); // no response ever comes
  expect(await died).toBe('SIGKILL');
  const entries = async () => {
    const c = new Client({ connectionString: t.db.url });
    await c.connect();
    try {
      return Number(
        (
          await c.query(
            "SELECT count(*)::int AS n FROM ledger_entry WHERE stream_id = 'subproject-tengzhou-2019-6'",
          )
        ).rows[0].n,
      );
    } finally {
      await c.end();
    }
  };
  expect(await entries()).toBe(1); // the commit happened before the kill

  // 2) after a restart the retry with the same key returns what was recorded, and pays nothing more
  const second = await serve(env);
  try {
    const res = await releaseOnce(second.base, token);
    expect(res.status).toBe(200);
    expect(res.headers.get('idempotent-replayed')).toBe('true');
    const body = await res.json();
    expect(body.disbursement).toMatchObject({
      id: 'D1',
      idempotencyKey: 'crash-test-key-1',
      amount: { wan: '100' },
    });
    expect(body.ledger.total.disbursed.wan).toBe('100');
    expect(await entries()).toBe(1);
  } finally {
    await new Promise<void>((r) => {
      second.proc.once('exit', () => r());
      second.proc.kill('SIGTERM');
    });
  }
}, 90_000);
