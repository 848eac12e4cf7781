// Event store on PostgreSQL through `pg` (not Prisma: the append path is one round trip, see
// recipes/throughput.md). Streams hold the folded state and the head of the hash chain.
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { Pool, PoolClient } from 'pg';
import { chainBreak, eventHash, GENESIS_HASH, type StoredLink } from './hash';
import { DomainError } from '../../workflows/errors';
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

/**
 * Where a stored snapshot keeps its binding: the version and hash of the last event it covers, and a
 * digest over (stream, version, hash, state). A load checks the digest and that the events after the
 * snapshot chain from that hash, so neither the snapshot nor the events folded onto it can be edited
 * in place unnoticed. Not part of the aggregate's state: stripped on every read.
 */
export const SNAPSHOT_KEY = '$snapshot';
export interface SnapshotBinding {
  version: number;
  hash: string;
  digest: string;
}
export function snapshotDigest(
  streamId: string,
  version: number,
  hash: string,
  state: unknown,
): string {
  return createHash('sha256')
    .update(canonicalize({ stream: streamId, version, hash, state }) ?? '')
    .digest('hex');
}
const isRecord = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x);
/** The state as the stream row stores it: with its binding to the last event it covers (version, hash). */
export function bindSnapshot(
  streamId: string,
  version: number,
  hash: string,
  state: unknown,
): unknown {
  if (!isRecord(state)) return state; // aggregate states are objects; anything else is stored unbound
  const binding: SnapshotBinding = {
    version,
    hash,
    digest: snapshotDigest(streamId, version, hash, state),
  };
  return { ...state, [SNAPSHOT_KEY]: binding };
}
/** A stored state split into the aggregate's state and its binding (null: written before bindings). */
export function splitSnapshot<S>(stored: S): { state: S; binding: SnapshotBinding | null } {
  if (!isRecord(stored) || !(SNAPSHOT_KEY in stored)) return { state: stored, binding: null };
  const { [SNAPSHOT_KEY]: binding, ...state } = stored;
  return { state: state as S, binding: binding as SnapshotBinding };
}

/**
 * A stream whose stored record fails its integrity check on loading (an event edited, deleted or out of
 * chain, the snapshot edited), or whose state disagrees with the money recorded for it (`ledger_entry`).
 * Commands on it are refused until someone repairs it: deciding on a state nobody can vouch for could
 * pay twice (issue 12.7). `version`/`eventId`: the first broken event, where one is known.
 */
export class StreamIntegrityError extends DomainError {
  constructor(
    readonly streamId: string,
    readonly version: number | null,
    readonly eventId: number | null,
    readonly problem: string,
    readonly problemEn: string,
  ) {
    const at =
      eventId !== null
        ? `事件 #${eventId}（第 ${version} 号）`
        : version !== null
          ? `第 ${version} 号事件`
          : '';
    const atEn =
      eventId !== null
        ? `event #${eventId} (version ${version})`
        : version !== null
          ? `version ${version}`
          : '';
    super(
      'STREAM-INTEGRITY',
      'conflict',
      `流 ${streamId} 未通过完整性校验${at ? `，第一个断点：${at}` : ''}：${problem}。在修复之前，对它的命令一律拒绝；请运行 shifan audit verify 并联系管理员`,
      `stream ${streamId} failed its integrity check${atEn ? `, first broken: ${atEn}` : ''}: ${problemEn}. Commands on it are refused until it is repaired; run \`shifan audit verify\``,
      {
        figures: {
          stream: streamId,
          ...(version !== null ? { version } : {}),
          ...(eventId !== null ? { eventId } : {}),
        },
      },
    );
    this.name = 'StreamIntegrityError';
  }
}

function folded<S, E extends NewEvent>(r: StreamRow<S, E>, agg: Fold<S, E>): S {
  const tail = r.tail ?? [];
  if (tail.length !== r.state_lag)
    throw new Error(
      `stream ${r.id}: ${r.state_lag} events expected after the stored state, found ${tail.length}`,
    );
  return tail.reduce((state, e) => agg.evolve(state, e), splitSnapshot(r.state).state);
}

interface VerifiedRow<S> {
  id: string;
  version: number;
  state: S;
  head_hash: string;
  state_lag: number;
  tail: StoredLink[] | null;
}
// The events after a bound snapshot (all of them for a snapshot written before bindings), with every
// hashed column; `at` exactly as it was hashed (ISO-8601, milliseconds, UTC).
const VERIFIED_SELECT = `SELECT s.id, s.version, s.state, s.head_hash, s.state_lag,
    (SELECT json_agg(json_build_object('id', e.id, 'version', e.version, 'type', e.type, 'data', e.data,
              'actor', e.actor, 'role', e.role, 'command', e.command, 'reason', e.reason,
              'at', to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
              'prev_hash', e.prev_hash, 'hash', e.hash) ORDER BY e.version)
       FROM event e WHERE e.stream_id = s.id
        AND e.version > CASE WHEN s.state ? '${SNAPSHOT_KEY}' THEN s.version - s.state_lag ELSE 0 END) AS tail
  FROM stream s WHERE s.id = $1`;

/** Folds the row's events onto its snapshot, checking each against the hash chain (see SNAPSHOT_KEY);
 * a snapshot without a binding (written before them) is checked by folding every event from the start. */
function verifiedFold<S, E extends NewEvent>(r: VerifiedRow<S>, agg: Fold<S, E>): S {
  const broken = (version: number | null, eventId: number | null, zh: string, en: string) =>
    new StreamIntegrityError(r.id, version, eventId, zh, en);
  const { state: snapshot, binding } = splitSnapshot(r.state);
  const snapshotAt = r.version - r.state_lag;
  let state: S;
  let prev: string;
  if (binding) {
    if (
      binding.version !== snapshotAt ||
      snapshotDigest(r.id, binding.version, binding.hash, snapshot) !== binding.digest
    )
      throw broken(
        snapshotAt,
        null,
        `第 ${snapshotAt} 号事件处的状态快照已被改动：与其绑定的哈希不符`,
        `the state snapshot at version ${snapshotAt} was altered: it does not match its binding`,
      );
    state = snapshot;
    prev = binding.hash;
  } else {
    state = agg.initialState;
    prev = GENESIS_HASH;
  }
  let expected = (binding ? snapshotAt : 0) + 1;
  for (const e of r.tail ?? []) {
    const b = chainBreak(r.id, expected, prev, e);
    if (b) throw broken(b.version, b.eventId, b.zh, b.en);
    // `{ type, data }` of one stored event of this stream is one `E` (the stream's type names its aggregate)
    state = agg.evolve(state, { type: e.type, data: e.data } as E);
    if (!binding && e.version === snapshotAt && canonicalize(state) !== canonicalize(snapshot))
      throw broken(
        snapshotAt,
        null,
        '由事件重放得到的状态与存储的状态快照不符',
        'the stored snapshot differs from the state folded from its events',
      );
    prev = e.hash;
    expected++;
  }
  if (expected - 1 !== r.version)
    throw broken(
      expected - 1 < r.version ? expected : r.version + 1,
      null,
      expected - 1 < r.version
        ? `流记录版本为 ${r.version}，但事件只到第 ${expected - 1} 号：有事件被删除`
        : `流记录版本为 ${r.version}，但有第 ${expected - 1} 号事件`,
      expected - 1 < r.version
        ? `stream is at version ${r.version} but events end at ${expected - 1}: events were deleted`
        : `stream is at version ${r.version} but holds events up to ${expected - 1}`,
    );
  if (prev !== r.head_hash)
    throw broken(
      r.version,
      null,
      '流记录的链头哈希与最后一个事件不符',
      'the stream head hash does not match its last event',
    );
  return state;
}

/**
 * Loads a stream for a command: its snapshot and the events after it, each checked against the hash
 * chain (throws StreamIntegrityError). `verify: false` (reads that decide nothing) skips the check.
 */
export async function loadStream<S, E extends NewEvent>(
  db: Queryable,
  streamId: string,
  agg: Fold<S, E>,
  opts: { verify?: boolean } = {},
): Promise<LoadedStream<S>> {
  if (opts.verify === false) {
    const { rows } = await db.query<StreamRow<S, E>>({
      name: 'shifan_load_stream',
      text: `${STREAM_SELECT} WHERE s.id = $1`,
      values: [streamId],
    });
    return loaded(rows[0], agg, folded);
  }
  const { rows } = await db.query<VerifiedRow<S>>({
    name: 'shifan_load_stream_verified',
    text: VERIFIED_SELECT,
    values: [streamId],
  });
  return loaded(rows[0], agg, verifiedFold);
}

/** A stream as loaded: a new one (no row) at version 0 in the initial state, or its row folded. */
function loaded<
  S,
  E extends NewEvent,
  R extends { version: number; head_hash: string; state_lag: number },
>(r: R | undefined, agg: Fold<S, E>, fold: (r: R, agg: Fold<S, E>) => S): LoadedStream<S> {
  if (!r)
    return { version: 0, state: agg.initialState, headHash: GENESIS_HASH, exists: false, lag: 0 };
  return {
    version: r.version,
    state: fold(r, agg),
    headHash: r.head_hash,
    exists: true,
    lag: r.state_lag,
  };
}

/** What `ledger_entry` records as paid out of one tranche of a stream (fen), for the release cross-check. */
export async function trancheLedgerPaid(
  db: Queryable,
  streamId: string,
  tranche: string,
): Promise<number> {
  const { rows } = await db.query<{ paid: string | null }>({
    name: 'shifan_tranche_ledger_paid',
    text: `SELECT sum(amount_fen)::text AS paid FROM ledger_entry WHERE stream_id = $1 AND kind = 'disbursement' AND tranche = $2`,
    values: [streamId, tranche],
  });
  return Number(rows[0]?.paid ?? 0);
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
