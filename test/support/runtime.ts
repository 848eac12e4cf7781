// A runtime (engine, event store, timers, notices) on an isolated test database and a manual clock, with
// the use cases' context: for the tests that call app/ directly rather than over HTTP (./server.ts).
import pino from 'pino';
import type { AppContext } from '../../app/context';
import { ManualClock } from '../../engine/clock';
import { createRuntime, type Runtime } from '../../engine/runtime';
import { createTestDb, type TestDb } from './pg-test-db';

export interface TestRuntime {
  db: TestDb;
  rt: Runtime;
  clock: ManualClock;
  /** the runtime with a silent log */
  ctx: AppContext;
  /** Closes the runtime, then drops the database unless it was passed in (`db`). */
  close(): Promise<void>;
}

/**
 * The clock starts at `now`; notices are rendered without a font (no PDF). `db`: a second runtime on
 * another's database (a server beside it), which the first one's close drops.
 */
export async function startTestRuntime(
  now: string,
  opts: { db?: TestDb; poolSize?: number } = {},
): Promise<TestRuntime> {
  const db = opts.db ?? (await createTestDb());
  const clock = new ManualClock(now);
  const rt = createRuntime(db.url, { clock, poolSize: opts.poolSize ?? 6, notify: { font: null } });
  return {
    db,
    rt,
    clock,
    ctx: { ...rt, log: pino({ level: 'silent' }) },
    close: async () => {
      await rt.close();
      if (!opts.db) await db.drop();
    },
  };
}
