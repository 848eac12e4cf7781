// Builds the runtime pieces shared by the server, the CLI and tests: pg pool (append path), Prisma
// (read models, users), the embedded engine.
import { Pool } from 'pg';
import { systemClock, type Clock } from './clock';
import { EmbeddedEngine } from './embedded/engine';
import { TimerScheduler } from './embedded/scheduler';
import { TemporalEngine, type TemporalOptions } from './temporal/engine';
import { Client, Connection } from '@temporalio/client';
import { createPrisma, type PrismaClient } from '../activities/store/prisma';

export interface Runtime { pool: Pool; prisma: PrismaClient; engine: EmbeddedEngine; scheduler: TimerScheduler; close(): Promise<void> }
export interface TemporalRuntime { pool: Pool; prisma: PrismaClient; engine: TemporalEngine; scheduler: null; close(): Promise<void> }

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

/** The same runtime with commands going to a Temporal cluster; timers live in the workflows there. */
export async function createTemporalRuntime(url: string, t: TemporalOptions, opts: { clock?: Clock; poolSize?: number } = {}): Promise<TemporalRuntime> {
  const pool = new Pool({ connectionString: url, max: opts.poolSize ?? 10 });
  pool.on('error', () => {});
  const prisma = createPrisma(url);
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: t.address, connectTimeout: '10s' });
  } catch (e) {
    await prisma.$disconnect(); await pool.end();
    throw new Error(`无法连接 Temporal 集群 ${t.address}（${(e as Error).message}）；请确认集群已启动，或不设置 TEMPORAL_ADDRESS 以使用内置引擎 / cannot reach the Temporal cluster at ${t.address}`);
  }
  const client = new Client({ connection, namespace: t.namespace });
  const engine = new TemporalEngine(client, pool, opts.clock ?? systemClock, t.taskQueue);
  return {
    pool, prisma, engine, scheduler: null,
    close: async () => { await connection.close(); await prisma.$disconnect(); await pool.end(); },
  };
}
