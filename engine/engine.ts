// What the API, the CLI and the scheduler need from an engine; the embedded one (PostgreSQL) and the
// Temporal one implement it, so everything above behaves the same on both.
import type { Aggregate } from '../activities/aggregates';
import type { Clock } from './clock';
import type { CommandMeta, CommandResult } from './embedded/engine';

export interface Engine {
  readonly clock: Clock;
  readonly kind: 'embedded' | 'temporal';
  execute<S, C extends { type: string }, E extends { type: string; data: unknown }>(agg: Aggregate<S, C, E>, key: string, command: C, meta: CommandMeta): Promise<CommandResult<S>>;
  read<S>(agg: Aggregate<S, { type: string }, { type: string; data: unknown }>, key: string): Promise<{ version: number; state: S }>;
}
export type { CommandMeta, CommandResult };
