// Opens the product's database: DATABASE_URL when set; otherwise the embedded PostgreSQL under
// DATA_DIR/pg. If that cluster is already running (the server is up and a CLI command runs beside it),
// connect to it instead of starting a second postmaster; stop only a cluster this process started.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from './config';
import { ensureDatabase, startEmbeddedPostgres, type RunningPg } from './embedded-pg';
import { applyMigrations } from './migrate';

export const APP_DB = 'app';

export interface OpenDatabase { url: string; embedded: RunningPg | null; reused: boolean; close(): Promise<void> }

function runningCluster(dir: string): { pid: number; port: number } | null {
  const pidFile = path.join(dir, 'postmaster.pid');
  if (!existsSync(pidFile)) return null;
  const [pidLine, , , portLine] = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(pidLine); const port = Number(portLine);
  if (!pid || !port) return null;
  try { process.kill(pid, 0); return { pid, port }; } catch { return null; } // stale pid file: not running
}

export async function openDatabase(cfg: Config, log: (m: string) => void = () => {}, opts: { allowReuse?: boolean } = {}): Promise<OpenDatabase> {
  let url = cfg.DATABASE_URL;
  let embedded: RunningPg | null = null;
  let reused = false;
  if (url) {
    log(`using DATABASE_URL (${new URL(url).host})`);
  } else {
    const dir = path.join(cfg.dataDir, 'pg');
    const running = runningCluster(dir);
    if (running) {
      if (!opts.allowReuse) {
        throw new Error(`数据目录 ${dir} 的数据库已由另一进程使用（postgres pid ${running.pid}，端口 ${running.port}）；` +
          `是否已有一个 shifan 服务在运行？ / the embedded database in ${dir} is already running (pid ${running.pid}); is another shifan server up?`);
      }
      url = `postgresql://postgres:postgres@127.0.0.1:${running.port}/${APP_DB}`;
      reused = true;
      log(`using the running embedded PostgreSQL (pid ${running.pid}, port ${running.port})`);
    } else {
      embedded = await startEmbeddedPostgres({ dir, port: cfg.EMBEDDED_PG_PORT, persistent: true,
        log: cfg.PG_LOG ? (l) => process.stderr.write(`[pg] ${l}`) : undefined });
      await ensureDatabase(embedded.adminUrl, APP_DB);
      url = embedded.url(APP_DB);
      log(`embedded PostgreSQL up (${dir}, port ${cfg.EMBEDDED_PG_PORT})`);
    }
  }
  const m = await applyMigrations(url, undefined, log);
  if (m.applied.length) log(`migrations applied: ${m.applied.join(', ')} (${Math.round(m.ms)} ms)`);
  return { url, embedded, reused, close: async () => { await embedded?.stop(); } };
}
