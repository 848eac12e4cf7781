// `npm run bench [-- --quick]`: B1 lifecycle throughput through HTTP vs raw `pg` transactions, B2 vs a
// BPMN peer engine, B3 reads at national scale, B4 timers, B5 start-up of the CLI and the server
// (compiled vs tsx, bench/startup.ts). Everything is measured in this one run and
// reported as ratios where a baseline exists. Writes bench/results/<date>-<mode>.json.
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { fork } from 'node:child_process';
import path from 'node:path';
import pino from 'pino';
import { Pool } from 'pg';
import { Pool as UndiciPool } from 'undici';
import { addUser } from '../activities/users';
import { createApp } from '../api/app';
import { subprojectAggregate, programAggregate } from '../engine/aggregates';
import { ManualClock, systemClock } from '../engine/clock';
import { ensureDatabase, startEmbeddedPostgres, type RunningPg } from '../engine/embedded-pg';
import { EmbeddedEngine } from '../engine/embedded/engine';
import { DUE_TIMERS_SQL, TimerScheduler } from '../engine/embedded/scheduler';
import { applyMigrations } from '../engine/migrate';
import { createRuntime, type Runtime } from '../engine/runtime';
import { allocate, formatWan } from '../workflows/money';
import { programFacts } from '../workflows/program/facts';
import { SOURCES, TRAINING_ARCHIVE_ITEMS } from '../workflows/program/types';
import { runPeerInstance, STEPS } from './bpmn-peer';
import { treeCpuMicros } from './cpu';
import { pool } from './pool';
import { shifanInProcess } from './in-process';
import { startup } from './startup';

const quick = process.argv.includes('--quick');
const only = process.argv
  .find((a) => a.startsWith('--only='))
  ?.slice(7)
  .split(','); // e.g. --only=B1 (for profiling)
const wanted = (b: string) => !only || only.includes(b);
const servers = Number(process.argv.find((a) => a.startsWith('--servers='))?.slice(10) ?? 1); // B1's server processes
const P = quick
  ? {
      servers,
      warmupPrograms: 2,
      programs: 4,
      milestones: 2,
      concurrency: 16,
      peerInstances: 40,
      nationalPrograms: 100,
      reads: 40,
      openTasks: 1_000,
      timersPending: 10_000,
      timersDue: 100,
      idleSeconds: 2,
    }
  : {
      servers,
      warmupPrograms: 4,
      programs: 20,
      milestones: 8,
      concurrency: 16,
      peerInstances: 300,
      nationalPrograms: 1500,
      reads: 200,
      openTasks: 10_000,
      timersPending: 100_000,
      timersDue: 300,
      idleSeconds: 5,
    };
const tengzhou = JSON.parse(
  readFileSync(path.join(__dirname, '..', 'examples', 'tengzhou-2019.json'), 'utf8'),
) as { subprojects: { seq: number; funding: Record<string, string> }[] };
const SEQS = [1, 2, 3, 4, 5, 6]; // Tengzhou's publicly tendered subprojects
const PASSWORD = 'bench-password-1';
const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN;
};
const r1 = (x: number) => Math.round(x * 10) / 10;

interface Http {
  base: string;
  tokens: Record<string, string>;
  call(
    method: string,
    p: string,
    token: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: any }>;
  /** GET a console page with the session cookie: status and the HTML's length */
  page(p: string, token: string): Promise<{ status: number; body: number }>;
}

/** The load generator's HTTP client: undici's Pool (keep-alive, `request`), ≈ 4× less CPU a request than
 * `fetch`, which matters when it shares the machine's 2 cores with the server and PostgreSQL. */
function client(base: string): Http & { close(): Promise<void> } {
  const conn = new UndiciPool(base, { connections: P.concurrency });
  const call: Http['call'] = async (method, p, token, body, headers = {}) => {
    const res = await conn.request({
      path: p,
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        prefer: 'return=minimal',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.body.text();
    return { status: res.statusCode, body: text ? JSON.parse(text) : null };
  };
  const page: Http['page'] = async (p, token) => {
    const res = await conn.request({
      path: p,
      method: 'GET',
      headers: { cookie: `shifan_session=${token}` },
    });
    return { status: res.statusCode, body: (await res.body.text()).length };
  };
  return { base, tokens: {}, call, page, close: () => conn.close() };
}

async function serve(
  rt: Runtime,
): Promise<{ http: Http & { close(): Promise<void> }; server: Server }> {
  const server = createApp({ ...rt, log: pino({ level: 'silent' }) }).listen(0);
  await new Promise<void>((r) => server.once('listening', () => r()));
  return { http: client(`http://127.0.0.1:${(server.address() as AddressInfo).port}`), server };
}

// ---------------------------------------------------------------------------------------------- B1
/** The app in a child process; the parent drives it over HTTP and moves its clock over IPC. */
async function childServer(url: string) {
  const child = fork(path.join(__dirname, 'server-child.ts'), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, BENCH_DATABASE_URL: url, BENCH_POOL: String(P.concurrency) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { type: string; port: number }) =>
      m.type === 'ready'
        ? resolve(m.port)
        : reject(new Error(`server child: ${JSON.stringify(m)} before ready`)),
    );
    child.once('exit', reject);
  });
  let seq = 0;
  const ask = <T = Record<string, unknown>>(msg: Record<string, unknown>) =>
    new Promise<T>((resolve, reject) => {
      const id = ++seq;
      const on = (m: { id: number; type: string; error?: string }) => {
        if (m.id !== id) return;
        child.off('message', on);
        if (m.type === 'error') reject(new Error(m.error));
        else resolve(m as T);
      };
      child.on('message', on);
      child.send({ ...msg, id });
    });
  return { port, ask, stop: () => ask({ type: 'stop' }).catch(() => {}) };
}

async function b1(rt: Runtime, clock: ManualClock, url: string, pgPid: number | undefined) {
  // P.servers server processes; each program's requests go to one of them (as a proxy routing by program would)
  const children = await Promise.all(Array.from({ length: P.servers }, () => childServer(url)));
  const clients = children.map((c) => client(`http://127.0.0.1:${c.port}`));
  const [http] = clients;
  const child = children[0];
  const askAll = <T>(msg: Record<string, unknown>) =>
    Promise.all(children.map((c) => c.ask<T>(msg)));
  const setClock = async (iso: string) => {
    clock.set(iso);
    await askAll({ type: 'clock', at: iso });
  };

  const users: [string, 'office' | 'evaluator' | 'finance' | 'contractor', string | null][] = [
    ['office1', 'office', null],
    ['ev1', 'evaluator', 'CPA'],
    ['fin1', 'finance', null],
    ['c1', 'contractor', 'ORG-A'],
    ['c2', 'contractor', 'ORG-B'],
    ['c3', 'contractor', 'ORG-C'],
  ];
  for (const [u, role, org] of users)
    await addUser(rt.prisma, { username: u, password: PASSWORD, role, org });
  const login = async () => {
    for (const [u] of users)
      http.tokens[u] = (
        await http.call('POST', '/api/auth/login', '', { username: u, password: PASSWORD })
      ).body.token;
  };
  const at = async (iso: string) => {
    await setClock(iso);
    await login();
  };
  await at('2019-10-01T02:00:00.000Z');
  const codes = Array.from(
    { length: P.programs },
    (_, i) => `bench-${String(i + 1).padStart(4, '0')}`,
  );
  const warmCodes = Array.from(
    { length: P.warmupPrograms },
    (_, i) => `warm-${String(i + 1).padStart(4, '0')}`,
  );
  for (const code of [...warmCodes, ...codes]) {
    // set-up, not timed
    await http.call('POST', '/api/programs', http.tokens.office1, { ...tengzhou, code });
    await http.call('POST', `/api/programs/${code}/gates/plan_filed`, http.tokens.office1, {
      document: { title: 'p' },
    });
    await http.call(
      'POST',
      `/api/programs/${code}/gates/leading_group_established`,
      http.tokens.office1,
      { document: { title: 'l' } },
    );
    await http.call('POST', `/api/programs/${code}/advance`, http.tokens.office1, {
      to: 'implement',
    });
  }
  const archive: Record<string, string[]> = {};
  for (const item of Object.keys(TRAINING_ARCHIVE_ITEMS)) {
    archive[item] = [
      (
        await http.call('POST', '/api/files', http.tokens.c1, `%PDF-1.4 ${item}`, {
          'content-type': 'application/pdf',
        })
      ).body.sha256,
    ];
  }
  let sps: { code: string; seq: number; base: string; server: number }[] = [];
  let timing = false;
  const budgetOf = (seq: number) => tengzhou.subprojects.find((s) => s.seq === seq)!.funding;
  const lat: number[] = [];
  let commands = 0;
  let busyMs = 0;
  const failures: string[] = [];
  let cpuMicros = 0;
  let serverCpu = 0;
  let pgCpu: number | null = 0;
  const engineStats: Record<string, number> = {};
  let serverSys = 0;
  const batch = async (name: string, fn: (sp: (typeof sps)[number]) => Promise<void>) => {
    if (!timing) {
      await pool(sps, P.concurrency, fn);
      if (failures.length)
        throw new Error(`B1 warm-up ${name}: ${failures.slice(0, 3).join(' | ')}`);
      return;
    }
    await askAll({ type: 'cpu-reset' }); // count the server's CPU during the timed batches only (not logins, not set-up)
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const pg0 = treeCpuMicros(pgPid);
    await pool(sps, P.concurrency, fn);
    busyMs += performance.now() - t0;
    const c = process.cpuUsage(c0);
    cpuMicros += c.user + c.system;
    const pg1 = treeCpuMicros(pgPid);
    pgCpu = pgCpu === null || pg0 === null || pg1 === null ? null : pgCpu + pg1 - pg0;
    const cs = await askAll<{
      micros: number;
      systemMicros: number;
      engine: Record<string, number>;
    }>({ type: 'cpu' });
    for (const c1 of cs) {
      serverCpu += c1.micros;
      serverSys += c1.systemMicros;
    }
    for (const k of Object.keys(cs[0].engine))
      engineStats[k] =
        k === 'largestBatch'
          ? Math.max(engineStats[k] ?? 0, ...cs.map((c) => c.engine[k]))
          : (engineStats[k] ?? 0) + cs.reduce((a, c) => a + c.engine[k], 0);
    if (failures.length) throw new Error(`B1 ${name}: ${failures.slice(0, 3).join(' | ')}`);
  };
  const cmd = async (
    s: { server: number },
    method: string,
    p: string,
    who: string,
    body?: unknown,
    headers?: Record<string, string>,
    expect = [200, 201],
  ) => {
    const t0 = performance.now();
    const r = await clients[s.server].call(method, p, http.tokens[who], body, headers);
    if (timing) {
      lat.push(performance.now() - t0);
      commands++;
    }
    if (!expect.includes(r.status))
      failures.push(`${method} ${p} → ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
  };
  let timerMs = 0;
  let timersFired = 0;
  /** One lifecycle pass over the subprojects of `programs`, from the tender (2019-10-01) to the last release. */
  const lifecycle = async (programs: string[]) => {
    sps = programs.flatMap((code, i) =>
      SEQS.map((seq) => ({
        code,
        seq,
        base: `/api/programs/${code}/subprojects/${seq}`,
        server: i % P.servers,
      })),
    );
    await at('2019-10-01T02:00:00.000Z');
    await batch('tender', (s) =>
      cmd(s, 'POST', `${s.base}/tender`, 'office1', {
        announcement: { title: 't' },
        bidDeadline: '2019-10-25',
      }),
    );
    await batch('bids', async (s) => {
      for (const c of ['c1', 'c2', 'c3'])
        await cmd(s, 'POST', `${s.base}/bids`, c, { price: '1000000', proposal: 'p' });
    });
    await at('2019-10-26T02:00:00.000Z');
    await batch('opening', (s) => cmd(s, 'POST', `${s.base}/opening`, 'office1', {}));
    await batch('scores', (s) =>
      cmd(s, 'POST', `${s.base}/scores`, 'ev1', {
        scores: [
          { org: 'ORG-A', score: 95 },
          { org: 'ORG-B', score: 90 },
          { org: 'ORG-C', score: 85 },
        ],
      }),
    );
    await batch('candidate', (s) =>
      cmd(s, 'POST', `${s.base}/candidate`, 'office1', { org: 'ORG-A' }),
    );
    await at('2019-10-31T02:00:00.000Z');
    await batch('award', (s) => cmd(s, 'POST', `${s.base}/award`, 'office1', {}));
    const ms = Array.from({ length: P.milestones }, (_, i) => `M${i + 1}`);
    await batch('contract', (s) => {
      const f = budgetOf(s.seq);
      const tranches = SOURCES.flatMap((src) => {
        const fen = Math.round(Number(f[src]) * 1_000_000);
        if (!fen) return [];
        return allocate(
          fen,
          ms.map(() => 1),
        ).map((amount, i) => ({
          key: `${src[0]}${i + 1}`,
          milestone: ms[i],
          source: src,
          amount: formatWan(amount),
        }));
      });
      return cmd(s, 'POST', `${s.base}/contract`, 'office1', {
        document: { title: 'c' },
        milestones: ms.map((key) => ({ key, title: key, due: '2020-12-31' })),
        tranches,
      });
    });
    let day = Date.parse('2019-11-01T02:00:00.000Z');
    for (const m of ms) {
      await at(new Date(day).toISOString());
      const counts = (seq: number) =>
        seq === 2 ? { town_station: 21, village_station: 240 } : { trainees: 100 };
      await batch(`submit ${m}`, (s) =>
        cmd(s, 'POST', `${s.base}/milestones/${m}/submission`, 'c1', {
          deliverable: m,
          counts: counts(s.seq),
          ...(s.seq === 5 ? { archive } : {}),
        }),
      );
      await batch(`pre-evaluate ${m}`, (s) =>
        cmd(s, 'POST', `${s.base}/milestones/${m}/pre-evaluation`, 'ev1', {
          opinion: 'ok',
          recommendation: 'accept',
        }),
      );
      await batch(`accept ${m}`, (s) =>
        cmd(s, 'POST', `${s.base}/milestones/${m}/decision`, 'office1', { decision: 'accept' }),
      );
      day += 9 * 86_400_000;
      await at(new Date(day).toISOString());
      const t0 = performance.now();
      const fired = (await child.ask<{ fired: number }>({ type: 'timers' })).fired; // publicity ends
      if (timing) {
        timersFired += fired;
        timerMs += performance.now() - t0;
      }
      await batch(`release ${m}`, async (s) => {
        for (const src of SOURCES)
          if (Number(budgetOf(s.seq)[src]) > 0)
            await cmd(
              s,
              'POST',
              `${s.base}/tranches/${src[0]}${m.slice(1)}/release`,
              'fin1',
              {},
              { 'idempotency-key': `${s.code}-${s.seq}-${src}-${m}` },
            );
      });
    }
  };
  // JIT warm-up: the same lifecycle on other programs first, untimed (a server that has run for a while)
  await lifecycle(warmCodes);
  timing = true;
  await lifecycle(codes);
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(children.map((c) => c.stop()));
  const {
    rows: [size],
  } = await rt.pool.query<{ avg: number; max: number }>(
    "SELECT avg(pg_column_size(state))::int AS avg, max(pg_column_size(state))::int AS max FROM stream WHERE type = 'subproject'",
  );
  return {
    serverCpuMsPerCommand: r1(serverCpu / 1000 / commands),
    serverKernelShare: Math.round((serverSys / serverCpu) * 1000) / 1000,
    serverCpuShareOfWall: Math.round((serverCpu / 1000 / busyMs) * 1000) / 1000,
    clientCpuMsPerCommand: r1(cpuMicros / 1000 / commands),
    postgresCpuMsPerCommand: pgCpu === null ? null : Math.round(pgCpu / commands) / 1000,
    subprojectStateBytes: size,
    subprojects: sps.length,
    milestones: P.milestones,
    concurrency: P.concurrency,
    commands,
    seconds: r1(busyMs / 1000) / 1,
    commandsPerSecond: Math.round(commands / (busyMs / 1000)),
    p50ms: r1(pct(lat, 50)),
    p99ms: r1(pct(lat, 99)),
    engine: {
      ...engineStats,
      appendsPerStatement: r1(engineStats.appends / engineStats.appendStatements),
    },
    timersFired,
    timerSeconds: r1(timerMs / 1000),
    template: codes[0],
  };
}

// Baseline: the same number of single-transaction writes with `pg` at the same concurrency (lock the
// stream row, insert an event with a chained SHA-256, update the state row, insert an outbox row).
async function baseline(url: string, n: number, streams: number, pgPid: number | undefined) {
  const pg = new Pool({ connectionString: url, max: P.concurrency });
  pg.on('error', () => {
    /* an idle connection lost: the next query reconnects */
  });
  await pg.query(`CREATE TABLE IF NOT EXISTS bench_stream (id text PRIMARY KEY, version int NOT NULL, head text NOT NULL, state jsonb NOT NULL);
    CREATE TABLE IF NOT EXISTS bench_event (id bigserial PRIMARY KEY, stream_id text NOT NULL, version int NOT NULL, data jsonb NOT NULL, hash text NOT NULL, UNIQUE (stream_id, version));
    CREATE TABLE IF NOT EXISTS bench_outbox (id bigserial PRIMARY KEY, stream_id text NOT NULL, payload jsonb NOT NULL);
    INSERT INTO bench_stream SELECT 's' || g, 0, '', '{}' FROM generate_series(1, ${streams}) g ON CONFLICT DO NOTHING`);
  const lat: number[] = [];
  const work = Array.from({ length: n }, (_, i) => `s${(i % streams) + 1}`);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const pg0 = treeCpuMicros(pgPid);
  await pool(work, P.concurrency, async (sid) => {
    const s = performance.now();
    const c = await pg.connect();
    try {
      await c.query('BEGIN');
      const {
        rows: [row],
      } = await c.query('SELECT version, head, state FROM bench_stream WHERE id = $1 FOR UPDATE', [
        sid,
      ]);
      const data = { type: 'Step', at: new Date().toISOString(), by: 'u' };
      const hash = createHash('sha256')
        .update(row.head + JSON.stringify(data))
        .digest('hex');
      await c.query(
        'INSERT INTO bench_event (stream_id, version, data, hash) VALUES ($1, $2, $3, $4)',
        [sid, row.version + 1, data, hash],
      );
      await c.query('UPDATE bench_stream SET version = $2, head = $3, state = $4 WHERE id = $1', [
        sid,
        row.version + 1,
        hash,
        { ...row.state, step: row.version + 1 },
      ]);
      await c.query('INSERT INTO bench_outbox (stream_id, payload) VALUES ($1, $2)', [sid, data]);
      await c.query('COMMIT');
    } finally {
      c.release();
    }
    lat.push(performance.now() - s);
  });
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const pg1 = treeCpuMicros(pgPid);
  await pg.end();
  return {
    clientCpuMsPerCommand: r1((c.user + c.system) / 1000 / n),
    postgresCpuMsPerCommand:
      pg0 === null || pg1 === null ? null : Math.round((pg1 - pg0) / n) / 1000,
    transactions: n,
    commandsPerSecond: Math.round(n / (ms / 1000)),
    p50ms: r1(pct(lat, 50)),
    p99ms: r1(pct(lat, 99)),
  };
}

// ---------------------------------------------------------------------------------------------- B2
async function b2(url: string) {
  const pg = new Pool({ connectionString: url, max: P.concurrency });
  pg.on('error', () => {
    /* an idle connection lost: the next query reconnects */
  });
  await pg.query(
    'CREATE TABLE IF NOT EXISTS bench_bpmn_state (id text PRIMARY KEY, step text NOT NULL, state jsonb NOT NULL)',
  );
  await pool(
    Array.from({ length: P.concurrency }, (_, i) => `peer-warm-${i}`),
    P.concurrency,
    async (id) => {
      await runPeerInstance(pg, id);
    },
  ); // JIT warm-up, untimed
  const ids = Array.from({ length: P.peerInstances }, (_, i) => `peer-${i}`);
  let transitions = 0;
  const t0 = performance.now();
  await pool(ids, P.concurrency, async (id) => {
    const n = await runPeerInstance(pg, id);
    transitions += n;
  }); // not `x += await`: that reads x before the await
  const ms = performance.now() - t0;
  await pg.end();
  return {
    instances: ids.length,
    stepsPerInstance: STEPS.length,
    transitions,
    transitionsPerSecond: Math.round(transitions / (ms / 1000)),
  };
}

// ---------------------------------------------------------------------------------------------- B3
async function b3(rt: Runtime, template: string, clock: ManualClock) {
  const t0 = performance.now();
  const codes = Array.from(
    { length: P.nationalPrograms },
    (_, i) => `nat-${String(i + 1).padStart(4, '0')}`,
  );
  const q = (sql: string, params: unknown[] = []) => rt.pool.query(sql, params);
  // Clone the B1 program (its streams, read models, ledger entries and events) under new codes in bulk.
  await q(`CREATE TEMP TABLE codes AS SELECT unnest($1::text[]) AS code`, [codes]);
  await q(
    `INSERT INTO stream (id, type, version, state, state_lag, head_hash, wake_at, next_due, updated_at)
    SELECT replace(s.id, $1, c.code), s.type, s.version, replace(s.state::text, '"${template}"', '"' || c.code || '"')::jsonb, s.state_lag, s.head_hash, s.wake_at, s.next_due, s.updated_at
      FROM stream s, codes c WHERE s.id = 'program-' || $1 OR s.id LIKE 'subproject-' || $1 || '-%'`,
    [template],
  );
  await q(
    `INSERT INTO program SELECT c.code, p.name, p.province, p.county, p.year, p.phase_key, p.phase_name, p.phase_index, p.phase_end, p.status, p.central_fen, p.local_fen, p.enterprise_fen, p.total_fen, p.version, p.created_at, p.updated_at FROM program p, codes c WHERE p.code = $1`,
    [template],
  );
  await q(
    `INSERT INTO subproject SELECT c.code, s.seq, s.name, s.direction, s.procurement, s.deadline, s.status, s.central_fen, s.local_fen, s.enterprise_fen, s.contractor_org, s.stage FROM subproject s, codes c WHERE s.program_code = $1`,
    [template],
  );
  await q(
    `INSERT INTO ledger_entry (program_code, seq, stream_id, version, kind, source, amount_fen, tranche, idempotency_key, org, at)
    SELECT c.code, l.seq, replace(l.stream_id, $1, c.code), l.version, l.kind, l.source, l.amount_fen, l.tranche, l.idempotency_key, l.org, l.at FROM ledger_entry l, codes c WHERE l.program_code = $1`,
    [template],
  );
  await q(
    `INSERT INTO event (stream_id, version, type, data, actor, role, command, reason, at, prev_hash, hash)
    SELECT replace(e.stream_id, $1, c.code), e.version, e.type, e.data, e.actor, e.role, e.command, e.reason, e.at, e.prev_hash, e.hash
      FROM event e, codes c WHERE e.stream_id = 'program-' || $1 OR e.stream_id LIKE 'subproject-' || $1 || '-%'`,
    [template],
  );
  // 待办 at national scale: the template's task rows cloned, then open office tasks up to 10,000 (a
  // milestone waiting for the office's decision in each subproject of the first programs)
  await q(
    `INSERT INTO task SELECT replace(t.stream_id, $1, c.code), t.key, c.code, t.seq, t.kind, t.role, t.org, t.what, t.since, t.due, t.due_at, t.show_from, t.show_until, t.anchor, t.ord
       FROM task t, codes c WHERE t.program_code = $1`,
    [template],
  );
  await q(
    `INSERT INTO task (stream_id, key, program_code, seq, kind, role, org, what, since, due, due_at, show_from, show_until, anchor, ord)
     SELECT 'subproject-' || c.code || '-' || s.seq, 'decide:B' || n, c.code, s.seq, 'decide', 'office', NULL,
            '验收决定：第 ' || n || ' 期', now() - n * interval '1 hour', NULL, now() + (n % 40 - 10) * interval '1 day', NULL, NULL, 'milestone-B' || n, n
       FROM codes c JOIN subproject s ON s.program_code = c.code, generate_series(1, 2) n
      LIMIT greatest(0, $1 - (SELECT count(*) FROM task WHERE role = 'office'))`,
    [P.openTasks],
  );
  await q('ANALYZE');
  const generateSeconds = r1((performance.now() - t0) / 1000);
  const {
    rows: [counts],
  } = await q(
    `SELECT (SELECT count(*) FROM program)::int AS programs, (SELECT count(*) FROM stream)::int AS streams, (SELECT count(*) FROM event)::int AS events, (SELECT count(*) FROM ledger_entry)::int AS ledger_entries, (SELECT count(*) FROM task WHERE role = 'office')::int AS office_tasks`,
  );
  const { http, server } = await serve(rt);
  await addUser(rt.prisma, { username: 'sup1', password: PASSWORD, role: 'supervisor' });
  await addUser(rt.prisma, { username: 'off1', password: PASSWORD, role: 'office' });
  clock.set(new Date().toISOString());
  const login = async (username: string) =>
    (await http.call('POST', '/api/auth/login', '', { username, password: PASSWORD })).body
      .token as string;
  const token = await login('sup1');
  const office = await login('off1');
  const measure = async (path: (i: number) => string, n: number, as = token, page = false) => {
    const lat: number[] = [];
    for (let i = 0; i < n; i++) {
      const s = performance.now();
      // a page: the console's session cookie carries the same token; the answer is HTML
      const r = page ? await http.page(path(i), as) : await http.call('GET', path(i), as);
      if (r.status !== 200) throw new Error(`B3 ${path(i)} → ${r.status}`);
      lat.push(performance.now() - s);
    }
    return { n, p50ms: r1(pct(lat, 50)), p95ms: r1(pct(lat, 95)) };
  };
  const pick = (i: number) => codes[(i * 7919) % codes.length];
  const out = {
    ...counts,
    generateSeconds,
    dashboard: await measure((i) => `/api/programs/${pick(i)}`, P.reads),
    programLedger: await measure((i) => `/api/programs/${pick(i)}/ledger`, P.reads),
    nationalSummary: await measure(() => '/api/summary', Math.max(10, P.reads / 10)),
    overdueList: await measure(() => '/api/overdue', Math.max(5, P.reads / 20)),
    // the web console's pages, rendered on the server (queries + Handlebars + the ECharts SVG)
    inboxPage: await measure(() => '/', Math.max(10, P.reads / 4), office, true),
    programPage: await measure((i) => `/programs/${pick(i)}`, P.reads / 2, office, true),
    subprojectPage: await measure(
      (i) => `/programs/${pick(i)}/subprojects/${SEQS[i % SEQS.length]}`,
      P.reads / 2,
      office,
      true,
    ),
    inboxApi: await measure(() => '/api/me/tasks', Math.max(10, P.reads / 4), office),
    // the public column (R-PUB-1), no log-in: the page, its JSON, and a conditional GET of the page
    ...(await publicReads(http.base, (i) => pick(i), P.reads / 2)),
  };
  await http.close();
  server.closeAllConnections();
  server.close();
  return out;
}

/** B3's public column: `/gongkai/:code` and `/api/public/programs/:code` without a log-in, and the page
 * again with the ETag of an untimed first answer (If-None-Match → 304, no body). */
async function publicReads(base: string, code: (i: number) => string, n: number) {
  const conn = new UndiciPool(base, { connections: 1 });
  const get = async (p: string, headers: Record<string, string> = {}) => {
    const res = await conn.request({ path: p, method: 'GET', headers });
    await res.body.text();
    return { status: res.statusCode, etag: String(res.headers.etag ?? '') };
  };
  const measure = async (path: (i: number) => string, want: number, etag = false) => {
    const lat: number[] = [];
    for (let i = 0; i < n; i++) {
      const headers = etag
        ? { 'if-none-match': (await get(path(i))).etag, 'cache-control': 'max-age=0' }
        : undefined;
      const s = performance.now();
      const r = await get(path(i), headers);
      if (r.status !== want) throw new Error(`B3 ${path(i)} → ${r.status}`);
      lat.push(performance.now() - s);
    }
    return { n, p50ms: r1(pct(lat, 50)), p95ms: r1(pct(lat, 95)) };
  };
  try {
    return {
      publicPage: await measure((i) => `/gongkai/${code(i)}`, 200),
      publicApi: await measure((i) => `/api/public/programs/${code(i)}`, 200),
      publicPageConditional: await measure((i) => `/gongkai/${code(i)}`, 304, true),
    };
  } finally {
    await conn.close();
  }
}

// ---------------------------------------------------------------------------------------------- B4
async function b4(url: string) {
  const pg = new Pool({ connectionString: url, max: 8 });
  pg.on('error', () => {});
  let queries = 0;
  const countingPool = new Proxy(pg, {
    get(t, k) {
      if (k === 'query')
        return (...a: unknown[]) => {
          queries++;
          return (t.query as (...x: unknown[]) => unknown)(...a);
        };
      const v = Reflect.get(t, k);
      return typeof v === 'function' ? v.bind(t) : v;
    },
  });
  // one real subproject in bidding, its deadline a moment away: the template for due timers
  const clock = new ManualClock(new Date(Date.now() - 25 * 86_400_000));
  const engine = new EmbeddedEngine(pg, clock);
  const actor = { username: 'office1', role: 'office' as const };
  const prog = await engine.read(programAggregate, 'bench-0001');
  const facts = programFacts(prog.state, 6);
  await engine.execute(
    subprojectAggregate,
    'timer-template-6',
    {
      type: 'OpenTender',
      program: facts,
      announcement: { title: 't', number: null, qualifications: [], documents: [] },
      bidDeadline: new Date(Date.now() + 3600_000).toISOString(),
    },
    { actor },
  );
  const {
    rows: [tpl],
  } = await pg.query(
    "SELECT state::text AS state, wake_at FROM stream WHERE id = 'subproject-timer-template-6'",
  );
  const deadlineText = new Date(tpl.wake_at).toISOString();
  const insertTimers = async (prefix: string, n: number, dueFrom: number, spreadMs: number) => {
    await pg.query(
      `INSERT INTO stream (id, type, version, state, head_hash, wake_at, updated_at)
      SELECT $1 || g, 'subproject', 2, replace($2, $3, to_char((to_timestamp(($4::bigint + (g * $5::bigint / $6::bigint)) / 1000.0) AT TIME ZONE 'UTC'), 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::jsonb,
             '${'0'.repeat(64)}', to_timestamp(($4::bigint + (g * $5::bigint / $6::bigint)) / 1000.0), now()
        FROM generate_series(1, $6::int) g`,
      [prefix, tpl.state, deadlineText, dueFrom, spreadMs, n],
    );
  };
  const sched = new TimerScheduler(new EmbeddedEngine(countingPool, systemClock));
  // a poll's cost: its time (mean of 200) and, deterministic, the buffers its query touches (EXPLAIN BUFFERS)
  const pollCost = async (label: string) => {
    const s = performance.now();
    for (let i = 0; i < 200; i++) await sched.runDue();
    const {
      rows: [plan],
    } = await pg.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${DUE_TIMERS_SQL}`, [
      new Date(),
      new Date(0),
      '',
      200,
    ]);
    const top = plan['QUERY PLAN'][0].Plan;
    const {
      rows: [{ pages }],
    } = await pg.query<{ pages: number }>(
      "SELECT pg_relation_size('stream')::bigint / current_setting('block_size')::int AS pages",
    );
    return {
      label,
      msPerPoll: Math.round(((performance.now() - s) / 200) * 100) / 100,
      buffers: top['Shared Hit Blocks'] + top['Shared Read Blocks'],
      tablePages: Number(pages),
    };
  };
  await insertTimers('subproject-pending1k-', 1000, Date.now() + 30 * 86_400_000, 86_400_000);
  await pg.query('ANALYZE stream');
  const cost1k = await pollCost('1,000 pending');
  await insertTimers(
    'subproject-pending-',
    P.timersPending,
    Date.now() + 31 * 86_400_000,
    30 * 86_400_000,
  );
  await pg.query('ANALYZE stream');
  const costBig = await pollCost(`${P.timersPending.toLocaleString('en')} pending`);
  // idle: nothing due, the scheduler polling every 200 ms
  queries = 0;
  const cpu0 = process.cpuUsage();
  const w0 = performance.now();
  sched.start(200);
  await new Promise((r) => setTimeout(r, P.idleSeconds * 1000));
  await sched.stop();
  const idleS = (performance.now() - w0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const idle = {
    seconds: r1(idleS),
    queriesPerSecond: r1(queries / idleS),
    cpuPercent: r1(((cpu.user + cpu.system) / 1000 / (idleS * 1000)) * 100),
  };
  // a few hundred come due over the next 2 s; lag = event time − due time
  const dueFrom = Date.now() + 500;
  await insertTimers('subproject-due-', P.timersDue, dueFrom, 2000);
  sched.start(200);
  await new Promise((r) => setTimeout(r, 4000));
  await sched.stop();
  const { rows } = await pg.query<{
    lag: number;
  }>(`SELECT extract(epoch FROM (e.at - to_timestamp((s.state->'tenders'->0->>'bidDeadline')::timestamptz::text, 'YYYY-MM-DD HH24:MI:SS.MS')))::float * 1000 AS lag
      FROM event e JOIN stream s ON s.id = e.stream_id WHERE e.type = 'BiddingClosed' AND e.stream_id LIKE 'subproject-due-%'`);
  const lags = rows.map((r) => r.lag);
  await pg.end();
  return {
    pending: P.timersPending,
    due: P.timersDue,
    fired: lags.length,
    lagP50ms: r1(pct(lags, 50)),
    lagP99ms: r1(pct(lags, 99)),
    pollCost: [cost1k, costBig],
    pollCostRatio: r1(costBig.msPerPoll / cost1k.msPerPoll),
    idle,
  };
}

// ---------------------------------------------------------------------------------------------- B5
const b5 = () =>
  startup(
    quick ? { cliRuns: 3, serverRuns: 2, tscRuns: 1 } : { cliRuns: 10, serverRuns: 5, tscRuns: 3 },
  );

// ---------------------------------------------------------------------------------------------- main
async function main() {
  if (only?.every((b) => b === 'B5')) {
    // start-up alone: no bench database needed
    console.log(JSON.stringify({ B5: await b5() }, null, 2));
    return;
  }
  let embedded: RunningPg | null = null;
  let url = process.env.DATABASE_URL;
  if (!url) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'shifan-bench-'));
    chmodSync(dir, 0o755);
    embedded = await startEmbeddedPostgres({
      dir: path.join(dir, 'pg'),
      port: 55000 + Math.floor(Math.random() * 5000),
      persistent: false,
    });
    await ensureDatabase(embedded.adminUrl, 'bench');
    url = embedded.url('bench');
  }
  await applyMigrations(url);
  if (!embedded) {
    // DATABASE_URL: the bench writes thousands of programs; it runs on an empty database only
    const probe = new Pool({ connectionString: url, max: 1 });
    const {
      rows: [{ n }],
    } = await probe.query<{ n: number }>('SELECT count(*)::int AS n FROM stream');
    await probe.end();
    if (n > 0) {
      console.error(
        `DATABASE_URL 指向的数据库已有 ${n} 个流，基准测试只在空库上运行 / the bench needs an empty database (found ${n} streams): create one, or unset DATABASE_URL to use a temporary embedded PostgreSQL`,
      );
      process.exit(2);
    }
  }
  const clock = new ManualClock('2019-10-01T02:00:00.000Z');
  const rt = createRuntime(url, { clock, poolSize: P.concurrency, notify: { font: null } });
  const {
    rows: [{ version }],
  } = await rt.pool.query('SELECT version()');
  const result: Record<string, unknown> = {
    date: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    command: `npm run bench${quick ? ' -- --quick' : ''}`,
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      memoryGiB: r1(os.totalmem() / 2 ** 30),
      platform: `${os.platform()} ${os.release()}`,
    },
    versions: { node: process.version, postgres: version.split(' ').slice(0, 2).join(' ') },
    params: P,
  };
  try {
    log(
      `B1: ${P.programs * SEQS.length} subprojects × ${P.milestones} milestones through HTTP, concurrency ${P.concurrency}`,
    );
    const pgPid =
      embedded?.pid ?? (process.env.BENCH_PG_PID ? Number(process.env.BENCH_PG_PID) : undefined); // PostgreSQL CPU: the embedded postmaster, or the one named
    const B1 = await b1(rt, clock, url, pgPid);
    const base = await baseline(url, B1.commands, B1.subprojects, pgPid);
    result.B1 = {
      ...B1,
      baseline: base,
      engineOverBaseline: Number((B1.commandsPerSecond / base.commandsPerSecond).toFixed(3)),
    };
    if (wanted('B2')) {
      log(
        'B2: BPMN peer (bpmn-engine, state saved to PostgreSQL after every step) and shifan in process, the same path',
      );
      const B2 = await b2(url);
      const { rows: files } = await rt.pool.query<{
        sha256: string;
        name: string;
        type: string;
        size: number;
      }>("SELECT sha256, name, type, size FROM evidence_file WHERE org = 'ORG-A' ORDER BY sha256");
      const archive = Object.fromEntries(
        Object.keys(TRAINING_ARCHIVE_ITEMS).map((k, i) => [k, [files[i % files.length]]]),
      );
      const inProcess = (programs: number, prefix: string) =>
        shifanInProcess(rt.pool, clock, tengzhou as never, {
          programs,
          seqs: SEQS,
          concurrency: P.concurrency,
          prefix,
          archive,
        });
      await inProcess(Math.max(1, Math.round(P.warmupPrograms / 2)), 'b2warm'); // JIT warm-up, untimed (the peer's is in b2)
      const shifan = await inProcess(Math.ceil(P.peerInstances / SEQS.length), 'b2');
      result.B2 = {
        peer: B2,
        shifanInProcess: shifan,
        shifanOverPeer: Number((shifan.transitionsPerSecond / B2.transitionsPerSecond).toFixed(2)),
        shifanHttpCommandsPerSecond: B1.commandsPerSecond,
        shifanHttpOverPeer: Number((B1.commandsPerSecond / B2.transitionsPerSecond).toFixed(2)),
      };
    }
    if (wanted('B3')) {
      log(`B3: national scale, ${P.nationalPrograms} programs`);
      result.B3 = await b3(rt, B1.template, clock);
    }
    if (wanted('B4')) {
      log(`B4: ${P.timersPending} pending timers, ${P.timersDue} coming due`);
      result.B4 = await b4(url);
    }
  } finally {
    await rt.close();
    await embedded?.stop();
  }
  if (wanted('B5')) {
    // after the bench's PostgreSQL has stopped: these processes start their own
    log('B5: start-up of the CLI and the server, compiled (dist/) vs tsx');
    result.B5 = await b5();
  }
  const b1r = result.B1 as Awaited<ReturnType<typeof b1>> & {
    baseline: { commandsPerSecond: number; p50ms: number; p99ms: number };
    engineOverBaseline: number;
  };
  const b2r = result.B2 as {
    peer: { transitionsPerSecond: number };
    shifanInProcess: { transitionsPerSecond: number };
    shifanOverPeer: number;
    shifanHttpOverPeer: number;
  };
  const b3r = result.B3 as Record<string, { p50ms: number; p95ms: number }> & {
    generateSeconds: number;
    programs: number;
    events: number;
  };
  const b4r = result.B4 as Awaited<ReturnType<typeof b4>>;
  const b5r = result.B5 as Awaited<ReturnType<typeof b5>>;
  if (only) {
    console.log(JSON.stringify(result, null, 2));
    return;
  }
  const table = [
    [
      'B1 lifecycle (HTTP)',
      `${b1r.commandsPerSecond} cmd/s, p50 ${b1r.p50ms} ms, p99 ${b1r.p99ms} ms (${b1r.commands} commands)`,
    ],
    [
      'B1 baseline (pg)',
      `${b1r.baseline.commandsPerSecond} tx/s, p50 ${b1r.baseline.p50ms} ms, p99 ${b1r.baseline.p99ms} ms`,
    ],
    ['B1 engine/baseline', `${b1r.engineOverBaseline}`],
    ['B2 peer (bpmn-engine)', `${b2r.peer.transitionsPerSecond} transitions/s (in process)`],
    [
      'B2 shifan (in process)',
      `${b2r.shifanInProcess.transitionsPerSecond} transitions/s; shifan/peer ${b2r.shifanOverPeer}`,
    ],
    [
      'B2 shifan HTTP / peer',
      `${b2r.shifanHttpOverPeer} (B1 through HTTP against the peer in process)`,
    ],
    ['B3 generate', `${b3r.generateSeconds} s for ${b3r.programs} programs, ${b3r.events} events`],
    ...(
      [
        'dashboard',
        'programLedger',
        'nationalSummary',
        'overdueList',
        'inboxPage',
        'programPage',
        'subprojectPage',
        'inboxApi',
        'publicPage',
        'publicApi',
        'publicPageConditional',
      ] as const
    ).map((k) => [`B3 ${k}`, `p50 ${b3r[k].p50ms} ms, p95 ${b3r[k].p95ms} ms`]),
    ['B4 lag', `p50 ${b4r.lagP50ms} ms, p99 ${b4r.lagP99ms} ms (${b4r.fired}/${b4r.due} fired)`],
    [
      'B4 poll cost',
      `${b4r.pollCost.map((c) => `${c.label}: ${c.msPerPoll} ms, ${c.buffers} pages read of ${c.tablePages}`).join('; ')} (time ratio ${b4r.pollCostRatio})`,
    ],
    ['B4 idle', `${b4r.idle.queriesPerSecond} queries/s, ${b4r.idle.cpuPercent}% CPU`],
    ...(['cli', 'server'] as const).map((k) => [
      k === 'cli' ? 'B5 CLI program list' : 'B5 server start',
      `compiled p50 ${b5r[k].compiled.p50ms} ms, max ${b5r[k].compiled.maxms} ms; tsx p50 ${b5r[k].tsx.p50ms} ms, max ${b5r[k].tsx.maxms} ms; tsx/compiled ${b5r[k].tsxOverCompiled}`,
    ]),
    [
      'B5 prestart',
      `${b5r.prestart.ifStaleMs} ms when nothing changed (a no-change incremental tsc: ${b5r.prestart.tscIncrementalMs} ms)`,
    ],
  ];
  console.log(
    `\nshifan bench (${String(result.mode)}) ${String(result.date)}\n${(result.machine as { cpus: number }).cpus} cores, ${(result.machine as { memoryGiB: number }).memoryGiB} GiB, ${process.version}, ${(result.versions as { postgres: string }).postgres}\n`,
  );
  for (const [k, v] of table) console.log(`${k.padEnd(24)} ${v}`);
  const outDir = path.join(__dirname, 'results');
  mkdirSync(outDir, { recursive: true });
  const file = path.join(
    outDir,
    `${(result.date as string).slice(0, 10)}-${String(result.mode)}.json`,
  );
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nwritten: ${path.relative(process.cwd(), file)}`);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
