// Appending what a decider decided: chain the events onto the stream's hash head, fold the state, build
// the read-model rows, and write it all in one statement. Shared by the embedded engine and the
// Temporal persistence activity, so both write the same events, read models and audit chain.
//
// The stream row's state is a snapshot: written with a stream's first events and then whenever
// SNAPSHOT_EVERY events have been appended since the last one; in between an append sends only the
// events (a subproject's state grows to ≈ 15 KB of JSON over its life, its events are ≈ 200 bytes).
// Loading folds the few events after the snapshot (loadStream), each checked against the hash chain,
// the snapshot against its binding (bindSnapshot); the embedded engine keeps the current state in
// memory anyway.
import type { Pool, PoolClient } from 'pg';
import type { Aggregate } from '../aggregates';
import type { OpenTask } from '../../workflows/tasks';
import {
  AppendBatcher,
  appendToStream,
  bindSnapshot,
  chainEvents,
  type AppendInput,
  type LoadedStream,
  type NewEvent,
  type ReadModelViews,
  type StoredEvent,
} from './event-store';

/** At most this many events lie between a stream's stored state and its version. */
export const SNAPSHOT_EVERY = 16;

export interface AppendDecided<S, E> {
  streamId: string;
  loaded: LoadedStream<S>;
  decided: E[];
  meta: { actor: string; role: string; command: string; reason: string | null };
  now: string;
  extraViews?: ReadModelViews;
}

/** Throws VersionConflict when the stream moved past `loaded.version` meanwhile. */
export async function appendDecided<S, C extends { type: string }, E extends NewEvent>(
  db: Pool | PoolClient | AppendBatcher,
  agg: Aggregate<S, C, E>,
  a: AppendDecided<S, E>,
): Promise<{ version: number; state: S; events: StoredEvent<E>[]; lag: number }> {
  const events = chainEvents(a.streamId, a.loaded.version, a.loaded.headHash, a.decided, {
    ...a.meta,
    at: a.now,
  });
  // folded from the events as stored (JSON as jsonb gives it back), exactly as a later load folds them:
  // `{ type, data }` alone, without the metadata (the cast only rejoins the two halves of one `E`)
  const state = events.reduce(
    (s, e) => agg.evolve(s, { type: e.type, data: e.data } as E),
    a.loaded.state,
  );
  const version = a.loaded.version + events.length;
  const lag =
    a.loaded.exists && a.loaded.lag + events.length < SNAPSHOT_EVERY
      ? a.loaded.lag + events.length
      : 0;
  const input: AppendInput = {
    streamId: a.streamId,
    streamType: agg.streamType,
    expected: a.loaded.version,
    // a snapshot carries the hash of the last event it covers, so a load can tell it was not edited
    state: lag
      ? null
      : bindSnapshot(
          a.streamId,
          version,
          events.length ? events[events.length - 1].hash : a.loaded.headHash,
          state,
        ),
    events,
    wakeAt: agg.wakeAt?.(state) ?? null,
    nextDue: agg.nextDue?.(state) ?? null,
    views: {
      ...agg.project(state, version, a.now, events),
      ...tasksView(agg, a.loaded, state),
      ...a.extraViews,
    },
    outbox: agg.effects?.(state, events) ?? [],
    now: a.now,
  };
  await (db instanceof AppendBatcher ? db.append(input) : appendToStream(db, input));
  return { version, state, events, lag };
}

/** The stream's open tasks when the command changed them (most commands change none: then nothing is
 * sent and the task table is not touched); always for a new stream (nothing written before). */
function tasksView<S>(
  agg: { tasks?(state: S): OpenTask[] },
  loaded: LoadedStream<S>,
  state: S,
): ReadModelViews {
  if (!agg.tasks) return {};
  const tasks = agg.tasks(state);
  if (loaded.exists && JSON.stringify(agg.tasks(loaded.state)) === JSON.stringify(tasks)) return {};
  return { tasks };
}
