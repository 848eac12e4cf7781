// Temporal activities, built by a factory with their dependencies (design.md). Persistence is idempotent
// by (stream, version): a retried or replayed activity finds its events already written and changes
// nothing, so no event and no ledger entry is ever duplicated.
import { ApplicationFailure } from '@temporalio/common';
import type { Pool } from 'pg';
import { AGGREGATES } from './aggregates';
import { appendDecided } from './store/append';
import {
  loadStream,
  StreamIntegrityError,
  VersionConflict,
  type ReadModelViews,
} from './store/event-store';

export interface PersistInput {
  streamType: string;
  streamId: string;
  fromVersion: number; // the stream's version the events were decided on
  events: { type: string; data: unknown }[];
  actor: string;
  role: string;
  command: string;
  reason: string | null;
  at: string; // the workflow's time of the decision (deterministic across retries)
  extraViews?: ReadModelViews;
}
export interface PersistResult {
  version: number;
  appended: number;
  alreadyPersisted: boolean;
}

export function createActivities(deps: { pool: Pool }) {
  return {
    async persistEvents(this: void, input: PersistInput): Promise<PersistResult> {
      const agg = AGGREGATES[input.streamType];
      if (!agg)
        throw ApplicationFailure.nonRetryable(
          `unknown stream type ${input.streamType}`,
          'UnknownStreamType',
        );
      const target = input.fromVersion + input.events.length;
      const loaded = await loadStream(deps.pool, input.streamId, agg).catch((e: unknown) => {
        // a stored record that fails its hash chain stays broken however often it is read again
        if (e instanceof StreamIntegrityError)
          throw ApplicationFailure.nonRetryable(e.message, 'StreamIntegrity');
        throw e;
      });
      if (loaded.version >= target) {
        // written by an earlier attempt of this activity: check it is the same, then do nothing
        const { rows } = await deps.pool.query<{ type: string }>(
          'SELECT type FROM event WHERE stream_id = $1 AND version > $2 AND version <= $3 ORDER BY version',
          [input.streamId, input.fromVersion, target],
        );
        if (rows.map((r) => r.type).join() !== input.events.map((e) => e.type).join()) {
          throw ApplicationFailure.nonRetryable(
            `stream ${input.streamId} holds other events at versions ${input.fromVersion + 1}..${target}`,
            'StreamDiverged',
          );
        }
        return { version: target, appended: 0, alreadyPersisted: true };
      }
      if (loaded.version !== input.fromVersion) {
        throw ApplicationFailure.nonRetryable(
          `stream ${input.streamId} is at version ${loaded.version}, expected ${input.fromVersion}`,
          'StreamVersionMismatch',
        );
      }
      try {
        const r = await appendDecided(deps.pool, agg, {
          streamId: input.streamId,
          loaded,
          decided: input.events,
          now: input.at,
          extraViews: input.extraViews,
          meta: {
            actor: input.actor,
            role: input.role,
            command: input.command,
            reason: input.reason,
          },
        });
        return { version: r.version, appended: r.events.length, alreadyPersisted: false };
      } catch (e) {
        if (e instanceof VersionConflict)
          throw ApplicationFailure.retryable(e.message, 'VersionConflict'); // a concurrent attempt: the retry finds it written
        throw e;
      }
    },
  };
}
export type Activities = ReturnType<typeof createActivities>;
