// The embedded engine: each command is one PostgreSQL transaction. Load the stream, decide in Node,
// then append with an optimistic version check (one statement: events + state + read models + outbox).
// Commands on the same stream queue up in this process; across processes (the CLI beside the server)
// the version check catches a race and the command is decided again on fresh state.
import type { Pool } from 'pg';
import { appendDecided } from '../../activities/store/append';
import { loadStream, VersionConflict } from '../../activities/store/event-store';
import { DomainError } from '../../workflows/errors';
import type { CommandContext } from '../../workflows/program/types';
import type { Aggregate } from '../aggregates';
import { systemClock, type Clock } from '../clock';
import { KeyedLock } from './keyed-lock';
import type { CommandMeta, CommandResult, Engine } from '../engine';
export type { CommandMeta, CommandResult };


const MAX_ATTEMPTS = 8;

export class EmbeddedEngine implements Engine {
  readonly kind = 'embedded' as const;
  private readonly locks = new KeyedLock();
  /** Counters for tests and metrics: commands appended, optimistic conflicts retried. */
  readonly stats = { appended: 0, conflicts: 0 };
  constructor(readonly pool: Pool, readonly clock: Clock = systemClock) {}

  execute<S, C extends { type: string }, E extends { type: string; data: unknown }>(
    agg: Aggregate<S, C, E>, key: string, command: C, meta: CommandMeta,
  ): Promise<CommandResult<S>> {
    return this.executeOnStream(agg, agg.streamId(key), command, meta);
  }

  executeOnStream<S, C extends { type: string }, E extends { type: string; data: unknown }>(
    agg: Aggregate<S, C, E>, streamId: string, command: C, meta: CommandMeta,
  ): Promise<CommandResult<S>> {
    return this.locks.run(streamId, async () => {
      for (let attempt = 1; ; attempt++) {
        const loaded = await loadStream(this.pool, streamId, agg.initialState);
        const now = this.clock.now().toISOString();
        meta.precheck?.(loaded.state);
        const ctx: CommandContext = { now, actor: meta.actor, reason: meta.reason ?? undefined };
        const decided = agg.decide(loaded.state, command, ctx);
        if (!decided.length) return { streamId, version: loaded.version, state: loaded.state, events: [] };
        try {
          const r = await appendDecided(this.pool, agg, {
            streamId, loaded, decided, now, extraViews: meta.extraViews,
            meta: { actor: meta.actor.username, role: meta.actor.role, command: command.type, reason: meta.reason ?? null },
          });
          this.stats.appended++;
          return { streamId, ...r };
        } catch (e) {
          if (!(e instanceof VersionConflict)) throw e;
          this.stats.conflicts++;
          if (attempt >= MAX_ATTEMPTS) {
            throw new DomainError('CONFLICT', 'conflict', '数据正被他人同时修改，请稍后重试', `stream ${streamId} kept changing under this command; retry`);
          }
          await new Promise((r) => setTimeout(r, Math.min(100, 2 ** attempt) * Math.random()));
        }
      }
    });
  }

  async read<S>(agg: Aggregate<S, { type: string }, { type: string; data: unknown }>, key: string): Promise<{ version: number; state: S }> {
    const s = await loadStream(this.pool, agg.streamId(key), agg.initialState);
    return { version: s.version, state: s.state };
  }
}
