// 待办 as a read model (issue 13): the `task` rows are written in the append's transaction and are, after
// every step, exactly what workflows/tasks.ts derives from the streams' states; each role and
// organisation sees its own; tasks that wait for a moment appear when the clock passes it; streams
// written before the table existed get their rows at start (backfill).
import { AGGREGATES } from '../../activities/aggregates';
import { loadStates } from '../../activities/store/event-store';
import { backfillTasks } from '../../activities/store/tasks';
import type { OpenTask } from '../../workflows/tasks';
import { importProgram, later, ok, tengzhouInImplementation } from '../support/flows';
import { startTestServer, type TestServer } from '../support/server';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
  await tengzhouInImplementation(t);
});
afterAll(async () => {
  await t?.close();
});

const SP = '/api/programs/tengzhou-2019/subprojects/6';
const post = (path: string, token: string, body: unknown = {}) =>
  t.call('POST', `${SP}${path}`, { token, body });

type Kinds = { total: number; kinds: string[] };
async function tasksOf(token: string): Promise<Kinds> {
  const body = ok(await t.call('GET', '/api/me/tasks', { token }));
  return {
    total: body.total,
    kinds: body.tasks
      .filter(
        (x: { seq: number | null; programCode: string }) =>
          x.seq === 6 && x.programCode === 'tengzhou-2019',
      )
      .map((x: { kind: string }) => x.kind),
  };
}

/** The task table equals the tasks derived from every stream's current state. */
async function expectTableMatchesStates(): Promise<void> {
  const derived: string[] = [];
  for (const type of ['program', 'subproject', 'parcels']) {
    const agg = AGGREGATES[type];
    for (const { id, state } of await loadStates(t.rt.pool, type, agg))
      for (const x of agg.tasks?.(state) ?? ([] as OpenTask[]))
        derived.push(`${id}|${x.key}|${x.role}|${x.org ?? ''}|${x.what}`);
  }
  const { rows } = await t.rt.pool.query<{ r: string }>(
    `SELECT stream_id || '|' || key || '|' || role || '|' || coalesce(org, '') || '|' || what AS r FROM task`,
  );
  expect(rows.map((x) => x.r).sort()).toEqual(derived.sort());
}

test('R-PH-2: a program in 启动筹备 gives the office its gate acts; recording one closes its task', async () => {
  await importProgram(t, 'shicheng-2020');
  const gates = async () =>
    ok(await t.call('GET', '/api/me/tasks', { token: t.tokens.office })).tasks.filter(
      (x: { kind: string; programCode: string }) =>
        x.kind === 'gate' && x.programCode === 'shicheng-2020',
    );
  expect((await gates()).map((x: { href: string }) => x.href)).toEqual([
    '/programs/shicheng-2020#gate-plan_filed',
    '/programs/shicheng-2020#gate-leading_group_established',
  ]);
  ok(
    await t.call('POST', '/api/programs/shicheng-2020/gates/plan_filed', {
      token: t.tokens.office,
      body: { document: { title: '实施方案' } },
    }),
  );
  expect((await gates()).map((x: { what: string }) => x.what)).toEqual(['登记关口：成立领导小组']);
  await expectTableMatchesStates();
});

test('R-TD-1: bidding is a contractor task until the deadline, opening an office task after it; only the desk counts the sealed bids', async () => {
  ok(
    await post('/tender', t.tokens.office, {
      announcement: { title: '分项目6招标公告' },
      bidDeadline: later(t, 21).slice(0, 10),
    }),
    201,
  );
  expect((await tasksOf(t.tokens.contractor)).kinds).toEqual(['bid']);
  expect((await tasksOf(t.tokens.contractorB)).kinds).toEqual(['bid']);
  expect((await tasksOf(t.tokens.office)).kinds).toEqual([]);
  for (const token of [t.tokens.contractor, t.tokens.contractorB, t.tokens.contractorC])
    ok(await post('/bids', token, { price: '1000000', proposal: '方案' }), 201);
  // the tender desk counts the sealed envelopes; the bidders and the evaluator learn no number
  const sealed = async (token: string) =>
    ok(await t.call('GET', SP, { token })).tenders[0].sealedBidCount as number | null;
  expect(await sealed(t.tokens.office)).toBe(3);
  expect(await sealed(t.tokens.supervisor)).toBe(3);
  expect(await sealed(t.tokens.contractor)).toBeNull();
  expect(await sealed(t.tokens.evaluator)).toBeNull();

  await t.at(later(t, 22)); // the deadline has passed: nothing was appended, the rows stay as they were
  expect((await tasksOf(t.tokens.contractor)).kinds).toEqual([]);
  expect((await tasksOf(t.tokens.office)).kinds).toEqual(['open_bids']);
  ok(await post('/opening', t.tokens.office));
  expect((await tasksOf(t.tokens.office)).kinds).toEqual(['score']);
  expect((await tasksOf(t.tokens.evaluator)).kinds).toEqual(['score']);
  await expectTableMatchesStates();
});

test('R-TD-3: after the award only the winner has the subproject tasks; the others none', async () => {
  ok(
    await post('/scores', t.tokens.evaluator, {
      scores: [
        { org: '滕州市邮政分公司', score: 95 },
        { org: '某物流有限公司', score: 90 },
        { org: '鲁南快递有限公司', score: 85 },
      ],
    }),
  );
  expect((await tasksOf(t.tokens.office)).kinds).toEqual(['propose']);
  expect((await tasksOf(t.tokens.evaluator)).kinds).toEqual([]);
  ok(await post('/candidate', t.tokens.office, { org: '滕州市邮政分公司' }));
  expect((await tasksOf(t.tokens.office)).kinds).toEqual([]); // publicity runs: award waits for its end
  await t.at(later(t, 4));
  expect((await tasksOf(t.tokens.office)).kinds).toEqual(['award']);
  ok(await post('/award', t.tokens.office));
  ok(
    await post('/contract', t.tokens.office, {
      document: { title: '项目承办协议' },
      milestones: [{ key: 'M1', title: '一期', due: '2020-06-30' }],
      tranches: [{ key: 'T1', milestone: 'M1', source: 'central', amount: '100' }],
    }),
    201,
  );
  expect((await tasksOf(t.tokens.contractor)).kinds).toEqual(['submit']);
  expect((await tasksOf(t.tokens.contractorB)).kinds).toEqual([]);
  await expectTableMatchesStates();
});

test('R-AC-2, R-AC-4: submit → pre-evaluate → decide → publicity → release, each a task of the next role', async () => {
  const m = '/milestones/M1';
  ok(
    await post(`${m}/submission`, t.tokens.contractor, {
      deliverable: '一期完成',
      counts: { stations: 1 },
    }),
    201,
  );
  expect((await tasksOf(t.tokens.contractor)).kinds).toEqual([]);
  expect((await tasksOf(t.tokens.evaluator)).kinds).toEqual(['pre_evaluate']);
  ok(
    await post(`${m}/pre-evaluation`, t.tokens.evaluator, {
      opinion: '资料齐全，建议通过',
      recommendation: 'accept',
    }),
  );
  expect((await tasksOf(t.tokens.office)).kinds).toEqual(['decide']);
  ok(await post(`${m}/decision`, t.tokens.office, { decision: 'accept' }));
  expect((await tasksOf(t.tokens.finance)).kinds).toEqual([]); // in publicity
  await t.at(later(t, 8));
  await t.rt.scheduler.runDue();
  const finance = ok(await t.call('GET', '/api/me/tasks', { token: t.tokens.finance }));
  const release = finance.tasks.find((x: { kind: string }) => x.kind === 'release');
  expect(release).toMatchObject({
    what: '拨付批次 T1',
    programName: expect.any(String),
    subprojectName: expect.any(String),
    href: '/programs/tengzhou-2019/subprojects/6#tranche-T1',
  });
  ok(
    await t.call('POST', `${SP}/tranches/T1/release`, {
      token: t.tokens.finance,
      body: {},
      headers: { 'idempotency-key': 'inbox-T1' },
    }),
    201,
  );
  expect((await tasksOf(t.tokens.finance)).kinds).toEqual([]);
  await expectTableMatchesStates();
});

test('streams written before the task table get their rows at start, once', async () => {
  const before = await t.rt.pool.query('SELECT stream_id, key FROM task ORDER BY 1, 2');
  await t.rt.pool.query('DELETE FROM task');
  await t.rt.pool.query(
    `INSERT INTO task_backfill SELECT id FROM stream WHERE type IN ('program', 'subproject', 'parcels')`,
  );
  expect((await tasksOf(t.tokens.office)).total).toBe(0);
  expect(await backfillTasks(t.db.url)).toBeGreaterThan(0);
  const after = await t.rt.pool.query('SELECT stream_id, key FROM task ORDER BY 1, 2');
  expect(after.rows).toEqual(before.rows);
  expect(await backfillTasks(t.db.url)).toBe(0);
  await expectTableMatchesStates();
});

test('待办 comes in pages of 100, the earliest due first; the count covers them all', async () => {
  // 150 open tasks of finance (read-model rows, as the projection writes them), removed afterwards
  await t.rt.pool.query(
    `INSERT INTO task (stream_id, key, program_code, seq, kind, role, org, what, since, due, due_at, anchor, ord)
     SELECT 'subproject-tengzhou-2019-5', 'release:P' || n, 'tengzhou-2019', 5, 'release', 'finance', NULL,
            '拨付批次 P' || n, now(), NULL, now() + n * interval '1 day', 'tranche-P' || n, n
       FROM generate_series(1, 150) n`,
  );
  try {
    const first = ok(await t.call('GET', '/api/me/tasks', { token: t.tokens.finance }));
    expect(first).toMatchObject({ total: 150, page: 1, pages: 2 });
    expect(first.tasks).toHaveLength(100);
    expect(first.tasks[0].what).toBe('拨付批次 P1');
    const second = ok(await t.call('GET', '/api/me/tasks?page=2', { token: t.tokens.finance }));
    expect(second.tasks.map((x: { what: string }) => x.what)).toEqual(
      Array.from({ length: 50 }, (_, i) => `拨付批次 P${i + 101}`),
    );
    expect((await t.call('GET', '/api/me/tasks?page=0', { token: t.tokens.finance })).status).toBe(
      400,
    );
  } finally {
    await t.rt.pool.query(`DELETE FROM task WHERE key LIKE 'release:P%'`);
  }
});
