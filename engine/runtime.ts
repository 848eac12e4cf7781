// Builds the runtime pieces shared by the server, the CLI and tests: pg pool (append path), Prisma
// (read models, users), the embedded engine.
import { Pool } from 'pg';
import { ProgramFundsLock } from './funds-lock';
import { systemClock, type Clock } from './clock';
import { EmbeddedEngine } from './embedded/engine';
import { TimerScheduler } from './embedded/scheduler';
import type { TemporalOptions } from './temporal/engine';
import { Client, Connection, TemporalEngine } from './temporal/lazy'; // required when first used
import { Notifier, type NotifierDeps } from '../activities/notify/dispatch';
import { createMailer, type Mailer } from '../activities/notify/mailer';
import { findCjkFont, type CjkFont } from '../activities/notify/pdf';
import { createPrisma, type PrismaClient } from '../activities/store/prisma';

export interface Runtime {
  pool: Pool;
  prisma: PrismaClient;
  engine: EmbeddedEngine;
  scheduler: TimerScheduler;
  notifier: Notifier;
  fundsLock: ProgramFundsLock;
  close(): Promise<void>;
}
export interface TemporalRuntime {
  pool: Pool;
  prisma: PrismaClient;
  engine: TemporalEngine;
  scheduler: null;
  notifier: Notifier;
  fundsLock: ProgramFundsLock;
  close(): Promise<void>;
}

export interface NotifyOptions {
  mailer?: Mailer;
  font?: CjkFont | null;
  from?: string;
  log?: NotifierDeps['log'];
  reminderDays?: number;
  publicUrl?: string;
}
function notifierFor(
  pool: Pool,
  clock: Clock,
  n: NotifyOptions = {},
): { notifier: Notifier; mailer: Mailer } {
  const mailer = n.mailer ?? createMailer({ dataDir: '.data' });
  const notifier = new Notifier({
    pool,
    mailer,
    now: () => clock.now(),
    font: n.font === undefined ? findCjkFont() : n.font,
    from: n.from ?? 'shifan 示范 <noreply@shifan.local>',
    log: n.log,
    reminderDays: n.reminderDays,
    publicUrl: n.publicUrl,
  });
  return { notifier, mailer };
}

/** The R-FUND-7 program lock's own small pool (see engine/funds-lock.ts). */
function fundsLockFor(url: string): ProgramFundsLock {
  const pool = new Pool({ connectionString: url, max: 4 });
  pool.on('error', () => {});
  return new ProgramFundsLock(pool);
}

export function createRuntime(
  url: string,
  opts: {
    clock?: Clock;
    poolSize?: number;
    streamCacheSize?: number;
    onTimerError?: (streamId: string, e: unknown) => void;
    notify?: NotifyOptions;
  } = {},
): Runtime {
  const fundsLock = fundsLockFor(url);
  const pool = new Pool({ connectionString: url, max: opts.poolSize ?? 10 });
  pool.on('error', () => {
    /* idle client lost (e.g. database restart): the next query reconnects */
  });
  const prisma = createPrisma(url);
  const engine = new EmbeddedEngine(pool, opts.clock ?? systemClock, opts.streamCacheSize);
  const scheduler = new TimerScheduler(engine, opts.onTimerError);
  const { notifier, mailer } = notifierFor(pool, engine.clock, opts.notify);
  return {
    pool,
    prisma,
    engine,
    scheduler,
    notifier,
    fundsLock,
    close: async () => {
      await fundsLock.close();
      await scheduler.stop();
      await notifier.stop();
      mailer.close();
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

/** The same runtime with commands going to a Temporal cluster; timers live in the workflows there. */
export async function createTemporalRuntime(
  url: string,
  t: TemporalOptions,
  opts: { clock?: Clock; poolSize?: number; notify?: NotifyOptions } = {},
): Promise<TemporalRuntime> {
  const fundsLock = fundsLockFor(url);
  const pool = new Pool({ connectionString: url, max: opts.poolSize ?? 10 });
  pool.on('error', () => {});
  const prisma = createPrisma(url);
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: t.address, connectTimeout: '10s' });
  } catch (e) {
    await prisma.$disconnect();
    await pool.end();
    await fundsLock.close();
    throw new Error(
      `无法连接 Temporal 集群 ${t.address}（${(e as Error).message}）；请确认集群已启动，或不设置 TEMPORAL_ADDRESS 以使用内置引擎 / cannot reach the Temporal cluster at ${t.address}`,
      { cause: e },
    );
  }
  const client = new Client({ connection, namespace: t.namespace });
  const engine = new TemporalEngine(
    client,
    pool,
    opts.clock ?? systemClock,
    t.taskQueue,
    t.clockOffsetMs,
  );
  const { notifier, mailer } = notifierFor(pool, engine.clock, opts.notify);
  return {
    pool,
    prisma,
    engine,
    scheduler: null,
    notifier,
    fundsLock,
    close: async () => {
      await fundsLock.close();
      await notifier.stop();
      mailer.close();
      await connection.close();
      await prisma.$disconnect();
      await pool.end();
    },
  };
}
