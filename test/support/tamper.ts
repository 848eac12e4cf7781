// Tampering with the stored record as an attacker with the database would: a superuser session with
// session_replication_role = replica skips the append-only and immutability triggers.
import type { Pool } from 'pg';

/** Runs one statement past the triggers, on a connection of its own, and puts the role back. */
export async function asSuperuser(pool: Pool, sql: string, params: unknown[] = []): Promise<void> {
  const c = await pool.connect();
  try {
    await c.query('SET session_replication_role = replica');
    await c.query(sql, params);
  } finally {
    await c.query('SET session_replication_role = origin');
    c.release();
  }
}
