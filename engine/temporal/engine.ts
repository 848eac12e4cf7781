// The Temporal engine: a command is the Update `execute` on the aggregate's entity workflow (started on
// first use, id = stream id); the workflow decides, persists through the activity and answers. Reads
// come from the same PostgreSQL read models the activity writes, so the API behaves as on the embedded
// engine.
import { Client, WithStartWorkflowOperation, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Pool } from 'pg';
import type { Aggregate } from '../../activities/aggregates';
import {
  loadStream,
  StreamIntegrityError,
  type NewEvent,
  type StoredEvent,
} from '../../activities/store/event-store';
import { DomainError, type DomainErrorKind, type Violation } from '../../workflows/errors';
import type {
  CommandEnvelope,
  CommandOutcome,
  EntityInput,
  entityWorkflow,
} from '../../workflows/temporal/entity';
import { clearIntegrityAlarm, raiseIntegrityAlarm } from '../audit';
import type { Clock } from '../clock';
import type { Engine, CommandMeta, CommandResult } from '../engine';

export interface TemporalOptions {
  address: string;
  namespace: string;
  taskQueue: string;
  /** the program clock minus the cluster's (ms), given to every entity workflow; 0 unless a test shifts it */
  clockOffsetMs?: number;
}

export class TemporalEngine implements Engine {
  readonly kind = 'temporal' as const;
  constructor(
    readonly client: Client,
    readonly pool: Pool,
    readonly clock: Clock,
    private readonly taskQueue: string,
    private readonly clockOffsetMs = 0,
  ) {}
  onCommitted?: Engine['onCommitted'];

  async execute<S, C extends { type: string }, E extends NewEvent>(
    agg: Aggregate<S, C, E>,
    key: string,
    command: NoInfer<C>,
    meta: CommandMeta<S>,
  ): Promise<CommandResult<S, E>> {
    const streamId = agg.streamId(key);
    if (meta.precheck) {
      // checked against the hash chain like the embedded engine's loads (the workflow decides on its own
      // history; its persistence activity checks the stream again before appending)
      try {
        const s = await loadStream(this.pool, streamId, agg);
        clearIntegrityAlarm(streamId);
        meta.precheck(s.state);
      } catch (e) {
        if (e instanceof StreamIntegrityError) raiseIntegrityAlarm(e);
        throw e;
      }
    }
    const input: EntityInput = {
      streamType: agg.streamType,
      streamId,
      ...(this.clockOffsetMs ? { clockOffsetMs: this.clockOffsetMs } : {}),
    };
    const env: CommandEnvelope = {
      command,
      actor: meta.actor,
      reason: meta.reason ?? null,
      ...(meta.extraViews ? { extraViews: meta.extraViews } : {}),
    };
    let outcome: CommandOutcome;
    try {
      // by name: the client does not import the workflow code (its bundle runs in the worker)
      outcome = await this.client.workflow.executeUpdateWithStart<
        typeof entityWorkflow,
        CommandOutcome,
        [CommandEnvelope]
      >('execute', {
        args: [env],
        startWorkflowOperation: new WithStartWorkflowOperation<typeof entityWorkflow>(
          'entityWorkflow',
          {
            workflowId: streamId,
            taskQueue: this.taskQueue,
            args: [input],
            workflowIdConflictPolicy: 'USE_EXISTING',
          },
        ),
      });
    } catch (e) {
      throw toDomainError(e);
    }
    const loaded = await loadStream(this.pool, streamId, agg, { verify: false }); // just persisted, checked
    const { rows } = await this.pool.query<{
      version: number;
      type: string;
      data: unknown;
      hash: string;
      prev_hash: string;
      actor: string;
      role: string;
      command: string;
      reason: string | null;
      at: Date;
    }>(
      'SELECT version, type, data, hash, prev_hash, actor, role, command, reason, at FROM event WHERE stream_id = $1 AND version > $2 AND version <= $3 ORDER BY version',
      [streamId, outcome.version - outcome.events.length, outcome.version],
    );
    // the events the workflow just persisted on this aggregate's stream, so the aggregate's own (`E`): the
    // cast rejoins each row's type and data, which TS cannot relate by itself
    const events = rows.map(
      (r) =>
        ({
          version: r.version,
          type: r.type,
          data: r.data,
          hash: r.hash,
          prevHash: r.prev_hash,
          actor: r.actor,
          role: r.role,
          command: r.command,
          reason: r.reason,
          at: r.at.toISOString(),
        }) as StoredEvent<E>,
    );
    if (events.length) this.onCommitted?.(command, events);
    return { streamId, version: outcome.version, state: loaded.state, events };
  }

  async read<S>(agg: Aggregate<S, { type: string }, NewEvent>, key: string) {
    const s = await loadStream(this.pool, agg.streamId(key), agg, { verify: false }); // a read
    return { version: s.version, state: s.state };
  }
}

/** An update refused by the validator or the handler carries the decider's DomainError as an ApplicationFailure. */
export function toDomainError(e: unknown): unknown {
  const cause =
    e instanceof WorkflowUpdateFailedError ? e.cause : ((e as { cause?: unknown })?.cause ?? e);
  if (
    cause instanceof ApplicationFailure &&
    cause.type &&
    (cause.details?.[0] as { kind?: string } | undefined)?.kind
  ) {
    const d = cause.details![0] as {
      kind: DomainErrorKind;
      messageEn: string;
      violations: Violation[];
    };
    return new DomainError(cause.type, d.kind, cause.message, d.messageEn, {
      violations: d.violations,
    });
  }
  return e;
}
