// An isolated database (template clone) + the real Express app on port 0 + users of every role, on the
// embedded engine (clock moved by hand) or on the Temporal engine (a time-skipping test server, a worker
// with the real workflows and activities on the same database, the clock moved by sleeping the server).
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Pool } from 'pg';
import pino from 'pino';
import { addUser } from '../../activities/users';
import { createApp } from '../../api/app';
import { ManualClock, type Clock } from '../../engine/clock';
import {
  createRuntime,
  createTemporalRuntime,
  type Runtime,
  type TemporalRuntime,
} from '../../engine/runtime';
import type { Role } from '../../workflows/program/types';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createTestDb, type TestDb } from './pg-test-db';
import { startTemporal, startWorker, temporalSkipReason, TimeSkippingClock } from './temporal';

export type EngineKind = 'embedded' | 'temporal';
/** The engine of the test files that run on both: the jest project `temporal` sets SHIFAN_TEST_ENGINE. */
export const testEngine = (): EngineKind =>
  process.env.SHIFAN_TEST_ENGINE === 'temporal' ? 'temporal' : 'embedded';
/** `describe`, or a skipped one (with the reason logged) when this file's engine cannot run here. */
export function engineDescribe(): jest.Describe {
  const reason =
    testEngine() === 'temporal' ? temporalSkipReason('time-skipping', 'the Temporal run') : null;
  if (!reason) return describe;
  console.log(reason);
  return describe.skip;
}

interface ServerOf<E extends EngineKind, R extends Runtime | TemporalRuntime, C extends Clock> {
  engine: E;
  db: TestDb;
  rt: R;
  clock: C;
  base: string;
  /** by role (office, contractor, …), 'contractorB', and by username for users added later */
  tokens: Record<string, string>;
  call(
    method: string,
    path: string,
    opts?: { token?: string | null; body?: unknown; headers?: Record<string, string> },
  ): Promise<{ status: number; body: any; headers: Headers }>;
  /** Logs every user in again (sessions expire after 12 h of the engine's clock). */
  relogin(): Promise<void>;
  extraUsers: string[];
  /** Moves the engine's clock (on Temporal: sleeps the server, its timers fire) and logs everyone in again. */
  at(iso: string): Promise<void>;
  /** The same by a duration. */
  advance(ms: number): Promise<void>;
  /**
   * Every timer due at the clock has fired: the embedded scheduler fires them now; on Temporal they fired
   * in their workflows while the server slept, and this waits until their events are stored. `fired`:
   * the deadlines that fired (on Temporal, since the last move of the clock or the last call).
   */
  runDue(): Promise<DueRun>;
  count(table: 'program' | 'subproject' | 'stream' | 'event'): Promise<number>;
  /** Stops HTTP and the runtime but keeps the database (to test a restart). */
  stopServer(): Promise<void>;
  close(): Promise<void>;
  /** Adds a user and logs in: returns the token. */
  addUserAndLogin(username: string, role: Role, org?: string | null): Promise<string>;
}
/** `due`: streams found due (on Temporal: still waiting for their timer's events when asked). */
export interface DueRun {
  due: number;
  fired: number;
}
export type TestServer = ServerOf<'embedded', Runtime, ManualClock>;
export type TemporalServer = ServerOf<'temporal', TemporalRuntime, TimeSkippingClock> & {
  env: TestWorkflowEnvironment;
  taskQueue: string;
  /** Stops the worker(s) (letting running tasks finish) and starts `n` new ones on the same task queue
   *  (start the server with `workerCache: false`, or the new ones wait for the old one's sticky queue). */
  restartWorkers(n?: number): Promise<void>;
};
/** A test server on either engine (startEngineServer). */
export type EngineServer = TestServer | TemporalServer;

export const PASSWORD = 'correct-horse-1';

const START = '2019-08-01T02:00:00.000Z';

/** `reuse`: start again on a stopped server's database and clock (a restart); its users already exist. */
export async function startTestServer(
  opts: { now?: string; poolSize?: number; reuse?: TestServer } = {},
): Promise<TestServer> {
  const db = opts.reuse?.db ?? (await createTestDb());
  const clock = opts.reuse?.clock ?? new ManualClock(opts.now ?? START);
  const rt = createRuntime(db.url, { clock, poolSize: opts.poolSize ?? 10 });
  return serve('embedded', db, rt, clock, {
    reuse: opts.reuse,
    advance: (ms) => clock.advance(ms),
    set: (iso) => clock.set(iso),
    runDue: async () => {
      const r = await rt.scheduler.runDue();
      return { due: r.due, fired: r.fired };
    },
    close: () => rt.close(),
  });
}

/**
 * A test server on `engine` (default: this file's, testEngine()). On Temporal: a time-skipping test server
 * of its own, a worker running the real workflows and persistence activity on the same database with a
 * pool of its own (as `npm run worker` would), and the API's Temporal engine; all stopped by close().
 * `workerCache: false` for a file that restarts workers (restartWorkers; see startWorker's `cache`).
 */
export async function startEngineServer(
  opts: {
    now?: string;
    poolSize?: number;
    engine?: EngineKind;
    workerCache?: boolean;
    /** false: no worker in this process (the test runs `npm run worker` processes: spawnWorker) */
    inProcessWorker?: boolean;
  } = {},
): Promise<EngineServer> {
  const engine = opts.engine ?? testEngine();
  if (engine === 'embedded') return startTestServer(opts);
  const db = await createTestDb();
  const env = await startTemporal('time-skipping');
  const clock = await TimeSkippingClock.start(env, opts.now ?? START);
  const taskQueue = `shifan-${db.name}`;
  const rt = await createTemporalRuntime(
    db.url,
    { address: env.address, namespace: 'default', taskQueue, clockOffsetMs: clock.offsetMs },
    { clock, poolSize: opts.poolSize ?? 10, notify: { font: null } },
  );
  const workerPool = new Pool({ connectionString: db.url, max: 4 });
  workerPool.on('error', () => {});
  const cache = opts.workerCache ?? true;
  let workers =
    opts.inProcessWorker === false
      ? []
      : [await startWorker(env.address, workerPool, taskQueue, { cache })];
  const ticks = async () =>
    Number(
      (
        await rt.pool.query<{ n: number }>(
          "SELECT count(DISTINCT (stream_id, at))::int AS n FROM event WHERE command = 'Tick'",
        )
      ).rows[0].n,
    );
  let mark = 0;
  const due = async () =>
    (
      await rt.pool.query<{ id: string }>(
        "SELECT id FROM stream WHERE wake_at <= $1 AND type = 'subproject' ORDER BY id",
        [clock.now()],
      )
    ).rows.map((r) => r.id);
  const server = await serve('temporal', db, rt, clock, {
    advance: async (ms) => {
      mark = await ticks();
      await clock.advance(ms);
    },
    set: async (iso) => {
      mark = await ticks();
      await clock.set(iso);
    },
    runDue: async () => {
      // the timers fired while the server slept; their Tick's events may still be on their way
      let found = -1;
      for (const give = Date.now() + 20_000; ;) {
        const left = await due();
        if (found < 0) found = left.length;
        if (!left.length) break;
        if (Date.now() > give)
          throw new Error(`timers due but not fired on Temporal: ${left.join(', ')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const n = await ticks();
      const fired = n - mark;
      mark = n;
      return { due: found, fired };
    },
    close: async () => {
      for (const w of workers) await w.stop();
      await rt.close();
      await workerPool.end();
      await env.teardown();
    },
  });
  return {
    ...server,
    env,
    taskQueue,
    restartWorkers: async (n = 1) => {
      for (const w of workers) await w.stop();
      workers = [];
      for (let i = 0; i < n; i++)
        workers.push(await startWorker(env.address, workerPool, taskQueue, { cache }));
    },
  };
}

async function serve<E extends EngineKind, R extends Runtime | TemporalRuntime, C extends Clock>(
  engine: E,
  db: TestDb,
  rt: R,
  clock: C,
  o: {
    reuse?: TestServer;
    advance: (ms: number) => void | Promise<void>;
    set: (iso: string) => void | Promise<void>;
    runDue: () => Promise<DueRun>;
    close: () => Promise<void>;
  },
): Promise<ServerOf<E, R, C>> {
  const opts = { reuse: o.reuse };
  const app = createApp({ ...rt, log: pino({ level: process.env.TEST_LOG ?? 'silent' }) });
  const server: Server = app.listen(0);
  await new Promise<void>((r) => server.once('listening', () => r()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const users: [string, Role, string | null][] = [
    ['office1', 'office', null],
    ['contractor1', 'contractor', '滕州市邮政分公司'],
    ['contractorB', 'contractor', '某物流有限公司'],
    ['evaluator1', 'evaluator', '某会计师事务所'],
    ['finance1', 'finance', null],
    ['supervisor1', 'supervisor', null],
  ];
  if (!opts.reuse)
    for (const [username, role, org] of users)
      await addUser(rt.prisma, { username, password: PASSWORD, role, org });

  const call: TestServer['call'] = async (method, path, o = {}) => {
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    if (o.body !== undefined) headers['content-type'] ??= 'application/json';
    const res = await fetch(base + path, {
      method,
      headers,
      body:
        o.body === undefined
          ? undefined
          : typeof o.body === 'string'
            ? o.body
            : JSON.stringify(o.body),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON */
    }
    return { status: res.status, body, headers: res.headers };
  };
  const tokens = {} as TestServer['tokens'];
  const extra: string[] = opts.reuse?.extraUsers ?? [];
  const relogin = async () => {
    for (const [username, role] of users) {
      const r = await call('POST', '/api/auth/login', { body: { username, password: PASSWORD } });
      if (r.status !== 200) throw new Error(`login ${username}: ${r.status}`);
      tokens[username === 'contractorB' ? 'contractorB' : role] = r.body.token;
    }
    for (const username of extra)
      tokens[username] = (
        await call('POST', '/api/auth/login', { body: { username, password: PASSWORD } })
      ).body.token;
  };
  await relogin();
  return {
    engine,
    db,
    rt,
    clock,
    base,
    tokens,
    call,
    relogin,
    extraUsers: extra,
    at: async (iso) => {
      await o.set(iso);
      await relogin();
    },
    advance: async (ms) => {
      await o.advance(ms);
      await relogin();
    },
    runDue: o.runDue,
    count: async (table) =>
      Number((await rt.pool.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n),
    stopServer: async () => {
      if (!server.listening) return;
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await o.close();
    },
    close: async () => {
      if (server.listening) {
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
        await o.close();
      }
      await db.drop();
    },
    addUserAndLogin: async (username, role, org = null) => {
      await addUser(rt.prisma, { username, password: PASSWORD, role, org });
      extra.push(username);
      const r = await call('POST', '/api/auth/login', { body: { username, password: PASSWORD } });
      tokens[username] = r.body.token;
      return r.body.token as string;
    },
  };
}
