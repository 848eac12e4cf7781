// R-FUND-7 across subprojects: the program's remaining budget per source must be read and spent by one
// money-moving command at a time (a tranche release on any of its subprojects, a parcel subsidy payment).
// Otherwise two releases on different subprojects, or a release beside a parcel payment, both check
// against the same remaining figure and together pay more than the program's budget for a source.
//
// Why a lock around the command rather than a check inside the append: the deciders decide, the append
// only records (both engines: on Temporal the decision is made in the workflow, before any activity
// runs). Holding the program's lock while reading the remaining budget, deciding and committing makes
// the figure the decider sees exact, on either engine and across processes (the CLI, a second server):
// - in this process, one command per program holds it at a time (a KeyedLock), so waiters hold nothing;
// - across processes, a PostgreSQL session advisory lock on a connection of a small pool of its own.
//   The command's own queries never wait for that pool, so waiting for the lock cannot starve them.
//   A process that dies releases its lock with its connection.
import type { Pool } from 'pg';
import { KeyedLock } from './embedded/keyed-lock';

/** The first key of the two-key advisory lock space used for program funds (notices use the one-key space). */
const FUNDS_LOCK_CLASS = 7001;

export class ProgramFundsLock {
  private readonly local = new KeyedLock();
  constructor(private readonly pool: Pool) {}

  run<T>(programCode: string, fn: () => Promise<T>): Promise<T> {
    return this.local.run(programCode, async () => {
      const c = await this.pool.connect();
      let broken = false;
      try {
        await c.query('SELECT pg_advisory_lock($1, hashtext($2))', [FUNDS_LOCK_CLASS, programCode]);
        try {
          return await fn();
        } finally {
          await c
            .query('SELECT pg_advisory_unlock($1, hashtext($2))', [FUNDS_LOCK_CLASS, programCode])
            .catch(() => {
              broken = true; // the connection is gone, and the lock with it
            });
        }
      } finally {
        c.release(broken);
      }
    });
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}
