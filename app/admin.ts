// The office's own acts outside any program's process: adding a user, correcting an issued notice,
// retrying a dead-lettered mail. Each goes into the hash-chained audit record (R-PUB-3) like every
// command: a pure decider (workflows/office/) on its own stream (user-<username>, notice-<id>,
// mail-<id>), and ONE PostgreSQL transaction holding both the change and its event:
//
//   BEGIN; load the act's stream; read the facts (row locks where a concurrent act could race);
//   decide; write the change (app_user / official_notice / mail_message); append the event; COMMIT
//
// so a crash leaves both or neither, and a refusal (a DomainError) leaves nothing. A concurrent act on
// the same stream makes the append's version check fail: the whole act is decided again on fresh state.
//
// These acts bypass the engine, and so Temporal even when TEMPORAL_ADDRESS is set: they are not
// workflows (no deadlines, nothing waits on them), and everything they touch (users, notices, mails,
// the audit chain) lives in PostgreSQL for both engines. Through Temporal the change and its event
// could not share a transaction (the persistence activity writes only events and read models).
import type { PoolClient } from 'pg';
import type { AppContext } from './context';
import { issueNumberedNoticeIn, noticeProgramOrNull } from '../activities/notify/dispatch';
import { renderNotice } from '../activities/render';
import { appendDecided } from '../activities/store/append';
import { loadStream, VersionConflict, type LoadedStream } from '../activities/store/event-store';
import {
  accountFacts,
  addUserCommand,
  changeAccount,
  hashPassword,
  insertUser,
  isRegistered,
  type AddedUser,
  type NewUser,
} from '../activities/users';
import {
  mailAggregate,
  noticeAggregate,
  userAggregate,
  type Aggregate,
} from '../activities/aggregates';
import { conflict, notFound, type DomainError } from '../workflows/errors';
import type { Actor, CommandContext } from '../workflows/program/types';

const MAX_ATTEMPTS = 8;

/** A row id from a client: anything but a positive safe integer (which BIGINT always holds) names no row. */
function rowId(id: number, missing: () => DomainError): number {
  if (!Number.isSafeInteger(id) || id < 1) throw missing();
  return id;
}
const noticeNotFound = () => notFound('通知不存在', 'notice not found');
const mailNotFound = () => notFound('邮件不存在', 'mail not found');

interface ActStep<S, C, E, R> {
  (
    c: PoolClient,
    at: {
      loaded: LoadedStream<S>;
      now: string;
      /** runs the decider on the loaded state (refusals throw); call it exactly once */
      decide(this: void, command: C): E[];
    },
  ): Promise<R>;
}

/** One office act in one transaction (see the top of this file). */
async function officeAct<
  S,
  C extends { type: string },
  E extends { type: string; data: unknown },
  R,
>(
  ctx: AppContext,
  actor: Actor,
  agg: Aggregate<S, C, E>,
  key: string,
  reason: string | null,
  step: ActStep<S, C, E, R>,
): Promise<R> {
  const streamId = agg.streamId(key);
  for (let attempt = 1; ; attempt++) {
    const now = ctx.engine.clock.now().toISOString();
    const cctx: CommandContext = { now, actor, reason: reason ?? undefined };
    const c = await ctx.pool.connect();
    let broken = false;
    try {
      await c.query('BEGIN');
      const loaded = await loadStream(c, streamId, agg);
      let decided: { command: C; events: E[] } | null = null;
      const result = await step(c, {
        loaded,
        now,
        decide: (command) => {
          if (decided) throw new Error(`${streamId}: an office act decides once`);
          const events = agg.decide(loaded.state, command, cctx);
          decided = { command, events };
          return events;
        },
      });
      const d = decided as { command: C; events: E[] } | null;
      if (!d) throw new Error(`${streamId}: the act made no decision`);
      if (d.events.length)
        await appendDecided(c, agg, {
          streamId,
          loaded,
          decided: d.events,
          now,
          meta: { actor: actor.username, role: actor.role, command: d.command.type, reason },
        });
      await c.query('COMMIT');
      return result;
    } catch (e) {
      await c.query('ROLLBACK').catch(() => {
        broken = true; // the connection is gone: do not hand it back to the pool
      });
      if (!(e instanceof VersionConflict)) throw e;
      if (attempt >= MAX_ATTEMPTS)
        throw conflict(
          'CONFLICT',
          '数据正被他人同时修改，请稍后重试',
          `stream ${streamId} kept changing under this act; retry`,
        );
    } finally {
      c.release(broken);
    }
    await new Promise((r) => setTimeout(r, Math.min(100, 2 ** attempt) * Math.random()));
  }
}

/**
 * `shifan user add` (and any later API for it): the account and its UserAdded event. Refusals as
 * before: USER-INVALID naming the field, CONFLICT (field username) when the username is taken.
 * Answers what the CLI prints. `reason` is optional (e.g. the command line that did it).
 */
export async function addUser(
  ctx: AppContext,
  actor: Actor,
  input: NewUser & { reason?: string | null },
): Promise<AddedUser> {
  return officeAct(
    ctx,
    actor,
    userAggregate,
    input.username,
    input.reason ?? null,
    async (c, { now, decide }) => {
      const [added] = decide(addUserCommand(input, await isRegistered(c, input.username)));
      if (added?.type !== 'UserAdded') throw new Error('AddUser decides UserAdded');
      // hashed only once the account is allowed (scrypt costs ≈ 50 ms); the event never holds it
      const passwordHash = await hashPassword(input.password);
      return insertUser(c, { ...added.data, passwordHash }, now);
    },
  );
}

/** The office's acts on an existing account (the users page and POST /api/users/:username/…). */
export type AccountAct =
  | { act: 'reset_password'; password: string }
  | { act: 'disable' }
  | { act: 'enable' }
  | { act: 'unlock' };

/**
 * Resets a password (every session of the account ends), disables or enables an account, or unlocks
 * it after failed log-ins: the change and its event on user-<username> in one transaction. Refusals:
 * NOT-FOUND for an unknown user, CONFLICT for an act that changes nothing (already disabled, not
 * locked) or the office disabling itself, USER-INVALID for a short password.
 */
export async function changeUser(
  ctx: AppContext,
  actor: Actor,
  username: string,
  input: AccountAct & { reason?: string | null },
): Promise<{ username: string; done: AccountAct['act'] }> {
  return officeAct(
    ctx,
    actor,
    userAggregate,
    username,
    input.reason ?? null,
    async (c, { now, decide }) => {
      const facts = await accountFacts(c, username, new Date(now));
      switch (input.act) {
        case 'reset_password':
          decide({
            type: 'ResetPassword',
            username,
            passwordLength: input.password.length,
            ...facts,
          });
          await changeAccount(c, username, { passwordHash: await hashPassword(input.password) });
          break;
        case 'disable':
          decide({ type: 'DisableUser', username, ...facts });
          await changeAccount(c, username, { disabled: true });
          break;
        case 'enable':
          decide({ type: 'EnableUser', username, ...facts });
          await changeAccount(c, username, { disabled: false });
          break;
        case 'unlock':
          decide({ type: 'UnlockUser', username, ...facts });
          await changeAccount(c, username, { unlock: true });
          break;
      }
      if (input.act === 'unlock' || input.act === 'reset_password')
        ctx.log.info({ username, act: input.act, by: actor.username }, 'account changed');
      return { username, done: input.act };
    },
  );
}

/**
 * POST /api/notices/:id/corrections: a new numbered notice citing the old one (which never changes),
 * and the NoticeCorrected event on notice-<id>, in one transaction: a failed render, a refusal or a
 * failed append leaves neither. 404 NOT-FOUND for an unknown id (also one no BIGINT can hold).
 */
export async function correctNotice(
  ctx: AppContext,
  actor: Actor,
  input: { id: number; text: string; reason?: string },
): Promise<{
  id: number;
  docNumber: string;
  title: string;
  corrects: number;
  by: string;
  reason: string | null;
}> {
  const id = rowId(input.id, noticeNotFound);
  return officeAct(
    ctx,
    actor,
    noticeAggregate,
    String(id),
    input.reason ?? null,
    async (c, { loaded, now, decide }) => {
      const {
        rows: [old],
      } = await c.query<{ program_code: string; doc_number: string; title: string }>(
        'SELECT program_code, doc_number, title FROM official_notice WHERE id = $1',
        [id],
      );
      if (!old) throw noticeNotFound();
      const program = await noticeProgramOrNull(c, old.program_code);
      if (!program) throw notFound('综合示范项目不存在', 'program not found');
      const title = `关于更正《${old.title}》（${old.doc_number}）的通知`;
      // the notice row names the event that issued it: stream notice-<id>, the event's version
      const issued = await issueNumberedNoticeIn(
        c,
        {
          programCode: old.program_code,
          county: program.county,
          at: now,
          kind: 'correction',
          streamId: noticeAggregate.streamId(String(id)),
          version: loaded.version + 1,
          correctsId: String(id),
        },
        (docNumber) =>
          Promise.resolve({
            title,
            pdf: null,
            ...renderNotice('correction', {
              title,
              docNumber,
              issuedAt: now,
              program,
              original: { title: old.title, docNumber: old.doc_number },
              text: input.text,
            }),
          }),
      );
      decide({
        type: 'CorrectNotice',
        noticeId: id,
        correctionId: Number(issued.id),
        docNumber: issued.docNumber,
        title,
        sha256: issued.sha256,
        text: input.text,
      });
      return {
        id: Number(issued.id),
        docNumber: issued.docNumber,
        title,
        corrects: id,
        by: actor.username,
        reason: input.reason ?? null,
      };
    },
  );
}

/**
 * POST /api/mail/:id/retry: a dead-lettered mail back to pending (attempts from 0, due now) and its
 * MailRetried event. 404 NOT-FOUND for an unknown id; 409 CONFLICT unless the mail is dead.
 */
export async function retryMail(
  ctx: AppContext,
  actor: Actor,
  input: { id: number; reason?: string | null },
): Promise<{ id: number; status: 'pending' }> {
  const id = rowId(input.id, mailNotFound);
  return officeAct(
    ctx,
    actor,
    mailAggregate,
    String(id),
    input.reason ?? null,
    async (c, { now, decide }) => {
      // locked: a second retry of the same mail waits here, then finds it pending and is refused
      const {
        rows: [m],
      } = await c.query<{ status: string; attempts: number; last_error: string | null }>(
        'SELECT status, attempts, last_error FROM mail_message WHERE id = $1 FOR UPDATE',
        [id],
      );
      if (!m) throw mailNotFound();
      decide({
        type: 'RetryMail',
        mailId: id,
        mail: { status: m.status, attempts: m.attempts, lastError: m.last_error },
      });
      await c.query(
        "UPDATE mail_message SET status = 'pending', attempts = 0, next_attempt_at = $2 WHERE id = $1",
        [id, now],
      );
      return { id, status: 'pending' as const };
    },
  );
}
