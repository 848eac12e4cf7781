// Opens the product's database: DATABASE_URL when set; otherwise the embedded PostgreSQL under
// DATA_DIR/pg. If that cluster is already running (the server is up and a CLI command runs beside it),
// connect to it instead of starting a second postmaster; stop only a cluster this process started.
//
// The embedded cluster's superuser password is generated on first use and kept in DATA_DIR/pg.password
// (mode 0600, readable by the user who runs shifan only); `shifan db url` prints the connection string.
// A data directory made before that (postgres/postgres) gets its new password on its first start.
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import type { Config } from './config';
import {
  embeddedUrl,
  ensureDatabase,
  LEGACY_PASSWORD,
  PG_USER,
  startEmbeddedPostgres,
  type RunningPg,
} from './embedded-pg';
import { applyMigrations } from './migrate';
import { backfillTasks } from '../activities/store/tasks';

export const APP_DB = 'app';

export interface OpenDatabase {
  url: string;
  embedded: RunningPg | null;
  reused: boolean;
  close(): Promise<void>;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

function runningCluster(dir: string): { pid: number; port: number } | null {
  const pidFile = path.join(dir, 'postmaster.pid');
  if (!existsSync(pidFile)) return null;
  const [pidLine, , , portLine] = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(pidLine);
  const port = Number(portLine);
  if (!pid || !port) return null;
  return alive(pid) ? { pid, port } : null; // a stale pid file: not running
}

/** Who started the running cluster: `DATA_DIR/pg.owner` holds "<pid> <server|cli>". */
function owner(dataDir: string): { pid: number; kind: string } | null {
  const f = path.join(dataDir, 'pg.owner');
  if (!existsSync(f)) return null;
  const [pid, kind] = readFileSync(f, 'utf8').trim().split(' ');
  return alive(Number(pid)) ? { pid: Number(pid), kind } : null;
}

/** Where the embedded cluster's superuser password is kept. */
export const passwordFile = (dataDir: string) => path.join(dataDir, 'pg.password');

/** The password in DATA_DIR/pg.password, generated (and the file written, 0600) when there is none yet. */
export function embeddedPassword(dataDir: string): string {
  const f = passwordFile(dataDir);
  const read = () => {
    if (statSync(f).mode & 0o077) chmodSync(f, 0o600); // e.g. copied with a lax umask
    return readFileSync(f, 'utf8').trim();
  };
  if (existsSync(f)) {
    const p = read();
    if (p) return p;
    rmSync(f);
  }
  mkdirSync(dataDir, { recursive: true });
  const p = randomBytes(24).toString('base64url'); // 32 characters, nothing to quote in SQL or a URL
  try {
    writeFileSync(f, `${p}\n`, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return read(); // another process wrote it first
    throw e;
  }
  return p;
}

/**
 * Makes the running cluster's superuser password the one in DATA_DIR/pg.password. A cluster made
 * before generated passwords still has postgres/postgres: log in with that once and ALTER USER.
 */
async function adoptPassword(
  dataDir: string,
  port: number,
  password: string,
  log: (m: string) => void,
): Promise<void> {
  const attempt = async (pw: string) => {
    const c = new Client({ connectionString: embeddedUrl(pw, port, 'postgres') });
    try {
      await c.connect();
      return c;
    } catch (e) {
      await c.end().catch(() => {});
      if ((e as { code?: string }).code === '28P01') return null; // password authentication failed
      throw e;
    }
  };
  const ok = await attempt(password);
  if (ok) {
    await ok.end();
    return;
  }
  const legacy = await attempt(LEGACY_PASSWORD);
  if (!legacy)
    throw new Error(
      `无法登录内置 PostgreSQL：${passwordFile(dataDir)} 中的密码不对 / cannot log in to the embedded PostgreSQL: the password in ${passwordFile(dataDir)} does not match the cluster's`,
    );
  try {
    // not a bind parameter (ALTER USER takes none); the generated password is base64url, nothing to quote
    await legacy.query(`ALTER USER ${PG_USER} WITH PASSWORD '${password.replace(/'/g, "''")}'`);
  } finally {
    await legacy.end();
  }
  log(
    `embedded PostgreSQL: the superuser's password is no longer postgres/postgres; the new one is in ${passwordFile(dataDir)} (shifan db url)`,
  );
}

/** The connection string of the product's database (`shifan db url`): DATABASE_URL, or the embedded
 * cluster's (its password from DATA_DIR/pg.password), with whether that cluster is running now. */
export async function databaseUrl(
  cfg: Config,
  log: (m: string) => void = () => {},
): Promise<{ url: string; embedded: boolean; running: boolean }> {
  if (cfg.DATABASE_URL) return { url: cfg.DATABASE_URL, embedded: false, running: true };
  const password = embeddedPassword(cfg.dataDir);
  const running = runningCluster(path.join(cfg.dataDir, 'pg'));
  if (running) await adoptPassword(cfg.dataDir, running.port, password, log);
  return {
    url: embeddedUrl(password, running?.port ?? cfg.EMBEDDED_PG_PORT, APP_DB),
    embedded: true,
    running: !!running,
  };
}

async function stopOrphan(pid: number, log: (m: string) => void): Promise<void> {
  log(
    `embedded PostgreSQL (pid ${pid}) was left running by a process that is gone (crash or kill -9): stopping it first`,
  );
  process.kill(pid, 'SIGINT'); // fast shutdown
  for (let i = 0; i < 300 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) throw new Error(`could not stop the orphaned embedded PostgreSQL (pid ${pid})`);
}

/**
 * `kind: 'server'` refuses to share the cluster with another live server, waits for a CLI command that
 * holds it, and stops a cluster orphaned by a killed process before starting its own. `kind: 'cli'`
 * uses whatever cluster is running, and otherwise starts one and stops it again on close().
 */
export async function openDatabase(
  cfg: Config,
  log: (m: string) => void = () => {},
  opts: { kind?: 'server' | 'cli' } = {},
): Promise<OpenDatabase> {
  const kind = opts.kind ?? 'server';
  let url = cfg.DATABASE_URL;
  let embedded: RunningPg | null = null;
  let reused = false;
  if (url) {
    log(`using DATABASE_URL (${new URL(url).host})`);
  } else {
    const dir = path.join(cfg.dataDir, 'pg');
    const password = embeddedPassword(cfg.dataDir);
    let running = runningCluster(dir);
    if (running && kind === 'server') {
      let holder = owner(cfg.dataDir);
      for (let i = 0; i < 300 && holder?.kind === 'cli'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        holder = owner(cfg.dataDir);
        running = runningCluster(dir);
      }
      if (holder?.kind === 'server') {
        throw new Error(
          `数据目录 ${dir} 的数据库已由另一进程使用（shifan 服务 pid ${holder.pid}）；是否已有一个 shifan 服务在运行？ / ` +
            `the embedded database in ${dir} is in use by another shifan server (pid ${holder.pid})`,
        );
      }
      if (running && !holder) {
        await stopOrphan(running.pid, log);
        running = null;
      }
    }
    if (running) {
      await adoptPassword(cfg.dataDir, running.port, password, log);
      url = embeddedUrl(password, running.port, APP_DB);
      reused = true;
      log(`using the running embedded PostgreSQL (pid ${running.pid}, port ${running.port})`);
    } else {
      embedded = await startEmbeddedPostgres({
        dir,
        port: cfg.EMBEDDED_PG_PORT,
        persistent: true,
        password,
        log: cfg.PG_LOG ? (l) => process.stderr.write(`[pg] ${l}`) : undefined,
      });
      writeFileSync(path.join(cfg.dataDir, 'pg.owner'), `${process.pid} ${kind}\n`);
      try {
        await adoptPassword(cfg.dataDir, embedded.port, password, log);
      } catch (e) {
        await embedded.stop();
        rmSync(path.join(cfg.dataDir, 'pg.owner'), { force: true });
        throw e;
      }
      await ensureDatabase(embedded.adminUrl, APP_DB);
      url = embedded.url(APP_DB);
      log(`embedded PostgreSQL up (${dir}, port ${cfg.EMBEDDED_PG_PORT})`);
    }
  }
  const m = await applyMigrations(url, undefined, log);
  if (m.applied.length) log(`migrations applied: ${m.applied.join(', ')} (${Math.round(m.ms)} ms)`);
  const backfilled = await backfillTasks(url);
  if (backfilled) log(`待办 derived for ${backfilled} streams written before the task table`);
  const ownerFile = path.join(cfg.dataDir, 'pg.owner');
  return {
    url,
    embedded,
    reused,
    close: async () => {
      if (embedded) {
        await embedded.stop();
        rmSync(ownerFile, { force: true });
      }
    },
  };
}
