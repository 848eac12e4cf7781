// Parity: one scenario through the embedded engine and through the Temporal workflow code (replayed,
// its persistence activity run against real PostgreSQL) writes the same event stream, event by event,
// down to the hash chain.
import {
  bundleWorkflowCode,
  DefaultLogger,
  Runtime,
  Worker,
  type InjectedSinks,
} from '@temporalio/worker';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities, type PersistInput } from '../../activities';
import { subprojectAggregate } from '../../engine/aggregates';
import { ManualClock } from '../../engine/clock';
import { createRuntime, type Runtime as ShifanRuntime } from '../../engine/runtime';
import type { CommandEnvelope } from '../../workflows/temporal/entity';
import type { ProbeSinks } from '../support/probe-interceptors';
import { createTestDb, type TestDb } from '../support/pg-test-db';
import { milestoneAcceptedPaid, rectificationAccepted } from './scenarios';

jest.setTimeout(120_000);
const dbs: TestDb[] = [];
const rts: ShifanRuntime[] = [];
afterAll(async () => {
  for (const r of rts) await r.close();
  for (const d of dbs) await d.drop();
});

let installed = false;
async function runTemporal(f: ReturnType<typeof milestoneAcceptedPaid>) {
  if (!installed)
    installed = !!Runtime.install({
      logger: new DefaultLogger('ERROR'),
      telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } },
    });
  const quiet = { log() {}, info() {}, warn() {}, error() {}, debug() {}, trace() {} };
  const workflowBundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('../../workflows/temporal'),
    workflowInterceptorModules: [require.resolve('../support/probe-interceptors')],
    logger: quiet,
  });
  const records: [string, any][] = [];
  const sinks: InjectedSinks<ProbeSinks> = {
    probe: {
      record: {
        fn: (_i, kind, data) => {
          records.push([kind, data]);
        },
        callDuringReplay: true,
      },
    },
  };
  await Worker.runReplayHistory({ workflowBundle, sinks }, f.history, f.workflowId);
  return JSON.parse(JSON.stringify(records)) as [string, any][];
}

const rows = async (rt: ShifanRuntime, stream: string) =>
  (
    await rt.pool.query(
      'SELECT version, type, data, actor, role, command, reason, at, prev_hash, hash FROM event WHERE stream_id = $1 ORDER BY version',
      [stream],
    )
  ).rows;

test.each([
  ['milestone accepted and paid', milestoneAcceptedPaid],
  ['rejection → rectification → acceptance', rectificationAccepted],
])('%s: same events on both engines', async (_name, build) => {
  const f = build();
  const records = await runTemporal(f);
  expect(records.length).toBeGreaterThan(10);

  // Temporal side: the activities the workflow scheduled, run against database B
  const [dbA, dbB] = [await createTestDb(), await createTestDb()];
  dbs.push(dbA, dbB);
  const clock = new ManualClock('2019-01-01T00:00:00Z');
  const [rtA, rtB] = [createRuntime(dbA.url, { clock }), createRuntime(dbB.url)];
  rts.push(rtA, rtB);
  const { persistEvents } = createActivities({ pool: rtB.pool });
  const persisted = records
    .filter(([k]) => k === 'activity')
    .map(([, d]) => d.args[0] as PersistInput);
  for (const input of persisted) await new MockActivityEnvironment().run(persistEvents, input);

  // Embedded side: the same commands at the same instants, against database A
  const key = f.workflowId.replace(/^subproject-/, '');
  let pending: CommandEnvelope | null = null;
  for (const [kind, d] of records) {
    if (kind === 'update') pending = d.args[0];
    if (kind !== 'activity') continue;
    const input = d.args[0] as PersistInput;
    clock.set(input.at);
    if (pending) {
      await rtA.engine.execute(subprojectAggregate, key, pending.command as never, {
        actor: pending.actor,
        reason: pending.reason,
      });
      pending = null;
    } else {
      expect((await rtA.scheduler.runDue()).fired).toBe(1); // a deadline: the embedded scheduler fires it
    }
  }
  const [a, b] = [await rows(rtA, f.workflowId), await rows(rtB, f.workflowId)];
  expect(a.length).toBe(persisted.reduce((n, p) => n + p.events.length, 0));
  expect(b).toEqual(a); // event by event: type, data, actor, role, command, reason, time, hash chain
});
