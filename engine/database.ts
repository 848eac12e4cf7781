// Opens the product's database: DATABASE_URL when set; otherwise the embedded PostgreSQL under
// DATA_DIR/pg. If that cluster is already running (the server is up and a CLI command runs beside it),
// connect to it instead of starting a second postmaster; stop only a cluster this process started.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from './config';
import { ensureDatabase, startEmbeddedPostgres, type RunningPg } from './embedded-pg';
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
      url = `postgresql://postgres:postgres@127.0.0.1:${running.port}/${APP_DB}`;
      reused = true;
      log(`using the running embedded PostgreSQL (pid ${running.pid}, port ${running.port})`);
    } else {
      embedded = await startEmbeddedPostgres({
        dir,
        port: cfg.EMBEDDED_PG_PORT,
        persistent: true,
        log: cfg.PG_LOG ? (l) => process.stderr.write(`[pg] ${l}`) : undefined,
      });
      writeFileSync(path.join(cfg.dataDir, 'pg.owner'), `${process.pid} ${kind}\n`);
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
