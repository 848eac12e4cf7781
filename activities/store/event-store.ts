// Event store on PostgreSQL through `pg` (not Prisma: the append path is one round trip, see
// recipes/throughput.md). Streams hold the folded state and the head of the hash chain.
import type { Pool, PoolClient } from 'pg';
import { eventHash, GENESIS_HASH } from './hash';

export interface LoadedStream<S> { version: number; state: S; headHash: string; exists: boolean }

export interface NewEvent { type: string; data: unknown }
export interface EventMeta { actor: string; role: string; command: string; reason: string | null; at: string }
export interface StoredEvent extends NewEvent, EventMeta { version: number; prevHash: string; hash: string }

export interface ReadModelViews {
  program?: Record<string, unknown>;
  subprojects?: Record<string, unknown>[];
  /** status, stage and contractor of one subproject, owned by the subproject's own stream */
  subproject_state?: { program_code: string; seq: number; status: string; stage: string; contractor_org: string | null };
  ledger_entries?: { program_code: string; seq: number | null; version: number; kind: string; source: string; amount_fen: number; tranche: string | null; idempotency_key: string | null; org: string | null; at: string }[];
  notices?: { program_code: string; seq: number | null; kind: string; title: string; body: string; org: string | null; version: number; at: string }[];
  waybills?: { program_code: string; claim_id: string; numbers: string[] };
}
export interface OutboxItem { kind: string; payload: unknown }

export class VersionConflict extends Error {
  constructor(readonly streamId: string, readonly expected: number) { super(`stream ${streamId} moved past version ${expected}`); }
}

type Queryable = Pool | PoolClient;

export async function loadStream<S>(db: Queryable, streamId: string, initial: S): Promise<LoadedStream<S>> {
  const { rows } = await db.query<{ version: number; state: S; head_hash: string }>(
    'SELECT version, state, head_hash FROM stream WHERE id = $1', [streamId]);
  if (!rows.length) return { version: 0, state: initial, headHash: GENESIS_HASH, exists: false };
  return { version: rows[0].version, state: rows[0].state, headHash: rows[0].head_hash, exists: true };
}

/** Chains new events onto `headHash`, starting at version `expected + 1`. */
export function chainEvents(streamId: string, expected: number, headHash: string, events: NewEvent[], meta: EventMeta): StoredEvent[] {
  let prev = headHash;
  return events.map((e, i) => {
    const data = JSON.parse(JSON.stringify(e.data ?? null)); // exactly what jsonb will give back
    const version = expected + i + 1;
    const hash = eventHash({ stream: streamId, version, type: e.type, data, ...meta, prevHash: prev });
    const stored: StoredEvent = { type: e.type, data, ...meta, version, prevHash: prev, hash };
    prev = hash;
    return stored;
  });
}

export interface AppendInput {
  streamId: string;
  streamType: string;
  expected: number;
  state: unknown;
  events: StoredEvent[];
  wakeAt: string | null;
  views: ReadModelViews;
  outbox: OutboxItem[];
  now: string;
}

/** One statement: version check, events, state, read models, outbox (all or nothing). */
export async function appendToStream(db: Queryable, a: AppendInput): Promise<number> {
  const head = a.events.length ? a.events[a.events.length - 1].hash : undefined;
  const events = a.events.map((e) => ({
    version: e.version, type: e.type, data: e.data, actor: e.actor, role: e.role, command: e.command,
    reason: e.reason, at: e.at, prev_hash: e.prevHash, hash: e.hash,
  }));
  const outbox = a.outbox.map((o) => ({ ...o, version: a.expected + a.events.length }));
  try {
    const { rows } = await db.query<{ v: number }>(
      'SELECT shifan_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) AS v',
      [a.streamId, a.streamType, a.expected, JSON.stringify(a.state), head, a.wakeAt, JSON.stringify(events),
        JSON.stringify(a.views), JSON.stringify(outbox), a.now]);
    return rows[0].v;
  } catch (e) {
    const err = e as { code?: string; constraint?: string };
    // SF409: the stream moved on; a duplicate (stream, version) event means the same thing
    if (err.code === 'SF409' || (err.code === '23505' && err.constraint === 'event_stream_id_version_key')) throw new VersionConflict(a.streamId, a.expected);
    throw e;
  }
}
