// Runs the lifecycle on a real Temporal cluster when TEMPORAL_ADDRESS is set (e.g. `temporal server
// start-dev`): a worker with the real workflows and activities, the API's Temporal engine, real
// PostgreSQL. Without TEMPORAL_ADDRESS it is reported as skipped (never as passed). Real deadlines are
// days long, so this suite checks that they are armed (the workflow's state and its pending timer),
// not that they fire; replay tests cover the firing.
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { programAggregate, subprojectAggregate, subprojectKey } from '../../engine/aggregates';
import { createTemporalRuntime, type TemporalRuntime } from '../../engine/runtime';
import { DomainError } from '../../workflows/errors';
import { programFacts } from '../../workflows/program/facts';
import { definitionFromTable, ProgramTable } from '../../workflows/program/table';
import type { Actor } from '../../workflows/program/types';
import { loadTable } from '../support/fixtures';
import { createTestDb, type TestDb } from '../support/pg-test-db';

const address = process.env.TEMPORAL_ADDRESS;
jest.setTimeout(120_000);

if (!address) {
  console.log(
    'skipped: TEMPORAL_ADDRESS not set (the Temporal cluster suite needs a running cluster, e.g. `temporal server start-dev`)',
  );
  test.skip('skipped: TEMPORAL_ADDRESS not set', () => {});
} else {
  let db: TestDb;
  let rt: TemporalRuntime;
  let worker: Worker;
  let running: Promise<void>;
  let connection: NativeConnection;
  const taskQueue = `shifan-test-${Date.now()}`;
  const code = `cluster-${Date.now()}`;
  const office: Actor = { username: 'office1', role: 'office', org: null };
  const contractor: Actor = { username: 'c1', role: 'contractor', org: 'ORG' };

  beforeAll(async () => {
    db = await createTestDb();
    rt = await createTemporalRuntime(db.url, {
      address,
      namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
      taskQueue,
    });
    connection = await NativeConnection.connect({ address });
    worker = await Worker.create({
      connection,
      namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
      taskQueue,
      workflowsPath: require.resolve('../../workflows/temporal'),
      activities: createActivities({ pool: rt.pool }),
    });
    running = worker.run();
  });
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await connection?.close();
    await rt?.close();
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
