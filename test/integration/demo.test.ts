// `shifan demo` (issue 13): runDemo drives the Tengzhou program through the use cases to a lively
// middle state on a clock it moves itself, ending at "now"; a second run refuses and changes nothing.
import type { AppContext } from '../../app/context';
import { DEMO_USERS, demoSummary, runDemo, type DemoReport } from '../../app/demo';
import { verifyAuditRecord } from '../../app/audit';
import { myTasks } from '../../app/inbox';
import {
  listUsers,
  loadSubproject,
  programDetail,
  programLedger,
  subprojectBids,
} from '../../app/queries';
import type { ManualClock } from '../../engine/clock';
import type { Runtime } from '../../engine/runtime';
import { DomainError } from '../../workflows/errors';
import type { SubprojectCore } from '../../workflows/subproject/types';
import { startTestRuntime, type TestRuntime } from '../support/runtime';

const END = '2026-12-03T09:00:00.000Z'; // 17:00 in Beijing
const CODE = 'tengzhou-2019';
const office = { username: 'office1', role: 'office' as const, org: null };
let demo: TestRuntime;
let rt: Runtime;
let clock: ManualClock;
let ctx: AppContext;
let report: DemoReport;
const lines: string[] = [];

const subproject = async (seq: number, c = ctx): Promise<SubprojectCore> => {
  const { state } = await loadSubproject(c, CODE, seq);
  if (state.status !== 'active') throw new Error(`subproject ${seq} not procured`);
  return state;
};
const count = async (table: string) =>
  Number((await rt.pool.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n);

beforeAll(async () => {
  demo = await startTestRuntime(END);
  ({ rt, clock, ctx } = demo);
  report = await runDemo(ctx, { clock, end: END, print: (l) => lines.push(l) });
}, 60_000);
afterAll(() => demo.close());

/**
 * `shifan demo` on a database of its own with its own clock, `beside` a server's runtime on the same
 * database (with a clock of its own at END) set up to race it; then `check` with what it printed.
 */
async function demoBesideServer(
  beside: (server: Runtime, demo: Runtime) => void,
  check: (c: AppContext, printed: string[], server: Runtime) => Promise<void>,
): Promise<void> {
  const d = await startTestRuntime(END);
  const server = await startTestRuntime(END, { db: d.db, poolSize: 10 });
  try {
    beside(server.rt, d.rt);
    const printed: string[] = [];
    await runDemo(d.ctx, { clock: d.clock, end: END, print: (l) => printed.push(l) });
    await check(d.ctx, printed, server.rt);
  } finally {
    await server.close();
    await d.close();
  }
}

test('the clock ends at the given now, having started months before; progress is printed in Chinese', () => {
  expect(clock.now().toISOString()).toBe(END);
  expect(Date.parse(report.startedAt)).toBeLessThan(Date.parse(END) - 150 * 86_400_000);
  expect(lines.join('\n')).toMatch(/导入项目/);
  expect(lines.join('\n')).toMatch(/招标/);
  expect(report.timersFired).toBeGreaterThanOrEqual(8); // bid deadlines, publicities, a missed rectification
});

test('a user for each role, three contractors of different organisations', async () => {
  const users = await listUsers(ctx);
  for (const d of DEMO_USERS)
    expect(users).toContainEqual(
      expect.objectContaining({ username: d.username, role: d.role, org: d.org }),
    );
  const contractorOrgs = DEMO_USERS.filter((u) => u.role === 'contractor').map((u) => u.org);
  expect(new Set(contractorOrgs).size).toBe(3);
  const summary = demoSummary(report, 'http://localhost:3000').join('\n');
  for (const d of DEMO_USERS) expect(summary).toContain(d.password);
  expect(summary).toMatch(/只供试用/);
});

test('the program is in 组织实施 with the first phase gates recorded with their documents', async () => {
  const p = await programDetail(ctx, CODE);
  expect(p.phase?.key).toBe('implement');
  expect(p.acts.map((a) => a.gate).sort()).toEqual(['leading_group_established', 'plan_filed']);
  for (const a of p.acts) expect(a.document.title).toBeTruthy();
});

test('subproject 4: a tender open with sealed bids and its deadline after now', async () => {
  const s = await subproject(4);
  expect(s.stage).toBe('bidding');
  const t = s.tenders[s.tenders.length - 1];
  expect(Date.parse(t.bidDeadline)).toBeGreaterThan(Date.parse(END));
  expect(t.bids.filter((b) => !b.withdrawn).length).toBeGreaterThanOrEqual(2);
  // sealed: the office reads no bid before the opening, a bidder its own only
  await expect(subprojectBids(ctx, office, CODE, 4)).rejects.toThrow();
  const own = await subprojectBids(
    ctx,
    { username: 'post1', role: 'contractor', org: '滕州市邮政分公司' },
    CODE,
    4,
  );
  expect(own.bids.map((b) => b.org)).toEqual(['滕州市邮政分公司']);
});

test('subproject 3: M1 accepted, its central share paid after its publicity and its local share releasable; M2 accepted and in publicity', async () => {
  const s = await subproject(3);
  expect(s.delivery.milestones.M1.status).toBe('accepted');
  const m2 = s.delivery.milestones.M2;
  expect(m2.status).toBe('publicity');
  expect(Date.parse(m2.publicity!.endsAt)).toBeGreaterThan(Date.parse(END));
  const paid = s.delivery.disbursements;
  expect(paid.map((d) => d.tranche)).toEqual(['M1-C']);
  for (const d of paid)
    expect(Date.parse(d.at)).toBeGreaterThan(
      Date.parse(s.delivery.milestones.M1.publicity!.endsAt),
    );
});

test("each role finds its work in its 待办: the office the supervisor's objection, finance a release and the clawback, the contractors theirs", async () => {
  const kinds = async (username: string) => {
    const u = DEMO_USERS.find((x) => x.username === username)!;
    const { tasks } = await myTasks(ctx, { username, role: u.role, org: u.org });
    return tasks.map((x) => `${x.seq}:${x.kind}`).sort();
  };
  expect(await kinds('office1')).toEqual(['3:objection']);
  expect(await kinds('finance1')).toEqual(['3:release', '6:clawback']);
  expect(await kinds('post1')).toEqual(['1:rectify', '1:submit', '4:bid']);
  expect(await kinds('kuaidi1')).toEqual(['4:bid', '6:clawback']);
});

test('subproject 1: M1 rejected, in rectification with a deadline after now', async () => {
  const m = (await subproject(1)).delivery.milestones.M1;
  expect(m.status).toBe('rectifying');
  expect(m.rectification!.defects.length).toBeGreaterThan(0);
  expect(Date.parse(m.rectification!.deadline)).toBeGreaterThan(Date.parse(END));
});

test('subproject 6: terminated by its missed deadline, the clawback partly recovered', async () => {
  const s = await subproject(6);
  expect(s.delivery.terminated).not.toBeNull();
  const c = s.delivery.clawback!;
  expect(c.demanded.central).toBe(40_0000_00); // 40 万元 in fen
  expect(c.recovered.central).toBeGreaterThan(0);
  expect(c.recovered.central).toBeLessThan(c.demanded.central);
  expect(c.settledAt).toBeNull();
  expect(Date.parse(c.deadline)).toBeGreaterThan(Date.parse(END));
});

test('the program ledger shows the money paid and recovered', async () => {
  const L = await programLedger(ctx, CODE);
  expect(L.total.disbursed.wan).toBe('230'); // 190 (subproject 3, central) + 40 (subproject 6)
  expect(L.total.recovered.wan).toBe('15');
  expect(L.subprojects.find((x) => x.seq === 6)?.status).toBe('terminated');
  expect(L.subprojects.find((x) => x.seq === 4)?.status).toBe('tendering');
});

test('a server on the real clock then finds nothing due: the state stays as the demo left it', async () => {
  clock.set(new Date(Date.parse(END) + 60_000));
  const run = await rt.scheduler.runDue();
  expect(run).toEqual({ due: 0, fired: 0, errors: [] });
  clock.set(END);
});

test('the audit record is intact', async () => {
  const r = await verifyAuditRecord(ctx);
  expect(r.ok).toBe(true);
});

test('a second run refuses with a clear message and changes nothing', async () => {
  const before = await Promise.all(['event', 'app_user', 'stream', 'evidence_file'].map(count));
  const err: unknown = await runDemo(ctx, { clock, end: END }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(DomainError);
  expect((err as DomainError).message).toMatch(/演示数据已存在.*tengzhou-2019.*未做任何改动/);
  expect(await Promise.all(['event', 'app_user', 'stream', 'evidence_file'].map(count))).toEqual(
    before,
  );
  expect(clock.now().toISOString()).toBe(END);
});

test(
  'beside a server polling its timers every 50 ms on the real clock, the demo reaches the same state',
  () =>
    demoBesideServer(
      (server) => server.scheduler.start(50), // TIMER_POLL_MS's minimum
      async (c, _printed, server) => {
        await server.scheduler.stop();
        expect((await subproject(4, c)).stage).toBe('bidding');
        expect((await subproject(3, c)).delivery.milestones.M2.status).toBe('publicity');
        expect((await subproject(1, c)).delivery.milestones.M1.status).toBe('rectifying');
        const s6 = await subproject(6, c);
        expect(s6.delivery.clawback!.recovered.central).toBeGreaterThan(0);
        expect(s6.delivery.clawback!.settledAt).toBeNull();
        expect((await programLedger(c, CODE)).total.disbursed.wan).toBe('230');
        expect(await server.scheduler.runDue()).toEqual({ due: 0, fired: 0, errors: [] });
        expect((await verifyAuditRecord(c)).ok).toBe(true);
      },
    ),
  60_000,
);

test(
  'a server that closes a bidding on the real clock before the bids are in: the tender fails and the demo tenders again',
  () =>
    demoBesideServer(
      // the server's timer poll lands right after the first tender is announced
      (server, demoRt) => {
        const execute = demoRt.engine.execute.bind(demoRt.engine);
        let raced = false;
        demoRt.engine.execute = (async (...args: Parameters<typeof execute>) => {
          const r = await execute(...args);
          if (!raced && args[2].type === 'OpenTender') {
            raced = true;
            await server.scheduler.runDue();
          }
          return r;
        }) as typeof demoRt.engine.execute;
      },
      async (c, printed) => {
        expect(printed.join('\n')).toMatch(/流标，重新招标/);
        const state = await subproject(3, c);
        expect(state.tenders.map((t) => !!t.failed)).toEqual([true, false]);
        expect(state.award?.org).toBe('某物流有限公司');
        expect(state.delivery.milestones.M2.status).toBe('publicity');
        expect((await programLedger(c, CODE)).total.disbursed.wan).toBe('230');
      },
    ),
  60_000,
);
