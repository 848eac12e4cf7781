// An isolated database (template clone) + the real Express app on port 0 + users of every role.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import pino from 'pino';
import { addUser } from '../../activities/users';
import { createApp } from '../../api/app';
import { ManualClock } from '../../engine/clock';
import { createRuntime, type Runtime } from '../../engine/runtime';
import type { Role } from '../../workflows/program/types';
import { createTestDb, type TestDb } from './pg-test-db';

export interface TestServer {
  db: TestDb;
  rt: Runtime;
  clock: ManualClock;
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
  /** Moves the engine's clock and logs everyone in again. */
  at(iso: string): Promise<void>;
  count(table: 'program' | 'subproject' | 'stream' | 'event'): Promise<number>;
  /** Stops HTTP and the runtime but keeps the database (to test a restart). */
  stopServer(): Promise<void>;
  close(): Promise<void>;
  /** Adds a user and logs in: returns the token. */
  addUserAndLogin(username: string, role: Role, org?: string | null): Promise<string>;
}

export const PASSWORD = 'correct-horse-1';

/** `reuse`: start again on a stopped server's database and clock (a restart); its users already exist. */
export async function startTestServer(
  opts: { now?: string; poolSize?: number; reuse?: TestServer } = {},
): Promise<TestServer> {
  const db = opts.reuse?.db ?? (await createTestDb());
  const clock = opts.reuse?.clock ?? new ManualClock(opts.now ?? '2019-08-01T02:00:00.000Z');
  const rt = createRuntime(db.url, { clock, poolSize: opts.poolSize ?? 10 });
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
    db,
    rt,
    clock,
    base,
    tokens,
    call,
    relogin,
    extraUsers: extra,
    at: async (iso) => {
      clock.set(iso);
      await relogin();
    },
    count: async (table) =>
      Number((await rt.pool.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n),
    stopServer: async () => {
      if (!server.listening) return;
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await rt.close();
    },
    close: async () => {
      if (server.listening) {
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
        await rt.close();
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
