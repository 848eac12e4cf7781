// Builds the runtime pieces shared by the server, the CLI and tests: pg pool (append path), Prisma
// (read models, users), the embedded engine.
import { Pool } from 'pg';
import { systemClock, type Clock } from './clock';
import { EmbeddedEngine } from './embedded/engine';
import { createPrisma, type PrismaClient } from '../activities/store/prisma';

export interface Runtime { pool: Pool; prisma: PrismaClient; engine: EmbeddedEngine; close(): Promise<void> }

export function createRuntime(url: string, opts: { clock?: Clock; poolSize?: number } = {}): Runtime {
  const pool = new Pool({ connectionString: url, max: opts.poolSize ?? 10 });
  pool.on('error', () => { /* idle client lost (e.g. database restart): the next query reconnects */ });
  const prisma = createPrisma(url);
  const engine = new EmbeddedEngine(pool, opts.clock ?? systemClock);
  return {
    pool, prisma, engine,
    close: async () => { await prisma.$disconnect(); await pool.end(); },
  };
}
