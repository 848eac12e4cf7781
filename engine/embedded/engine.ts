// The embedded engine: each command is one PostgreSQL transaction. Load the stream, decide in Node,
// then append with an optimistic version check (one statement: events + state + read models + outbox).
// Commands on the same stream queue up in this process; across processes (the CLI beside the server)
// the version check catches a race and the command is decided again on fresh state.
//
// The state each append leaves is kept in memory (StreamCache), so the next command on the stream skips
// the load. Only a successful append trusts it: the append's version check proves the cached state was
// current. Anything else decided on a cached state (a refusal, nothing to do, a failed precheck) is
// decided again on a fresh load, so a change made by another process is never missed.
//
// Every load for a command checks the events it folds against the stream's hash chain (loadStream): a
// stream edited behind the application's back is refused (StreamIntegrityError), raised as an alarm
// (engine/audit.ts, GET /healthz), and never decided on. The cache holds only states this process
// appended or loaded intact.
import type { Pool } from 'pg';
import { appendDecided } from '../../activities/store/append';
import {
  AppendBatcher,
  loadStream,
  StreamIntegrityError,
  VersionConflict,
  type LoadedStream,
  type NewEvent,
} from '../../activities/store/event-store';
import { DomainError } from '../../workflows/errors';
import type { CommandContext } from '../../workflows/program/types';
import type { Aggregate } from '../aggregates';
import { clearIntegrityAlarm, raiseIntegrityAlarm } from '../audit';
import { systemClock, type Clock } from '../clock';
import { KeyedLock } from './keyed-lock';
import type { CommandMeta, CommandResult, Engine } from '../engine';
export type { CommandMeta, CommandResult };

const MAX_ATTEMPTS = 8;

/** Deep-freezes a state: cached states are shared by later commands, so nothing may change them in place. */
function freeze<T>(x: T): T {
  if (x && typeof x === 'object' && !Object.isFrozen(x)) {
    Object.freeze(x);
    for (const v of Object.values(x)) freeze(v);
  }
  return x;
}

/** The last state this process appended per stream, least recently used evicted beyond `max`. */
export class StreamCache {
  private readonly map = new Map<string, LoadedStream<unknown>>();
  constructor(readonly max = 10_000) {}
  get<S>(id: string): LoadedStream<S> | undefined {
    const hit = this.map.get(id);
    if (hit) {
      this.map.delete(id);
      this.map.set(id, hit);
    }
    return hit as LoadedStream<S> | undefined;
  }
  set(id: string, s: LoadedStream<unknown>): void {
    this.map.delete(id);
    if (this.max === 0) return;
    this.map.set(id, { ...s, state: freeze(s.state) });
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value!);
  }
  delete(id: string): void {
    this.map.delete(id);
  }
  clear(): void {
    this.map.clear();
  }
  get size(): number {
    return this.map.size;
  }
}

export class EmbeddedEngine implements Engine {
  readonly kind = 'embedded' as const;
  private readonly locks = new KeyedLock();
  /** Counters for tests and metrics: commands appended, optimistic conflicts retried. */
  readonly stats = { appended: 0, conflicts: 0, cacheHits: 0 };
  readonly cache: StreamCache;
  /** group commit of the appends (see AppendBatcher) */
  readonly appender: AppendBatcher;
  onCommitted?: Engine['onCommitted'];
  /** `cacheSize`: streams whose current state is kept in memory (a subproject's is ≈ 15–20 KB of heap at most); 0 = none */
  constructor(
    readonly pool: Pool,
    readonly clock: Clock = systemClock,
    cacheSize = 10_000,
  ) {
    this.cache = new StreamCache(cacheSize);
    this.appender = new AppendBatcher(pool);
  }

  execute<S, C extends { type: string }, E extends NewEvent>(
    agg: Aggregate<S, C, E>,
    key: string,
    command: NoInfer<C>,
    meta: CommandMeta<S>,
  ): Promise<CommandResult<S, E>> {
    return this.executeOnStream(agg, agg.streamId(key), command, meta);
  }

  executeOnStream<S, C extends { type: string }, E extends NewEvent>(
    agg: Aggregate<S, C, E>,
    streamId: string,
    command: NoInfer<C>,
    meta: CommandMeta<S>,
  ): Promise<CommandResult<S, E>> {
    return this.locks.run(streamId, () =>
      this.attempt(agg, streamId, command, meta).catch((e: unknown) => {
        if (e instanceof StreamIntegrityError) raiseIntegrityAlarm(e);
        throw e;
      }),
    );
  }

  private async attempt<S, C extends { type: string }, E extends NewEvent>(
    agg: Aggregate<S, C, E>,
    streamId: string,
    command: C,
    meta: CommandMeta<S>,
  ): Promise<CommandResult<S, E>> {
    for (let attempt = 1; ; attempt++) {
      const now = this.clock.now().toISOString();
      const ctx: CommandContext = { now, actor: meta.actor, reason: meta.reason ?? undefined };
      const decideOn = (s: LoadedStream<S>): E[] => {
        meta.precheck?.(s.state);
        return agg.decide(s.state, command, ctx);
      };
      const cached = this.cache.get<S>(streamId);
      let loaded: LoadedStream<S>;
      let decided: E[] = [];
      try {
        if (cached) decided = decideOn(cached);
      } catch {
        /* refused on the cached state: decided again below */
      }
      if (decided.length) {
        loaded = cached!;
        this.stats.cacheHits++;
      } else {
        // nothing cached, or refused / nothing to do on the cached state: decide on what the database holds
        if (cached) this.cache.delete(streamId);
        loaded = await loadStream(this.pool, streamId, agg);
        clearIntegrityAlarm(streamId);
        decided = decideOn(loaded);
        if (!decided.length)
          return { streamId, version: loaded.version, state: loaded.state, events: [] };
      }
      try {
        const r = await appendDecided(this.appender, agg, {
          streamId,
          loaded,
          decided,
          now,
          extraViews: meta.extraViews,
          meta: {
            actor: meta.actor.username,
            role: meta.actor.role,
            command: command.type,
            reason: meta.reason ?? null,
          },
        });
        this.stats.appended++;
        this.cache.set(streamId, {
          version: r.version,
          state: r.state,
          headHash: r.events[r.events.length - 1].hash,
          exists: true,
          lag: r.lag,
        });
        this.onCommitted?.(command, r.events);
        return { streamId, version: r.version, state: r.state, events: r.events };
      } catch (e) {
        this.cache.delete(streamId);
        if (!(e instanceof VersionConflict)) throw e;
        this.stats.conflicts++;
        if (attempt >= MAX_ATTEMPTS) {
          throw new DomainError(
            'CONFLICT',
            'conflict',
            '数据正被他人同时修改，请稍后重试',
            `stream ${streamId} kept changing under this command; retry`,
          );
        }
        await new Promise((r) => setTimeout(r, Math.min(100, 2 ** attempt) * Math.random()));
      }
    }
  }

  async read<S>(
    agg: Aggregate<S, { type: string }, NewEvent>,
    key: string,
  ): Promise<{ version: number; state: S }> {
    // a read decides nothing: not checked against the chain (commands on the stream are)
    const s = await loadStream(this.pool, agg.streamId(key), agg, { verify: false });
    return { version: s.version, state: s.state };
  }
}
