// The embedded default as a user meets it: `npm start`'s entry point (dist/api/main.js) with nothing but
// DATA_DIR set, the CLI before and while the server runs, data surviving a restart.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli, ROOT, SERVER_MAIN } from '../support/cli';
import { freePort } from '../support/free-port';

jest.setTimeout(90_000);

let dataDir: string;
let env: Record<string, string>;
beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'shifan-e2e-'));
  chmodSync(dataDir, 0o755); // the postgres OS user must reach DATA_DIR/pg when running as root
  env = {
    DATA_DIR: dataDir,
    EMBEDDED_PG_PORT: String(await freePort()),
    PORT: String(await freePort()),
    LOG_LEVEL: 'info',
  };
  delete process.env.DATABASE_URL;
});
const procs: ChildProcess[] = [];
afterAll(async () => {
  // A failed run must not leave a server or its PostgreSQL behind (jest would hang on them).
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  const pidFile = path.join(dataDir, 'pg', 'postmaster.pid');
  if (existsSync(pidFile)) {
    try {
      process.kill(Number(readFileSync(pidFile, 'utf8').split('\n')[0]), 'SIGINT');
    } catch {
      /* gone */
    }
  }
  await new Promise((r) => setTimeout(r, 300));
  rmSync(dataDir, { recursive: true, force: true });
});

function startServer(): Promise<{ proc: ChildProcess; base: string; log: () => string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [SERVER_MAIN], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    procs.push(proc);
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/localhost:\d+)/.exec(out);
      if (m) resolve({ proc, base: m[1], log: () => out });
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('exit', (code) => reject(new Error(`server exited (${code}): ${out}`)));
  });
}
const stop = (proc: ChildProcess) =>
  new Promise<number | null>((r) => {
    proc.once('exit', (c) => r(c));
    proc.kill('SIGTERM');
  });

test('CLI without a server, server start, CLI beside the server, restart keeps the data', async () => {
  // 1) no server running: the CLI starts the embedded cluster itself (and stops it)
  let r = await runCli(
    ['user', 'add', '--username', 'office1', '--password', 'secret-pass-1', '--role', 'office'],
    env,
  );
  expect(r.stderr).toBe('');
  expect(r.stdout).toContain('已创建用户 office1');
  r = await runCli(['program', 'import', path.join(ROOT, 'examples', 'tengzhou-2019.json')], env);
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('已导入 tengzhou-2019');

  // 2) the server on the same DATA_DIR sees it
  let s = await startServer();
  const health = await (await fetch(`${s.base}/healthz`)).json();
  expect(health).toMatchObject({ status: 'ok', db: 'up' });
  const login = await (
    await fetch(`${s.base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'office1', password: 'secret-pass-1' }),
    })
  ).json();
  const auth = { authorization: `Bearer ${login.token}` };
  expect((await fetch(`${s.base}/api/programs/tengzhou-2019`, { headers: auth })).status).toBe(200);

  // 3) the CLI while the server runs: it uses the running cluster
  r = await runCli(['program', 'import', path.join(ROOT, 'examples', 'shicheng-2020.json')], env);
  expect(r.code).toBe(0);
  expect((await fetch(`${s.base}/api/programs/shicheng-2020`, { headers: auth })).status).toBe(200);
  r = await runCli(['audit', 'verify'], env);
  // two programs and the user `shifan user add` created: adding a user is an audited office act too
  expect(r.stdout).toContain('审计链完好：3 个流、3 个事件');

  // 4) a second server on the same DATA_DIR is refused with a clear message
  await expect(startServer()).rejects.toThrow(/已由另一进程使用/);

  // 5) clean stop, restart: the data and the session survive
  expect(await stop(s.proc)).toBe(0);
  expect(s.log()).toContain('stopped');
  s = await startServer();
  const list = await (await fetch(`${s.base}/api/programs`, { headers: auth })).json();
  expect(list.items.map((p: { code: string }) => p.code)).toEqual([
    'shicheng-2020',
    'tengzhou-2019',
  ]);

  // 6) kill -9 leaves PostgreSQL running without its owner: the next start stops the orphan and goes on
  await new Promise<void>((r) => {
    s.proc.once('exit', () => r());
    s.proc.kill('SIGKILL');
  });
  s = await startServer();
  try {
    expect(s.log()).toContain('left running by a process that is gone');
    expect((await fetch(`${s.base}/api/programs/shicheng-2020`, { headers: auth })).status).toBe(
      200,
    );
  } finally {
    expect(await stop(s.proc)).toBe(0);
  }
});
