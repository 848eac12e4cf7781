// Replays committed histories (test/fixtures/histories, built by `npm run histories` from the deciders)
// through the real workflow code with Worker.runReplayHistory, and asserts through a workflow
// interceptor and sink what the workflow did: updates, the activities it scheduled with their
// arguments, its timers, and the update results. Replay alone would only compare command order.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  bundleWorkflowCode,
  DefaultLogger,
  Runtime,
  Worker,
  type InjectedSinks,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import type { ProbeSinks } from '../support/probe-interceptors';

// Installed only when a replay runs: an installed runtime that never hosted a worker keeps jest alive.
let runtimeInstalled = false;
const installRuntime = () => {
  if (runtimeInstalled) return;
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } },
  });
  runtimeInstalled = true;
};
jest.setTimeout(120_000);

const quiet = { log() {}, info() {}, warn() {}, error() {}, debug() {}, trace() {} };
const bundle = (file: string) =>
  bundleWorkflowCode({
    workflowsPath: require.resolve(file),
    workflowInterceptorModules: [require.resolve('../support/probe-interceptors')],
    logger: quiet,
  });

type Rec = [string, unknown];
async function replay(
  workflowBundle: WorkflowBundleWithSourceMap,
  history: unknown,
  workflowId: string,
) {
  installRuntime();
  const records: Rec[] = [];
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
  let error: unknown;
  try {
    await Worker.runReplayHistory({ workflowBundle, sinks }, history, workflowId);
  } catch (e) {
    error = e;
  }
  return { records: JSON.parse(JSON.stringify(records)) as Rec[], error }; // sandbox objects come from another realm
}

const dir = path.join(__dirname, '..', 'fixtures', 'histories');
const fixtures = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map(
    (f) =>
      JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as {
        name: string;
        description: string;
        workflowId: string;
        history: unknown;
        expected: Rec[];
      },
  );

let goodBundle: Promise<WorkflowBundleWithSourceMap> | undefined;
const good = () => (goodBundle ??= bundle('../../workflows/temporal')); // bundled once, when a replay needs it

test('the five committed scenarios are present', () => {
  expect(fixtures.map((f) => f.name).sort()).toEqual([
    'deadline-missed-clawback',
    'milestone-accepted-paid',
    'program-phases',
    'rectification-accepted',
    'tender-failed-round',
  ]);
});

describe.each(fixtures.map((f) => [f.name, f] as const))('%s', (_name, f) => {
  test(`replays and does exactly what the deciders decided: ${f.description}`, async () => {
    const r = await replay(await good(), f.history, f.workflowId);
    expect(r.error).toBeUndefined();
    expect(r.records).toEqual(f.expected);
    // and the recording is meaningful: every update answered, every command persisted once, in version order
    const acts = r.records
      .filter(([k]) => k === 'activity')
      .map(([, d]) => (d as { args: [{ fromVersion: number; events: unknown[] }] }).args[0]);
    acts.reduce((v, a) => {
      expect(a.fromVersion).toBe(v);
      return v + a.events.length;
    }, 0);
    expect(r.records.filter(([k]) => k === 'update').length).toBe(
      r.records.filter(([k]) => k === 'updateResult').length,
    );
  });
});

test("the timers are the decider's deadlines: publicity, rectification and clawback", () => {
  const byName = Object.fromEntries(
    fixtures.map((f) => [
      f.name,
      f.expected.filter(([k]) => k === 'timer').map(([, ms]) => ms as number),
    ]),
  );
  const days = (ms: number) => Math.floor((ms + 60_000) / 86_400_000); // whole days (deadlines end at 23:59:59.999 Beijing time)
  expect(byName['program-phases']).toEqual([]);
  expect(byName['tender-failed-round'].map(days)).toEqual([21, 25]);
  expect(byName['milestone-accepted-paid'].map(days)).toEqual([7]);
  expect(byName['rectification-accepted'].map(days)).toEqual([20, 7]);
  // the failure fires at 00:00 Beijing time; the clawback is due at the end of the 30th day after: 31 days minus a moment
  expect(byName['deadline-missed-clawback'].map(days)).toEqual([7, 10, 31]);
});

test('changing the order of operations (reply first, persist later) fails replay with DeterminismViolationError', async () => {
  const changed = await bundle('./workflows-reply-first');
  const f = fixtures.find((x) => x.name === 'milestone-accepted-paid')!;
  const r = await replay(changed, f.history, f.workflowId);
  expect(r.error).toBeInstanceOf(DeterminismViolationError);
});
