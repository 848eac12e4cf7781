// Appending what a decider decided: chain the events onto the stream's hash head, fold the state, build
// the read-model rows, and write it all in one statement. Shared by the embedded engine and the
// Temporal persistence activity, so both write the same events, read models and audit chain.
import type { Pool, PoolClient } from 'pg';
import type { Aggregate } from '../aggregates';
import { AppendBatcher, appendToStream, chainEvents, type AppendInput, type LoadedStream, type ReadModelViews, type StoredEvent } from './event-store';

export interface AppendDecided<S, E> {
  streamId: string;
  loaded: LoadedStream<S>;
  decided: E[];
  meta: { actor: string; role: string; command: string; reason: string | null };
  now: string;
  extraViews?: ReadModelViews;
}

/** Throws VersionConflict when the stream moved past `loaded.version` meanwhile. */
export async function appendDecided<S, C extends { type: string }, E extends { type: string; data: unknown }>(
  db: Pool | PoolClient | AppendBatcher, agg: Aggregate<S, C, E>, a: AppendDecided<S, E>,
): Promise<{ version: number; state: S; events: StoredEvent[] }> {
  const state = a.decided.reduce(agg.evolve, a.loaded.state);
  const events = chainEvents(a.streamId, a.loaded.version, a.loaded.headHash, a.decided, { ...a.meta, at: a.now });
  const version = a.loaded.version + events.length;
  const input: AppendInput = {
    streamId: a.streamId, streamType: agg.streamType, expected: a.loaded.version, state, events,
    wakeAt: agg.wakeAt?.(state) ?? null, views: { ...agg.project(state, version, a.now, events), ...a.extraViews },
    outbox: agg.effects?.(state, events) ?? [], now: a.now,
  };
  await (db instanceof AppendBatcher ? db.append(input) : appendToStream(db, input));
  return { version, state, events };
}
