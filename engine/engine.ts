// What the API, the CLI and the scheduler need from an engine; the embedded one (PostgreSQL) and the
// Temporal one implement it, so everything above behaves the same on both.
import type { Aggregate } from '../activities/aggregates';
import type { Clock } from './clock';
import type { NewEvent, ReadModelViews, StoredEvent } from '../activities/store/event-store';
import type { Actor } from '../workflows/program/types';

export interface CommandMeta<S = unknown> {
  actor: Actor;
  reason?: string | null;
  /** rows the caller adds to the same transaction (e.g. the waybill numbers of a parcel claim's file) */
  extraViews?: ReadModelViews;
  /** checked against the freshly loaded state before deciding (e.g. R-TD-3 access): saves a separate read */
  precheck?: (state: S) => void;
}
/** `events`: the ones the command appended, typed as the aggregate's own (`E`), so a caller can narrow them. */
export interface CommandResult<S, E extends NewEvent = NewEvent> {
  streamId: string;
  version: number;
  state: S;
  events: StoredEvent<E>[];
}

export interface Engine {
  readonly clock: Clock;
  readonly kind: 'embedded' | 'temporal';
  execute<S, C extends { type: string }, E extends NewEvent>(
    agg: Aggregate<S, C, E>,
    key: string,
    command: NoInfer<C>,
    meta: CommandMeta<S>,
  ): Promise<CommandResult<S, E>>;
  /** Called after a command's events are committed, before its caller is answered (crash tests hook
   * a failpoint here: engine/failpoints.ts). */
  onCommitted?: (command: { type: string }, events: StoredEvent[]) => void;
  read<S>(
    agg: Aggregate<S, { type: string }, NewEvent>,
    key: string,
  ): Promise<{ version: number; state: S }>;
}
