// Timers of the embedded engine: each stream row carries `wake_at` (the decider's next deadline). The
// scheduler asks for due streams (an index range scan: its cost does not grow with pending timers) and
// sends each its aggregate's Tick command through the engine. A timer fires once: the decider emits an
// event only for a deadline not yet recorded, and the version check stops a second scheduler racing it.
// After a restart, anything that came due meanwhile is simply due now.
import { SYSTEM_ACTOR } from '../../workflows/program/types';
import { AGGREGATES } from '../aggregates';
import type { EmbeddedEngine } from './engine';
import { Poller } from '../../activities/poller';

/** Due streams after a keyset position ($1 now, $2/$3 the last (wake_at, id) seen, $4 how many). */
export const DUE_TIMERS_SQL = `SELECT id, type, wake_at FROM stream WHERE wake_at <= $1 AND (wake_at, id) > ($2, $3)
  ORDER BY wake_at, id LIMIT $4`;

export interface TimerRun {
  due: number;
  fired: number;
  errors: { streamId: string; error: string }[];
}

export class TimerScheduler {
  constructor(
    private readonly engine: EmbeddedEngine,
    private readonly onError: (streamId: string, e: unknown) => void = () => {},
  ) {}

  /** Fires every timer due at the engine's clock; returns how many streams were due and how many fired. */
  async runDue(batch = 200): Promise<TimerRun> {
    const out: TimerRun = { due: 0, fired: 0, errors: [] };
    const now = this.engine.clock.now().toISOString();
    for (let afterWake = new Date(0), afterId = ''; ;) {
      // keyset on (wake_at, id): walks the wake_at index from the oldest due timer, never the whole table
      const { rows } = await this.engine.pool.query<{ id: string; type: string; wake_at: Date }>(
        DUE_TIMERS_SQL,
        [now, afterWake, afterId, batch],
      );
      if (!rows.length) break;
      out.due += rows.length;
      await Promise.all(
        rows.map(async (r) => {
          const agg = AGGREGATES[r.type];
          if (!agg?.tick) return;
          try {
            const res = await this.engine.executeOnStream(agg, r.id, agg.tick, {
              actor: SYSTEM_ACTOR,
              reason: '期限届满（定时）',
            });
            if (res.events.length) out.fired++;
          } catch (e) {
            out.errors.push({ streamId: r.id, error: e instanceof Error ? e.message : String(e) });
            this.onError(r.id, e);
          }
        }),
      );
      afterWake = rows[rows.length - 1].wake_at;
      afterId = rows[rows.length - 1].id;
    }
    return out;
  }

  private readonly poller = new Poller(() => this.runDue());
  start(intervalMs: number): void {
    this.poller.start(intervalMs);
  }
  stop(): Promise<void> {
    return this.poller.stop();
  }
}
