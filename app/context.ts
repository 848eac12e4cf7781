// What every use case runs against, built once at start-up (api/main.ts, the CLI) or by a test.
// The use cases are the only callers of the engine and the read models: the HTTP routes, the CLI and
// the web pages translate their input into a use case call and its result back, nothing more.
import type { Logger } from 'pino';
import type { Pool } from 'pg';
import type { Engine } from '../engine/engine';
import type { ProgramFundsLock } from '../engine/funds-lock';
import type { TimerScheduler } from '../engine/embedded/scheduler';
import type { Notifier } from '../activities/notify/dispatch';
import type { PrismaClient } from '../activities/store/prisma';

export interface AppContext {
  prisma: PrismaClient;
  pool: Pool;
  engine: Engine;
  scheduler: TimerScheduler | null;
  notifier: Notifier;
  /** R-FUND-7: one money-moving command per program at a time (engine/funds-lock.ts) */
  fundsLock: ProgramFundsLock;
  log: Logger;
}
