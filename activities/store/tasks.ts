// The task rows (待办) of streams written before the `task` table existed: derived once from each
// stream's state, under the stream row's lock so that an append cannot interleave, then the stream's
// `task_backfill` row is deleted. A database created after the migration has none to do.
import { Pool } from 'pg';
import { AGGREGATES } from '../aggregates';
import { loadStream } from './event-store';

export async function backfillTasks(url: string): Promise<number> {
  const pool = new Pool({ connectionString: url, max: 1 });
  const db = await pool.connect();
  let done = 0;
  try {
    const { rows } = await db.query<{ id: string; type: string }>(
      `SELECT s.id, s.type FROM task_backfill b JOIN stream s ON s.id = b.stream_id ORDER BY s.id`,
    );
    for (const { id, type } of rows) {
      const agg = AGGREGATES[type];
      await db.query('BEGIN');
      try {
        await db.query('SELECT 1 FROM stream WHERE id = $1 FOR UPDATE', [id]);
        const { state } = await loadStream(db, id, agg);
        const tasks = agg?.tasks?.(state) ?? [];
        await db.query('SELECT shifan_put_tasks($1, $2::jsonb)', [id, JSON.stringify(tasks)]);
        await db.query('DELETE FROM task_backfill WHERE stream_id = $1', [id]);
        await db.query('COMMIT');
        done++;
      } catch (e) {
        await db.query('ROLLBACK');
        throw e;
      }
    }
    // streams of a type without tasks never had a row; any left (a stream deleted since) go too
    await db.query('DELETE FROM task_backfill');
  } finally {
    db.release();
    await pool.end();
  }
  return done;
}
