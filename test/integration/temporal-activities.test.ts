// The Temporal persistence activity, run with MockActivityEnvironment against real PostgreSQL: it
// writes the same rows as the embedded engine, and a retried attempt (the first one committed but its
// completion never reached the server) duplicates no event and no ledger entry.
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { createActivities, type PersistInput, type PersistResult } from '../../activities';
import { verifyAudit } from '../../engine/audit';
import { createRuntime, type Runtime } from '../../engine/runtime';
import { DEFAULT_POLICY } from '../../workflows/program/types';
import { createTestDb, type TestDb } from '../support/pg-test-db';
import { asSuperuser } from '../support/tamper';

let db: TestDb;
let rt: Runtime;
beforeAll(async () => {
  db = await createTestDb();
  rt = createRuntime(db.url);
});
afterAll(async () => {
  await rt?.close();
  await db?.drop();
});

const S = 'subproject-demo-1';
const base = {
  streamType: 'subproject',
  streamId: S,
  actor: 'office1',
  role: 'office',
  reason: null,
};
const registered: PersistInput = {
  ...base,
  fromVersion: 0,
  command: 'DesignateContractor',
  at: '2020-01-01T00:00:00.000Z',
  events: [
    {
      type: 'SubprojectRegistered',
      data: {
        programCode: 'demo',
        seq: 1,
        name: '示例',
        procurement: 'designated',
        budget: { central: 0, local: 1_000_000, enterprise: 0 },
        policy: DEFAULT_POLICY,
        direction: 'promotion',
        unitCaps: [],
        at: '2020-01-01T00:00:00.000Z',
      },
    },
    {
      type: 'ContractorAwarded',
      data: {
        org: 'ORG',
        at: '2020-01-01T00:00:00.000Z',
        by: 'office1',
        designated: true,
        reason: 'r',
        document: null,
      },
    },
  ],
};
const contract: PersistInput = {
  ...base,
  fromVersion: 2,
  command: 'SignContract',
  at: '2020-01-02T00:00:00.000Z',
  events: [
    {
      type: 'ContractSigned',
      data: {
        org: 'ORG',
        number: null,
        document: { title: 'c' },
        signedAt: '2020-01-02T00:00:00.000Z',
        signedBy: 'office1',
        milestones: [
          { key: 'M1', title: 'm', deliverables: [], due: '2020-12-31', evidenceRequired: [] },
        ],
        tranches: [{ key: 'T1', milestone: 'M1', source: 'local', amount: 1_000_000 }],
      },
    },
  ],
};
const released: PersistInput = {
  ...base,
  actor: 'finance1',
  role: 'finance',
  fromVersion: 3,
  command: 'ReleaseTranche',
  at: '2020-02-01T00:00:00.000Z',
  events: [
    {
      type: 'TrancheReleased',
      data: {
        id: 'D1',
        idempotencyKey: 'k1',
        requestHash: 'h',
        tranche: 'T1',
        milestone: 'M1',
        source: 'local',
        amount: 1_000_000,
        at: '2020-02-01T00:00:00.000Z',
        by: 'finance1',
      },
    },
  ],
};

const count = async (sql: string) => Number((await rt.pool.query(sql)).rows[0].n);

test('persists events, state, read models and ledger entries; a retry changes nothing', async () => {
  const env = new MockActivityEnvironment();
  const { persistEvents } = createActivities({ pool: rt.pool });
  expect(await env.run(persistEvents, registered)).toEqual({
    version: 2,
    appended: 2,
    alreadyPersisted: false,
  });
  expect(await env.run(persistEvents, contract)).toEqual({
    version: 3,
    appended: 1,
    alreadyPersisted: false,
  });
  expect(await env.run(persistEvents, released)).toEqual({
    version: 4,
    appended: 1,
    alreadyPersisted: false,
  });
  // the server retries the last attempt (its completion was lost): nothing more is written
  const retry = new MockActivityEnvironment({ attempt: 2 });
  expect(await retry.run(persistEvents, released)).toEqual({
    version: 4,
    appended: 0,
    alreadyPersisted: true,
  });
  expect(await retry.run(persistEvents, contract)).toEqual({
    version: 3,
    appended: 0,
    alreadyPersisted: true,
  });
  expect(await count(`SELECT count(*)::int AS n FROM event WHERE stream_id = '${S}'`)).toBe(4);
  expect(
    await count("SELECT count(*)::int AS n FROM ledger_entry WHERE kind = 'disbursement'"),
  ).toBe(1);
  expect((await verifyAudit(rt.pool)).ok).toBe(true);
});

test('two attempts at once: one writes, the other finds it written', async () => {
  const { persistEvents } = createActivities({ pool: rt.pool });
  const input: PersistInput = {
    ...base,
    streamId: 'subproject-demo-2',
    fromVersion: 0,
    command: 'DesignateContractor',
    at: '2020-01-01T00:00:00.000Z',
    events: registered.events,
  };
  const results = await Promise.allSettled([
    new MockActivityEnvironment().run(persistEvents, input),
    new MockActivityEnvironment().run(persistEvents, input),
  ]);
  // the loser either saw the rows (alreadyPersisted) or lost the version race (retryable VersionConflict)
  const ok = results
    .filter((r) => r.status === 'fulfilled')
    .map((r) => (r as PromiseFulfilledResult<{ alreadyPersisted: boolean }>).value);
  const failed = results.filter((r) => r.status === 'rejected').map((r) => r.reason);
  expect(ok.filter((x) => !x.alreadyPersisted)).toHaveLength(1);
  for (const e of failed) {
    expect(e).toBeInstanceOf(ApplicationFailure);
    expect((e as ApplicationFailure).type).toBe('VersionConflict');
    expect((e as ApplicationFailure).nonRetryable).toBe(false);
  }
  const retried = await new MockActivityEnvironment({ attempt: 2 }).run<
    [PersistInput],
    PersistResult,
    typeof persistEvents
  >(persistEvents, input);
  expect(retried.version).toBe(2);
  expect(
    await count("SELECT count(*)::int AS n FROM event WHERE stream_id = 'subproject-demo-2'"),
  ).toBe(2);
});

test('a gap or a diverged stream is a non-retryable failure', async () => {
  const { persistEvents } = createActivities({ pool: rt.pool });
  const gap = { ...released, fromVersion: 7, streamId: S };
  await expect(new MockActivityEnvironment().run(persistEvents, gap)).rejects.toMatchObject({
    type: 'StreamVersionMismatch',
    nonRetryable: true,
  });
  const diverged = { ...contract, events: [{ type: 'SomethingElse', data: {} }] };
  await expect(new MockActivityEnvironment().run(persistEvents, diverged)).rejects.toMatchObject({
    type: 'StreamDiverged',
    nonRetryable: true,
  });
});

test('issue 12.7: a stream whose stored events fail their hash chain is a non-retryable failure, nothing written', async () => {
  const { persistEvents } = createActivities({ pool: rt.pool });
  const id = 'subproject-demo-3';
  await new MockActivityEnvironment().run(persistEvents, { ...registered, streamId: id });
  await new MockActivityEnvironment().run(persistEvents, { ...contract, streamId: id });
  // the contract's tranche made smaller past the triggers (the state row still holds the old snapshot)
  await asSuperuser(
    rt.pool,
    `UPDATE event SET data = jsonb_set(data, '{tranches,0,amount}', '1') WHERE stream_id = $1 AND version = 3`,
    [id],
  );
  await expect(
    new MockActivityEnvironment().run(persistEvents, { ...released, streamId: id }),
  ).rejects.toMatchObject({ type: 'StreamIntegrity', nonRetryable: true });
  expect(await count(`SELECT count(*)::int AS n FROM event WHERE stream_id = '${id}'`)).toBe(3);
});
