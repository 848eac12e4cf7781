// Builds the runtime pieces shared by the server, the CLI and tests: pg pool (append path), Prisma
// (read models, users), the embedded engine.
import { Pool } from 'pg';
import { systemClock, type Clock } from './clock';
import { EmbeddedEngine } from './embedded/engine';
import { TimerScheduler } from './embedded/scheduler';
import { createPrisma, type PrismaClient } from '../activities/store/prisma';

export interface Runtime { pool: Pool; prisma: PrismaClient; engine: EmbeddedEngine; scheduler: TimerScheduler; close(): Promise<void> }

export function createRuntime(url: string, opts: { clock?: Clock; poolSize?: number; onTimerError?: (streamId: string, e: unknown) => void } = {}): Runtime {
  const pool = new Pool({ connectionString: url, max: opts.poolSize ?? 10 });
  pool.on('error', () => { /* idle client lost (e.g. database restart): the next query reconnects */ });
  const prisma = createPrisma(url);
  const engine = new EmbeddedEngine(pool, opts.clock ?? systemClock);
  const scheduler = new TimerScheduler(engine, opts.onTimerError);
  return {
    pool, prisma, engine, scheduler,
    close: async () => { await scheduler.stop(); await prisma.$disconnect(); await pool.end(); },
  };
}
