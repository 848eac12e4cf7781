// One idempotency mechanism for every money-moving or record-creating command (issue 12.3): releases,
// recoveries, parcel payments, parcel claims, findings, tender and acceptance objections.
//
// A keyed command's row in `idempotency_key` (the actor, the key, the hash of the request) goes into the
// same statement as the command's events: shifan_append writes it from the `idempotency` view, on both
// engines (the Temporal persistence activity appends through the same function). So a command and its
// key commit together or not at all: after a crash between the commit and the answer the retry finds
// the row and replays; a refused command leaves no row, and the key may be used again. The answer as
// first sent is added to the row right after the commit; if a crash lost it, the replay rebuilds it
// from the events the row names (the same version and events appended, the view as it is now).
//
// The same key with the same request answers the first answer again (200, `Idempotent-Replayed: true`,
// api/http.ts); with another request (another command, target or body) 422 IDEMPOTENCY-MISMATCH.
// Keys belong to the user who sent them: another user's key is another key.
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { ReadModelViews } from '../activities/store/event-store';
import { KeyedLock } from '../engine/embedded/keyed-lock';
import { rule } from '../workflows/errors';
import type { Actor } from '../workflows/program/types';
import type { AppContext } from './context';
import { CommandOutcome, markReplayed, type Appended } from './result';

/** What the first request left: where its events are, and its answer unless a crash lost it. */
export interface KeyedCommand {
  command: string;
  streamId: string;
  firstVersion: number;
  lastVersion: number;
  status: number;
  answer: unknown;
}

export interface Idempotent<R> {
  /** the use case's name (part of the request: a key used for another command is a mismatch) */
  command: string;
  /** what makes the request what it is: its target and its input as parsed */
  request: unknown;
  /** runs the command, adding `views` to its append (the row of the key) */
  run: (views: ReadModelViews | undefined) => Promise<R>;
  /** the answer as stored (JSON) and as given back from what was stored */
  store: (answer: R) => unknown;
  replay: (stored: unknown, first: KeyedCommand) => R;
  /** the answer when none was stored (a crash between the commit and storing it) */
  rebuild: (first: KeyedCommand) => Promise<R>;
  /** the command's own success status (201 for every creating command today) */
  status?: number;
}

/** Requests with one key are handled one at a time in this process; across processes the primary key
 * refuses the second append and its caller replays the first. */
const locks = new KeyedLock();

export const requestHash = (x: unknown) =>
  createHash('sha256')
    .update(canonicalize(x) ?? '')
    .digest('hex');

const mismatch = (key: string) =>
  rule(
    'IDEMPOTENCY-MISMATCH',
    `Idempotency-Key ${key} 已用于另一个不同的请求（不同的操作、对象或内容），本次请求未执行`,
    'this Idempotency-Key was used for a different request (another command, target or body); nothing was done',
  );

async function firstOf(
  ctx: AppContext,
  actor: Actor,
  key: string,
): Promise<(KeyedCommand & { requestHash: string }) | null> {
  const { rows } = await ctx.pool.query<{
    request_hash: string;
    command: string;
    stream_id: string;
    first_version: number;
    last_version: number;
    status: number;
    answer: unknown;
  }>(
    `SELECT request_hash, command, stream_id, first_version, last_version, status, answer
       FROM idempotency_key WHERE actor = $1 AND key = $2`,
    [actor.username, key],
  );
  const r = rows[0];
  return r
    ? {
        requestHash: r.request_hash,
        command: r.command,
        streamId: r.stream_id,
        firstVersion: r.first_version,
        lastVersion: r.last_version,
        status: r.status,
        answer: r.answer,
      }
    : null;
}

const keyTaken = (e: unknown) => {
  const err = e as { code?: string; constraint?: string } | null;
  return err?.code === '23505' && err.constraint === 'idempotency_key_pkey';
};

/**
 * Runs `c` once per (actor, key). Without a key (optional on the commands that create records) the
 * command runs as it always did.
 */
export async function idempotent<R extends object>(
  ctx: AppContext,
  actor: Actor,
  key: string | undefined,
  c: Idempotent<R>,
): Promise<R> {
  if (key === undefined) return c.run(undefined);
  const hash = requestHash({ command: c.command, request: c.request });
  const replay = async (first: KeyedCommand & { requestHash: string }) => {
    if (first.requestHash !== hash) throw mismatch(key);
    return markReplayed(
      first.answer === null || first.answer === undefined
        ? await c.rebuild(first)
        : c.replay(first.answer, first),
    );
  };
  return locks.run(`${actor.username}\n${key}`, async () => {
    const before = await firstOf(ctx, actor, key);
    if (before) return replay(before);
    let answer: R;
    try {
      // one more view, read only by shifan_append (migration 20261203030000), so not in ReadModelViews
      const views: ReadModelViews = Object.assign<ReadModelViews, object>(
        {},
        {
          idempotency: {
            actor: actor.username,
            key,
            request_hash: hash,
            command: c.command,
            status: c.status ?? 201,
          },
        },
      );
      answer = await c.run(views);
    } catch (e) {
      if (keyTaken(e)) {
        const first = await firstOf(ctx, actor, key); // another process committed it first
        if (first) return replay(first);
      }
      throw e;
    }
    try {
      await ctx.pool.query(
        'UPDATE idempotency_key SET answer = $3 WHERE actor = $1 AND key = $2 AND answer IS NULL',
        [actor.username, key, JSON.stringify(await Promise.resolve(c.store(answer)))],
      );
    } catch (e) {
      // the command stands; a replay rebuilds the answer from its events
      ctx.log.warn({ err: e, key }, 'idempotency: the answer could not be stored');
    }
    return answer;
  });
}

/** The events a first request appended, as its answer named them. */
export async function appendedBy(ctx: AppContext, first: KeyedCommand): Promise<Appended[]> {
  const { rows } = await ctx.pool.query<Appended>(
    `SELECT version, type, hash FROM event
      WHERE stream_id = $1 AND version BETWEEN $2 AND $3 ORDER BY version`,
    [first.streamId, first.firstVersion, first.lastVersion],
  );
  return rows;
}

/**
 * For use cases answering a CommandOutcome: stored as the view the client got (with the version and the
 * events appended); rebuilt as the first request's version and events with the view as it is now.
 */
export function outcomeAnswers<V extends object>(
  ctx: AppContext,
  currentView: () => Promise<V>,
): Pick<Idempotent<CommandOutcome<V>>, 'replay' | 'rebuild'> & {
  store: (o: CommandOutcome<V>) => Promise<unknown>;
} {
  return {
    store: async (o) => ({ version: o.version, appended: o.appended, view: await o.state() }),
    replay: (stored) => {
      const s = stored as { version: number; appended: Appended[]; view: V };
      return new CommandOutcome(s.version, s.appended, () => s.view);
    },
    rebuild: async (first) => {
      const view = await currentView();
      return new CommandOutcome(first.lastVersion, await appendedBy(ctx, first), () => view);
    },
  };
}
