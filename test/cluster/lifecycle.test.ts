// The lifecycle on a real Temporal dev server (`temporal server start-dev`, real time, SQLite): a worker with
// the real workflows and activities, the API's Temporal engine, real PostgreSQL. The suite starts the
// server itself from the `temporal` binary (test/support/temporal.ts), or uses the cluster at
// TEMPORAL_ADDRESS when that is set. Real deadlines are days long, so this suite checks that they are
// armed (the workflow's state and its pending timer); timed-lifecycle.test.ts lets them fire on the
// time-skipping server.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { programAggregate, subprojectAggregate, subprojectKey } from '../../engine/aggregates';
import { createTemporalRuntime, type TemporalRuntime } from '../../engine/runtime';
import { DomainError } from '../../workflows/errors';
import { programFacts } from '../../workflows/program/facts';
import { definitionFromTable, ProgramTable } from '../../workflows/program/table';
import type { Actor } from '../../workflows/program/types';
import { loadTable } from '../support/fixtures';
import { createTestDb, type TestDb } from '../support/pg-test-db';
import {
  startTemporal,
  startWorker,
  temporalSkipReason,
  type RunningWorker,
} from '../support/temporal';

const external = process.env.TEMPORAL_ADDRESS;
jest.setTimeout(120_000);
const skip = external
  ? null
  : temporalSkipReason('dev', 'the lifecycle on the Temporal dev server');

if (skip) {
  console.log(skip);
  test.skip(skip, () => {});
} else {
  let db: TestDb;
  let rt: TemporalRuntime;
  let env: TestWorkflowEnvironment | undefined;
  let worker: RunningWorker;
  const taskQueue = `shifan-test-${Date.now()}`;
  const code = `cluster-${Date.now()}`;
  const office: Actor = { username: 'office1', role: 'office', org: null };
  const contractor: Actor = { username: 'c1', role: 'contractor', org: 'ORG' };
  const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';

  beforeAll(async () => {
    db = await createTestDb();
    env = external ? undefined : await startTemporal('dev');
    const address = external ?? env!.address;
    rt = await createTemporalRuntime(db.url, { address, namespace, taskQueue });
    worker = await startWorker(address, rt.pool, taskQueue, { namespace });
  });
  afterAll(async () => {
    await worker?.stop();
    await rt?.close();
    await env?.teardown();
    await db?.drop();
  });

  test('program, designation, contract, milestone through acceptance on the cluster', async () => {
    const t = loadTable('tengzhou-2019');
    const def = definitionFromTable(ProgramTable.parse({ ...t, code }));
    const e = rt.engine;
    await e.execute(
      programAggregate,
      code,
      { type: 'CreateProgram', definition: def },
      { actor: office },
    );
    await expect(
      e.execute(
        programAggregate,
        code,
        { type: 'AdvancePhase', to: 'implement' },
        { actor: office },
      ),
    ).rejects.toBeInstanceOf(DomainError); // validator refuses: gates open
    await e.execute(
      programAggregate,
      code,
      { type: 'RecordGateAct', gate: 'plan_filed', document: { title: 'p' } },
      { actor: office },
    );
    await e.execute(
      programAggregate,
      code,
      { type: 'RecordGateAct', gate: 'leading_group_established', document: { title: 'l' } },
      { actor: office },
    );
    const advanced = await e.execute(
      programAggregate,
      code,
      { type: 'AdvancePhase', to: 'implement' },
      { actor: office },
    );
    expect(advanced.version).toBe(4);
    const facts = programFacts((await e.read(programAggregate, code)).state, 7);
    const key = subprojectKey(code, 7);
    await e.execute(
      subprojectAggregate,
      key,
      { type: 'DesignateContractor', program: facts, org: 'ORG', document: null },
      { actor: office, reason: '直接委托' },
    );
    await e.execute(
      subprojectAggregate,
      key,
      {
        type: 'SignContract',
        number: null,
        document: { title: 'c' },
        milestones: [
          { key: 'M1', title: 'm', deliverables: [], due: '2030-12-31', evidenceRequired: [] },
        ],
        tranches: [{ key: 'T1', milestone: 'M1', source: 'local', amount: 100_000_000 }],
      },
      { actor: office },
    );
    await e.execute(
      subprojectAggregate,
      key,
      {
        type: 'SubmitMilestone',
        milestone: 'M1',
        deliverable: 'd',
        counts: {},
        files: [],
        archive: null,
      },
      { actor: contractor },
    );
    await e.execute(
      subprojectAggregate,
      key,
      {
        type: 'PreEvaluate',
        milestone: 'M1',
        opinion: 'ok',
        findings: [],
        recommendation: 'accept',
      },
      { actor: { username: 'ev', role: 'evaluator' } },
    );
    const accepted = await e.execute(
      subprojectAggregate,
      key,
      {
        type: 'DecideMilestone',
        milestone: 'M1',
        decision: 'accept',
        defects: [],
        rectificationDeadline: null,
      },
      { actor: office },
    );
    expect(accepted.events.map((x) => x.type)).toEqual(['MilestoneAccepted']);
    const { rows } = await rt.pool.query('SELECT wake_at FROM stream WHERE id = $1', [
      subprojectAggregate.streamId(key),
    ]);
    expect(rows[0].wake_at).not.toBeNull(); // the publicity deadline is armed in the workflow and recorded
    const release = e.execute(
      subprojectAggregate,
      key,
      {
        type: 'ReleaseTranche',
        tranche: 'T1',
        amount: null,
        idempotencyKey: 'k',
        requestHash: 'h',
        programRemaining: { central: 1e12, local: 1e12, enterprise: 0 },
      },
      { actor: { username: 'f', role: 'finance' } },
    );
    await expect(release).rejects.toMatchObject({ code: 'R-FUND-7' }); // publicity has not ended
  });
}
