// Event store on PostgreSQL through `pg` (not Prisma: the append path is one round trip, see
// recipes/throughput.md). Streams hold the folded state and the head of the hash chain.
import type { Pool, PoolClient } from 'pg';
import { eventHash, GENESIS_HASH } from './hash';
import type { OpenTask } from '../../workflows/tasks';

/** `lag`: events after the stored state, folded in when loading (the row's state is a snapshot, see appendDecided). */
export interface LoadedStream<S> {
  version: number;
  state: S;
  headHash: string;
  exists: boolean;
  lag: number;
}
/** What folding needs of an aggregate: its initial state and how one of its events changes it. */
export interface Fold<S, E extends NewEvent = NewEvent> {
  initialState: S;
  evolve(state: S, event: E): S;
}

/** An event as a decider returns it; an aggregate's own events are a union of these, one per `type`. */
export interface NewEvent {
  type: string;
  data: unknown;
}
export interface EventMeta {
  actor: string;
  role: string;
  command: string;
  reason: string | null;
  at: string;
}
/** An event as appended: the aggregate's event `E` with its metadata, version and place in the hash chain.
 * The intersection distributes over a union `E`, so `switch (e.type)` narrows `e.data` to that event's
 * data. `StoredEvent` alone (E = NewEvent) is what a caller needing only version, type and hash takes;
 * every `StoredEvent<E>` is assignable to it. */
export type StoredEvent<E extends NewEvent = NewEvent> = E &
  EventMeta & {
    version: number;
    prevHash: string;
    hash: string;
  };

export interface ReadModelViews {
  program?: Record<string, unknown>;
  subprojects?: Record<string, unknown>[];
  /** status, stage and contractor of one subproject, owned by the subproject's own stream */
  subproject_state?: {
    program_code: string;
    seq: number;
    status: string;
    stage: string;
    contractor_org: string | null;
  };
  ledger_entries?: {
    program_code: string;
    seq: number | null;
    version: number;
    kind: string;
    source: string;
    amount_fen: number;
    tranche: string | null;
    idempotency_key: string | null;
    org: string | null;
    at: string;
  }[];
  notices?: {
    program_code: string;
    seq: number | null;
    kind: string;
    title: string;
    body: string;
    org: string | null;
    version: number;
    at: string;
  }[];
  waybills?: { program_code: string; claim_id: string; numbers: string[] };
  /** the stream's open tasks, all of them (table `task`: rows not listed are deleted) */
  tasks?: OpenTask[];
}
export interface OutboxItem {
  kind: string;
  payload: unknown;
}

export class VersionConflict extends Error {
  constructor(
    readonly streamId: string,
    readonly expected: number,
  ) {
    super(`stream ${streamId} moved past version ${expected}`);
  }
}

type Queryable = Pool | PoolClient;

/** The row as the aggregate's own: its state is an `S` and its tail `E`s, trusted (as pg's `query<T>`
 * trusts any row type) because the stream's type names the one aggregate that wrote both. */
interface StreamRow<S, E extends NewEvent> {
  id: string;
  version: number;
  state: S;
  head_hash: string;
  state_lag: number;
  tail: E[] | null;
}
// the stored state, and the events after it when it is a snapshot behind the stream's version
const STREAM_SELECT = `SELECT s.id, s.version, s.state, s.head_hash, s.state_lag,
    CASE WHEN s.state_lag > 0 THEN (SELECT json_agg(json_build_object('type', e.type, 'data', e.data) ORDER BY e.version)
                                      FROM event e WHERE e.stream_id = s.id AND e.version > s.version - s.state_lag) END AS tail
  FROM stream s`;

function folded<S, E extends NewEvent>(r: StreamRow<S, E>, agg: Fold<S, E>): S {
  const tail = r.tail ?? [];
  if (tail.length !== r.state_lag)
    throw new Error(
      `stream ${r.id}: ${r.state_lag} events expected after the stored state, found ${tail.length}`,
    );
  return tail.reduce((state, e) => agg.evolve(state, e), r.state);
}

export async function loadStream<S, E extends NewEvent>(
  db: Queryable,
  streamId: string,
  agg: Fold<S, E>,
): Promise<LoadedStream<S>> {
  const { rows } = await db.query<StreamRow<S, E>>({
    name: 'shifan_load_stream',
    text: `${STREAM_SELECT} WHERE s.id = $1`,
    values: [streamId],
  });
  if (!rows.length)
    return { version: 0, state: agg.initialState, headHash: GENESIS_HASH, exists: false, lag: 0 };
  const r = rows[0];
  return {
    version: r.version,
    state: folded(r, agg),
    headHash: r.head_hash,
    exists: true,
    lag: r.state_lag,
  };
}

/** The current state of every stream of a type; with `dueBy`, only of those whose earliest open deadline
 * (`next_due`, NULL where not yet computed) is by then. */
export async function loadStates<S, E extends NewEvent>(
  db: Queryable,
  type: string,
  agg: Fold<S, E>,
  dueBy?: Date,
): Promise<{ id: string; version: number; state: S }[]> {
  const { rows } = dueBy
    ? await db.query<StreamRow<S, E>>(
        `${STREAM_SELECT} WHERE s.type = $1 AND (s.next_due <= $2 OR s.next_due IS NULL) ORDER BY s.id`,
        [type, dueBy],
      )
    : await db.query<StreamRow<S, E>>(`${STREAM_SELECT} WHERE s.type = $1 ORDER BY s.id`, [type]);
  return rows.map((r) => ({ id: r.id, version: r.version, state: folded(r, agg) }));
}

/** Chains new events onto `headHash`, starting at version `expected + 1`. */
export function chainEvents<E extends NewEvent>(
  streamId: string,
  expected: number,
  headHash: string,
  events: E[],
  meta: EventMeta,
): StoredEvent<E>[] {
  let prev = headHash;
  return events.map((e, i) => {
    // exactly what jsonb will give back; still the event's data, which a decider builds of JSON values only
    const data = JSON.parse(JSON.stringify(e.data ?? null)) as E['data'];
    const version = expected + i + 1;
    const hash = eventHash({
      stream: streamId,
      version,
      type: e.type,
      data,
      ...meta,
      prevHash: prev,
    });
    // `{ type, data }` of one `E` is that `E`; TS cannot relate the two halves of a generic union itself
    const stored = { type: e.type, data, ...meta, version, prevHash: prev, hash } as StoredEvent<E>;
    prev = hash;
    return stored;
  });
}

export interface AppendInput {
  streamId: string;
  streamType: string;
  expected: number;
  /** the folded state to store, or null to keep the stored snapshot (the row's lag grows by the events) */
  state: unknown;
  events: StoredEvent[];
  wakeAt: string | null;
  /** the earliest open deadline ('infinity': none; null: the aggregate has none to tell) */
  nextDue: string | null;
  views: ReadModelViews;
  outbox: OutboxItem[];
  now: string;
}

/** The parameters of shifan_append, in its order. */
function appendParams(a: AppendInput): unknown[] {
  const head = a.events.length ? a.events[a.events.length - 1].hash : undefined;
  const events = a.events.map((e) => ({
    version: e.version,
    type: e.type,
    data: e.data,
    actor: e.actor,
    role: e.role,
    command: e.command,
    reason: e.reason,
    at: e.at,
    prev_hash: e.prevHash,
    hash: e.hash,
  }));
  const outbox = a.outbox.map((o) => ({ ...o, version: a.expected + a.events.length }));
  return [
    a.streamId,
    a.streamType,
    a.expected,
    a.state === null ? null : JSON.stringify(a.state),
    head,
    a.wakeAt,
    JSON.stringify(events),
    JSON.stringify(a.views),
    JSON.stringify(outbox),
    a.now,
    a.nextDue,
  ];
}

/** shifan_append's parameters as one JSON array, the JSON ones embedded as they are (not as strings). */
function batchItem(a: AppendInput): string {
  const [id, type, expected, state, head, wake, events, views, outbox, now, nextDue] = appendParams(
    a,
  ) as [
    string,
    string,
    number,
    string | null,
    string | undefined,
    string | null,
    string,
    string,
    string,
    string,
    string | null,
  ];
  return `[${JSON.stringify(id)},${JSON.stringify(type)},${expected},${state},${JSON.stringify(head ?? null)},${JSON.stringify(wake)},${events},${views},${outbox},${JSON.stringify(now)},${JSON.stringify(nextDue)}]`;
}

/** A failed append as the caller sees it: the stream moved on (also a duplicate (stream, version) event, a
 * deadlock or serialization failure: deciding again on fresh state is the answer to each), or the error. */
export function appendError(e: unknown, a: AppendInput): unknown {
  const err = e as { code?: string; constraint?: string };
  if (
    err.code === 'SF409' ||
    err.code === '40P01' ||
    err.code === '40001' ||
    (err.code === '23505' && err.constraint === 'event_stream_id_version_key')
  ) {
    return new VersionConflict(a.streamId, a.expected);
  }
  return e;
}

/** One statement: version check, events, state, read models, outbox (all or nothing). */
export async function appendToStream(db: Queryable, a: AppendInput): Promise<number> {
  try {
    // named: prepared once per connection, so PostgreSQL does not parse and plan it for every command
    const { rows } = await db.query<{ v: number }>({
      name: 'shifan_append',
      text: 'SELECT shifan_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) AS v',
      values: appendParams(a),
    });
    return rows[0].v;
  } catch (e) {
    throw appendError(e, a);
  }
}

/** An item of shifan_append_batch that failed: the same fields as the error a single append would raise. */
export class AppendItemError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly constraint: string | undefined,
  ) {
    super(message);
  }
}

/**
 * Group commit: appends waiting at the same moment go to PostgreSQL together, as one statement and one
 * transaction (`shifan_append_batch`), each item in its own subtransaction, so one item's refusal (a
 * version conflict, a waybill claimed twice) rolls back that item alone and the others commit. Every
 * caller is answered only after the commit, so nothing is acknowledged that a crash could lose.
 *
 * Appends flow straight through while fewer than `maxInFlight` statements are running (an idle server
 * adds no latency); under load the waiting ones gather into the next statement, up to `maxBatch`. The
 * commit, the statement's parse and planning, and the round trip are then paid once for the batch.
 */
export class AppendBatcher {
  private readonly queue: {
    a: AppendInput;
    resolve: (v: number) => void;
    reject: (e: unknown) => void;
  }[] = [];
  private inFlight = 0;
  readonly stats = { statements: 0, appends: 0, largest: 0, fallbacks: 0 };
  constructor(
    private readonly db: Pool,
    readonly maxBatch = 32,
    readonly maxInFlight = 2,
  ) {}

  append(a: AppendInput): Promise<number> {
    return new Promise((resolve, reject) => {
      this.queue.push({ a, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length) {
      const items = this.queue.splice(0, this.maxBatch);
      this.inFlight++;
      this.stats.statements++;
      this.stats.appends += items.length;
      this.stats.largest = Math.max(this.stats.largest, items.length);
      void this.flush(items).finally(() => {
        this.inFlight--;
        this.kick();
      });
    }
  }

  private async flush(items: AppendBatcher['queue']): Promise<void> {
    const alone = (it: AppendBatcher['queue'][number]) =>
      appendToStream(this.db, it.a).then(it.resolve, it.reject);
    if (items.length === 1) {
      await alone(items[0]);
      return;
    }
    let results: ({ v: number } | { code: string; message: string; constraint?: string })[];
    try {
      const { rows } = await this.db.query<{ r: typeof results }>({
        name: 'shifan_append_batch',
        text: 'SELECT shifan_append_batch($1::jsonb) AS r',
        values: [`[${items.map((it) => batchItem(it.a)).join(',')}]`],
      });
      results = rows[0].r;
    } catch {
      // The statement failed as a whole (nothing committed): one item's data may be what PostgreSQL refused
      // outright, so each item goes again on its own, and only that item's caller hears of it.
      this.stats.fallbacks++;
      await Promise.all(items.map(alone));
      return;
    }
    items.forEach((it, i) => {
      const r = results[i];
      if ('v' in r) it.resolve(r.v);
      else
        it.reject(
          appendError(new AppendItemError(r.message, r.code, r.constraint ?? undefined), it.a),
        );
    });
  }
}
