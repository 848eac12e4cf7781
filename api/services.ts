import type { Logger } from 'pino';
import type { Pool } from 'pg';
import type { Engine } from '../engine/engine';
import type { TimerScheduler } from '../engine/embedded/scheduler';
import type { Notifier } from '../activities/notify/dispatch';
import type { PrismaClient } from '../activities/store/prisma';

/** Everything the HTTP layer needs, built once at start-up (api/main.ts) or by a test. */
export interface Services {
  prisma: PrismaClient;
  pool: Pool;
  engine: Engine;
  scheduler: TimerScheduler | null;
  notifier: Notifier;
  log: Logger;
  /** crash-test fault injection: kill the process at this point (never set in production) */
  failpoint?: string;
}
