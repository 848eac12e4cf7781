// Faults on real Temporal servers with the real workflows and activities on real PostgreSQL:
// - a worker process killed (SIGKILL) in the middle of a release, after its events were committed and
//   before the server heard of it: the Update completes once a new worker process takes the retried
//   activity, and nothing is paid twice (time-skipping server; `npm run worker` processes);
// - the database unreachable from the worker while a command runs: the persistence activity fails, is
//   retried with backoff and lands once when the database is back (dev server, a TCP proxy cut);
// - continue-as-new after a few events: the state and the armed deadline carry over to the new run, whose
//   timer fires (time-skipping server);
// - the API process killed (SIGKILL) while a command's Update waits on the dev server (no worker polls):
//   the Update completes without it once a worker is back; the retry through a new API process adds
//   nothing;
// - a workflow started by the previous release's code (workflows/ at PREVIOUS) continuing on this code:
//   its worker stops, a worker with the new code replays the history and fires the deadline it armed.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { addUser } from '../../activities/users';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Pool } from 'pg';
import { verifyAudit } from '../../engine/audit';
import { programAggregate } from '../../engine/aggregates';
import { createTemporalRuntime, type TemporalRuntime } from '../../engine/runtime';
import type { EntityInput } from '../../workflows/temporal/entity';
import {
  acceptMilestone,
  contract,
  later,
  ok,
  release,
  tengzhouInImplementation,
} from '../support/flows';
import { freePort } from '../support/free-port';
import { loadTable } from '../support/fixtures';
import { createTestDb, type TestDb } from '../support/pg-test-db';
import { startEngineServer, type TemporalServer } from '../support/server';
import {
  spawnWorker,
  startTemporal,
  startWorker,
  temporalSkipReason,
  workflowsAt,
  type WorkerProcess,
} from '../support/temporal';
import { definitionFromTable, ProgramTable } from '../../workflows/program/table';
import type { Actor } from '../../workflows/program/types';

jest.setTimeout(180_000);
const skipTs = temporalSkipReason('time-skipping', 'faults on the time-skipping server');
const skipDev = temporalSkipReason('dev', 'faults on the Temporal dev server');
for (const s of [skipTs, skipDev]) if (s) console.log(s);
const onTimeSkipping = skipTs ? describe.skip : describe;
const onDev = skipDev ? describe.skip : describe;

const count = async (pool: Pool, sql: string, args: unknown[] = []) =>
  Number((await pool.query<{ n: number }>(sql, args)).rows[0].n);

onTimeSkipping('a worker process killed in the middle of a release', () => {
  let t: TemporalServer;
  const workers: WorkerProcess[] = [];
  afterAll(async () => {
    for (const w of workers) await w.stop();
    await t?.close();
  });

  test('the release completes after a new worker starts; paid once', async () => {
    t = (await startEngineServer({ engine: 'temporal', inProcessWorker: false })) as TemporalServer;
    const env = {
      TEMPORAL_ADDRESS: t.env.address,
      TEMPORAL_TASK_QUEUE: t.taskQueue,
      DATABASE_URL: t.db.url,
      PG_POOL_SIZE: '4',
      TEMPORAL_MAX_CACHED_WORKFLOWS: '0', // see startWorker: the next worker must not wait on this one's sticky queue
    };
    const doomed = await spawnWorker({ ...env, SHIFAN_FAILPOINT: 'worker-after-release-persist' });
    workers.push(doomed);
    await tengzhouInImplementation(t);
    await contract(t, 'tengzhou-2019', 4, {
      milestones: [
        { key: 'M1', title: '区域公共品牌', due: '2020-06-30' },
        { key: 'M2', title: '溯源系统', due: '2020-12-31' },
      ],
      tranches: [
        { key: 'T1', milestone: 'M1', source: 'central', amount: '200' },
        { key: 'T2', milestone: 'M2', source: 'central', amount: '279' },
        { key: 'T3', milestone: 'M2', source: 'local', amount: '120' },
      ],
    });
    await acceptMilestone(t, 'tengzhou-2019', 4, 'M1', { deliverable: '品牌发布' });

    const answer = release(t, 'tengzhou-2019', 4, 'T1', 'tz4-T1-crash');
    expect(await doomed.exited).toEqual({ code: null, signal: 'SIGKILL' });
    // the events were committed before the worker died; the Update is still waiting for its activity
    const paid = "SELECT count(*)::int AS n FROM ledger_entry WHERE kind = 'disbursement'";
    expect(await count(t.rt.pool, paid)).toBe(1);
    workers.push(await spawnWorker(env));
    const r = await answer; // the activity's retry (after its timeout) runs on the new worker
    expect(r.status).toBe(201);
    expect(r.body.disbursement).toMatchObject({ tranche: 'T1', amount: { wan: '200' } });
    expect(await count(t.rt.pool, paid)).toBe(1);
    expect(
      await count(
        t.rt.pool,
        "SELECT count(*)::int AS n FROM event WHERE command = 'ReleaseTranche' AND stream_id = 'subproject-tengzhou-2019-4'",
      ),
    ).toBe(1);
    const again = await release(t, 'tengzhou-2019', 4, 'T1', 'tz4-T1-crash');
    expect(again.status).toBe(200);
    expect(again.body.disbursement).toEqual(r.body.disbursement);
    expect(await count(t.rt.pool, paid)).toBe(1);
    expect((await verifyAudit(t.rt.pool)).ok).toBe(true);
  });
});

/** A TCP proxy to PostgreSQL that can be cut (connections dropped, new ones refused) and restored. */
async function cuttableProxy(target: { host: string; port: number }) {
  const port = await freePort();
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  const up = () =>
    new Promise<void>((resolve) => {
      server = createServer((client) => {
        const upstream = connect(target.port, target.host);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => s.destroy());
        }
        client.pipe(upstream).pipe(client);
      });
      server.listen(port, '127.0.0.1', () => resolve());
    });
  const down = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      if (!server) return resolve();
      server.close(() => resolve());
      server = null;
    });
  await up();
  return { port, up, down };
}

onDev('the database unreachable from the worker while a command runs', () => {
  let db: TestDb;
  let env: TestWorkflowEnvironment;
  let rt: TemporalRuntime;
  let workerPool: Pool;
  let worker: Awaited<ReturnType<typeof startWorker>>;
  let proxy: Awaited<ReturnType<typeof cuttableProxy>>;
  const office: Actor = { username: 'office1', role: 'office', org: null };
  afterAll(async () => {
    await worker?.stop();
    await rt?.close();
    await workerPool?.end();
    await proxy?.down();
    await env?.teardown();
    await db?.drop();
  });

  test('the persistence activity retries until the database is back, then lands once', async () => {
    db = await createTestDb();
    env = await startTemporal('dev');
    const taskQueue = `shifan-${db.name}`;
    rt = await createTemporalRuntime(db.url, {
      address: env.address,
      namespace: 'default',
      taskQueue,
    });
    const u = new URL(db.url);
    proxy = await cuttableProxy({ host: u.hostname, port: Number(u.port) });
    u.port = String(proxy.port);
    workerPool = new Pool({
      connectionString: u.toString(),
      max: 2,
      connectionTimeoutMillis: 2000,
    });
    workerPool.on('error', () => {});
    worker = await startWorker(env.address, workerPool, taskQueue);
    const code = 'tengzhou-2019';
    const def = definitionFromTable(ProgramTable.parse(loadTable('tengzhou-2019')));
    await rt.engine.execute(
      programAggregate,
      code,
      { type: 'CreateProgram', definition: def },
      {
        actor: office,
      },
    );

    await proxy.down();
    const gate = rt.engine.execute(
      programAggregate,
      code,
      { type: 'RecordGateAct', gate: 'plan_filed', document: { title: '实施方案' } },
      { actor: office },
    );
    const handle = rt.engine.client.workflow.getHandle(`program-${code}`);
    // wait until the server records a failed attempt of the activity (the database is unreachable)
    for (let i = 0; ; i++) {
      const d = await handle.describe();
      const attempt = d.raw.pendingActivities?.[0]?.attempt ?? 0;
      if (attempt >= 2) break;
      if (i > 200) throw new Error('the activity was not retried');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(
      await count(
        rt.pool,
        "SELECT count(*)::int AS n FROM event WHERE stream_id = 'program-tengzhou-2019'",
      ),
    ).toBe(1);
    await proxy.up();
    const r = await gate;
    expect(r.version).toBe(2);
    expect(r.events.map((e) => e.type)).toEqual(['GateActRecorded']);
    expect(
      await count(
        rt.pool,
        "SELECT count(*)::int AS n FROM event WHERE stream_id = 'program-tengzhou-2019'",
      ),
    ).toBe(2);
    expect((await verifyAudit(rt.pool)).ok).toBe(true);
  });
});

onTimeSkipping('continue-as-new after a few events', () => {
  let t: TemporalServer;
  afterAll(async () => {
    await t?.close();
  });

  test('the state and the armed deadline carry over to the new run, whose timer fires', async () => {
    t = (await startEngineServer({ engine: 'temporal' })) as TemporalServer;
    await tengzhouInImplementation(t);
    // the workflow started by hand with a small run, as the engine would start it but for maxEventsPerRun
    const streamId = 'subproject-tengzhou-2019-4';
    const input: EntityInput = {
      streamType: 'subproject',
      streamId,
      clockOffsetMs: t.clock.offsetMs,
      maxEventsPerRun: 3,
    };
    const client = t.rt.engine.client;
    await client.workflow.start('entityWorkflow', {
      workflowId: streamId,
      taskQueue: t.taskQueue,
      args: [input],
    });
    const first = (await client.workflow.getHandle(streamId).describe()).runId;
    const sp = '/api/programs/tengzhou-2019/subprojects/4';
    ok(
      await t.call('POST', `${sp}/tender`, {
        token: t.tokens.office,
        body: { announcement: { title: '招标公告' }, bidDeadline: later(t, 21).slice(0, 10) },
      }),
      201,
    ); // SubprojectRegistered, TenderOpened
    for (const token of [t.tokens.contractor, t.tokens.contractorB])
      ok(await t.call('POST', `${sp}/bids`, { token, body: { price: '1', proposal: 'p' } }), 201);
    const handle = client.workflow.getHandle(streamId);
    let runId = first;
    for (let i = 0; runId === first && i < 100; i++) {
      await new Promise((r) => setTimeout(r, 100));
      runId = (await handle.describe()).runId;
    }
    expect(runId).not.toBe(first); // continued as new after 3 events
    const carried = await handle.query<{ version: number; state: { status: string } }>('getState');
    expect(carried.version).toBe(4);
    expect(carried.state.status).toBe('active');
    ok(
      await t.call('POST', `${sp}/bids`, {
        token: t.tokens.contractorC,
        body: { price: '1', proposal: 'p' },
      }),
      201,
    ); // decided on the carried state: the third bidder
    await t.at(later(t, 22));
    expect((await t.runDue()).fired).toBe(1); // the bidding deadline, armed again by the new run
    const s = ok(await t.call('GET', sp, { token: t.tokens.office }));
    expect(s.stage).toBe('closed');
    expect((await verifyAudit(t.rt.pool)).ok).toBe(true);
  });
});

/** The last release before issue 18 changed the entity workflow (its input gained clockOffsetMs). */
const PREVIOUS = 'e59762653daaf714ce7d37d39b512c1582e6fcb6';

onTimeSkipping('a workflow started on the previous code continues on this code', () => {
  let t: TemporalServer;
  const workers: Awaited<ReturnType<typeof startWorker>>[] = [];
  afterAll(async () => {
    for (const w of workers) await w.stop();
    await t?.close();
  });

  test('its history replays on the new worker, and the deadline the old code armed fires', async () => {
    const old = workflowsAt(PREVIOUS);
    if (!old) {
      console.log(`skipped: this clone lacks commit ${PREVIOUS} (a shallow clone?)`);
      return;
    }
    // the old code knows no clock offset: the journey runs on the server's own time (offset ≈ 0)
    t = (await startEngineServer({
      engine: 'temporal',
      inProcessWorker: false,
      now: new Date().toISOString(),
    })) as TemporalServer;
    workers.push(
      await startWorker(t.env.address, t.rt.pool, t.taskQueue, {
        cache: false,
        workflowsPath: old,
      }),
    );
    const o = t.tokens.office;
    const P = '/api/programs/tengzhou-2019';
    ok(await t.call('POST', '/api/programs', { token: o, body: loadTable('tengzhou-2019') }), 201);
    for (const gate of ['plan_filed', 'leading_group_established'])
      ok(
        await t.call('POST', `${P}/gates/${gate}`, {
          token: o,
          body: { document: { title: gate } },
        }),
      );
    ok(await t.call('POST', `${P}/advance`, { token: o, body: { to: 'implement' } }));
    const sp = `${P}/subprojects/4`;
    ok(
      await t.call('POST', `${sp}/tender`, {
        token: o,
        body: { announcement: { title: '招标公告' }, bidDeadline: later(t, 21).slice(0, 10) },
      }),
      201,
    );
    await t.addUserAndLogin('contractorC', 'contractor', '鲁南快递有限公司');
    for (const token of [t.tokens.contractor, t.tokens.contractorB, t.tokens.contractorC])
      ok(await t.call('POST', `${sp}/bids`, { token, body: { price: '1', proposal: 'p' } }), 201);

    await workers.shift()!.stop(); // the old release's worker goes away
    workers.push(await startWorker(t.env.address, t.rt.pool, t.taskQueue, { cache: false }));
    await t.at(later(t, 22));
    expect((await t.runDue()).fired).toBe(1); // armed by the old code, fired by the new
    const r = ok(await t.call('POST', `${sp}/opening`, { token: t.tokens.office }));
    expect(r.stage).toBe('opened');
    const history = await t.rt.engine.client.workflow
      .getHandle('subproject-tengzhou-2019-4')
      .fetchHistory();
    const failed = (history.events ?? []).filter((e) => e.workflowTaskFailedEventAttributes);
    expect(failed).toEqual([]); // no nondeterminism on the new code
    expect((await verifyAudit(t.rt.pool)).ok).toBe(true);
  });
});

onDev('the API process killed while an Update is in flight', () => {
  let db: TestDb;
  let env: TestWorkflowEnvironment;
  let rt: TemporalRuntime;
  let worker: Awaited<ReturnType<typeof startWorker>> | undefined;
  const apis: ReturnType<typeof spawn>[] = [];
  const dataDir = mkdtempSync(path.join(tmpdir(), 'shifan-api-'));
  afterAll(async () => {
    for (const a of apis) if (a.exitCode === null && a.signalCode === null) a.kill('SIGKILL');
    await worker?.stop();
    await rt?.close();
    await env?.teardown();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** `npm start` as its own process on the cluster: resolves with its base URL once /healthz answers. */
  async function startApi(taskQueue: string) {
    const port = await freePort();
    const child = spawn(process.execPath, [path.join(__dirname, '../../dist/api/main.js')], {
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATABASE_URL: db.url,
        DATA_DIR: dataDir,
        TEMPORAL_ADDRESS: env.address,
        TEMPORAL_TASK_QUEUE: taskQueue,
        LOG_LEVEL: 'silent',
      },
      stdio: 'ignore',
    });
    apis.push(child);
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      const up = await fetch(`${base}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (up) return { child, base };
      if (i > 300 || child.exitCode !== null) throw new Error('the API did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  test('the Update completes without its caller; the retry adds nothing', async () => {
    db = await createTestDb();
    env = await startTemporal('dev');
    const taskQueue = `shifan-${db.name}`;
    rt = await createTemporalRuntime(db.url, {
      address: env.address,
      namespace: 'default',
      taskQueue,
    });
    worker = await startWorker(env.address, rt.pool, taskQueue);
    await addUser(rt.prisma, { username: 'office1', password: 'office-pass-1', role: 'office' });
    const office: Actor = { username: 'office1', role: 'office', org: null };
    const def = definitionFromTable(ProgramTable.parse(loadTable('tengzhou-2019')));
    await rt.engine.execute(
      programAggregate,
      'tengzhou-2019',
      { type: 'CreateProgram', definition: def },
      { actor: office },
    );

    const first = await startApi(taskQueue);
    const login = async (base: string) =>
      (
        (await (
          await fetch(`${base}/api/auth/login`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ username: 'office1', password: 'office-pass-1' }),
          })
        ).json()) as { token: string }
      ).token;
    const gate = (base: string, token: string) =>
      fetch(`${base}/api/programs/tengzhou-2019/gates/plan_filed`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ document: { title: '实施方案' } }),
      });
    const token = await login(first.base);
    await worker.stop(); // no worker: the Update waits on the server
    worker = undefined;
    const lost = gate(first.base, token).then(
      (r) => r.status,
      () => 'no answer',
    );
    const handle = rt.engine.client.workflow.getHandle('program-tengzhou-2019');
    for (let i = 0; !(await handle.describe()).raw.pendingWorkflowTask; i++) {
      if (i > 200) throw new Error('the command never reached the server');
      await new Promise((r) => setTimeout(r, 50));
    }
    first.child.kill('SIGKILL');
    expect(await lost).toBe('no answer');
    const recorded =
      "SELECT count(*)::int AS n FROM event WHERE stream_id = 'program-tengzhou-2019' AND type = 'GateActRecorded'";
    expect(await count(rt.pool, recorded)).toBe(0);

    worker = await startWorker(env.address, rt.pool, taskQueue); // a worker comes back
    for (let i = 0; (await count(rt.pool, recorded)) === 0; i++) {
      if (i > 600) throw new Error('the admitted Update never completed');
      await new Promise((r) => setTimeout(r, 100));
    }
    const second = await startApi(taskQueue);
    const retry = await gate(second.base, await login(second.base));
    expect(retry.status).toBeLessThan(500); // answered (the act is recorded already)
    expect(await count(rt.pool, recorded)).toBe(1);
    expect((await verifyAudit(rt.pool)).ok).toBe(true);
  });
});
