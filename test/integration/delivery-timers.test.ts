// Delivery deadlines (acceptance publicity end, rectification deadline, clawback deadline) fire once
// each, also when the server was down when they came due and two restarted processes race for them.
import { createRuntime } from '../../engine/runtime';
import {
  contract,
  later,
  ok,
  preEvaluate,
  release,
  submitMilestone,
  tengzhouInImplementation,
} from '../support/flows';
import { startTestServer, type TestServer } from '../support/server';

let t: TestServer;
afterAll(async () => {
  await t?.close();
});

async function restartRace(at: string, type: string, stream: string): Promise<number> {
  t.clock.set(at);
  const a = createRuntime(t.db.url, { clock: t.clock });
  const b = createRuntime(t.db.url, { clock: t.clock });
  try {
    await Promise.all([a.scheduler.runDue(), b.scheduler.runDue(), a.scheduler.runDue()]);
    const { rows } = await a.pool.query(
      'SELECT count(*)::int AS n FROM event WHERE stream_id = $1 AND type = $2',
      [stream, type],
    );
    return rows[0].n;
  } finally {
    await a.close();
    await b.close();
  }
}

test('publicity end, rectification deadline and clawback deadline each fire once across restarts', async () => {
  t = await startTestServer();
  await tengzhouInImplementation(t);
  await contract(t, 'tengzhou-2019', 6, {
    milestones: [
      { key: 'M1', title: '一期', due: '2020-06-30' },
      { key: 'M2', title: '二期', due: '2020-12-31' },
    ],
    tranches: [
      { key: 'T1', milestone: 'M1', source: 'central', amount: '50' },
      { key: 'T2', milestone: 'M2', source: 'central', amount: '50' },
    ],
  });
  const SP = '/api/programs/tengzhou-2019/subprojects/6';
  const stream = 'subproject-tengzhou-2019-6';
  const step = async (m: string, decision: 'accept' | 'reject') => {
    await submitMilestone(t, `${SP}/milestones/${m}`, { deliverable: m });
    await preEvaluate(t, `${SP}/milestones/${m}`, { opinion: 'o', recommendation: decision });
    ok(
      await t.call('POST', `${SP}/milestones/${m}/decision`, {
        token: t.tokens.office,
        body:
          decision === 'accept'
            ? { decision }
            : { decision, defects: ['不合格'], rectificationDeadline: later(t, 10).slice(0, 10) },
      }),
    );
  };
  // 1) acceptance publicity ends while the server is down
  await step('M1', 'accept');
  await t.stopServer();
  expect(await restartRace(later(t, 8), 'AcceptancePublicityEnded', stream)).toBe(1);

  // 2) the rectification deadline passes while the server is down
  t = await reopen(t);
  expect((await release(t, 'tengzhou-2019', 6, 'T1', 'tz6-T1')).status).toBe(201);
  await step('M2', 'reject');
  await t.stopServer();
  expect(await restartRace(later(t, 12), 'MilestoneFailed', stream)).toBe(1);

  // 3) the clawback deadline (30 days) passes unpaid while the server is down
  expect(await restartRace(later(t, 31), 'ClawbackOverdue', stream)).toBe(1);
  const c = createRuntime(t.db.url, { clock: t.clock });
  try {
    const { rows } = await c.pool.query(
      "SELECT type FROM event WHERE stream_id = $1 AND actor = 'system' ORDER BY version",
      [stream],
    );
    expect(rows.map((r) => r.type)).toEqual([
      'AcceptancePublicityEnded',
      'MilestoneFailed',
      'SubprojectTerminated',
      'ContractorNamed',
      'ClawbackDemanded',
      'ClawbackOverdue',
    ]);
  } finally {
    await c.close();
  }
});

/** A new app and runtime on the same database and clock (the server "comes back"). */
async function reopen(prev: TestServer): Promise<TestServer> {
  const next = await startTestServer({ reuse: prev });
  return next;
}
