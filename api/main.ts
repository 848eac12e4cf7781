// `npm start`: PostgreSQL (embedded unless DATABASE_URL is set) → migrations → Express on PORT.
import type { Server } from 'node:http';
import { loadConfig } from '../engine/config';
import { openDatabase, type OpenDatabase } from '../engine/database';
import {
  createRuntime,
  createTemporalRuntime,
  type Runtime,
  type TemporalRuntime,
} from '../engine/runtime';
import { createApp } from './app';
import { createLogger } from './logger';
import { countUsers } from '../app/queries';
import { installFailpoint } from '../engine/failpoints';
import { notifyOptionsFrom } from '../engine/notify-config';

async function main() {
  const t0 = performance.now();
  let cfg: ReturnType<typeof loadConfig>;
  try {
    cfg = loadConfig();
  } catch (e) {
    console.error((e as Error).message);
    process.exit(1);
  }
  const log = createLogger(cfg.LOG_LEVEL);
  const say = (m: string) => log.info(m);
  let db: OpenDatabase | undefined;
  let rt: Runtime | TemporalRuntime | undefined;
  let server: Server | undefined;

  let stopping: Promise<void> | undefined;
  const shutdown = (why: string) =>
    (stopping ??= (async () => {
      say(`${why}: stopping`);
      await new Promise<void>((r) => (server ? server.close(() => r()) : r())); // stop accepting, let requests finish
      server?.closeAllConnections();
      await rt?.close();
      await db?.close(); // clean "fast shutdown" of the embedded cluster
      say('stopped');
    })());
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.once(sig, () => {
      void shutdown(sig).then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });

  try {
    db = await openDatabase(cfg, say);
    const notify = notifyOptionsFrom(cfg, log);
    say(`mail: ${notify.mailer.describe}`);
    if (cfg.TEMPORAL_ADDRESS) {
      rt = await createTemporalRuntime(
        db.url,
        {
          address: cfg.TEMPORAL_ADDRESS,
          namespace: cfg.TEMPORAL_NAMESPACE,
          taskQueue: cfg.TEMPORAL_TASK_QUEUE,
        },
        { poolSize: cfg.PG_POOL_SIZE, notify },
      );
      say(
        `engine: Temporal at ${cfg.TEMPORAL_ADDRESS} (namespace ${cfg.TEMPORAL_NAMESPACE}, task queue ${cfg.TEMPORAL_TASK_QUEUE}); run workers with \`npm run worker\``,
      );
    } else {
      const embedded = createRuntime(db.url, {
        poolSize: cfg.PG_POOL_SIZE,
        streamCacheSize: cfg.STREAM_CACHE_SIZE,
        notify,
        onTimerError: (streamId, e) => log.error({ err: e, streamId }, 'timer failed'),
      });
      rt = embedded;
      const fired = await embedded.scheduler.runDue(); // deadlines that came due while the server was down
      if (fired.fired)
        say(`timers: ${fired.fired} deadline(s) that came due while stopped fired now`);
      embedded.scheduler.start(cfg.TIMER_POLL_MS);
    }
    rt.notifier.start(cfg.NOTIFY_POLL_MS);
    installFailpoint(rt.engine, cfg.SHIFAN_FAILPOINT);
    const app = createApp({
      ...rt,
      log,
      cookieSecure: cfg.COOKIE_SECURE,
      ocidPrefix: cfg.OCDS_OCID_PREFIX,
      ...(cfg.PUBLIC_URL ? { publicUrl: cfg.PUBLIC_URL } : {}),
      http: {
        requestTimeoutMs: cfg.HTTP_REQUEST_TIMEOUT_MS,
        headersTimeoutMs: cfg.HTTP_HEADERS_TIMEOUT_MS,
        keepAliveTimeoutMs: cfg.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      },
    });
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => (err ? reject(err) : resolve());
      server = cfg.HOST ? app.listen(cfg.PORT, cfg.HOST, done) : app.listen(cfg.PORT, done);
    });
    const addr = server!.address();
    const shownHost =
      !cfg.HOST || cfg.HOST === '0.0.0.0' || cfg.HOST === '::'
        ? 'localhost'
        : cfg.HOST.includes(':')
          ? `[${cfg.HOST}]`
          : cfg.HOST;
    const users = await countUsers({ ...rt, log });
    say(
      `listening on http://${shownHost}:${typeof addr === 'object' && addr ? addr.port : cfg.PORT} (ready in ${Math.round(performance.now() - t0)} ms; API docs at /openapi.json)`,
    );
    if (!users)
      say(
        'no users yet: create one with `npx shifan user add --username office1 --password <密码> --role office`',
      );
  } catch (e) {
    log.error(`start failed: ${(e as Error).message}`);
    log.debug({ err: e }, 'start failure details');
    await shutdown('start-up failure').catch(() => {});
    process.exit(1);
  }
}

void main();
