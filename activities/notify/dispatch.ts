// The outbox dispatcher: issues the official notices (文号 per issuing office — its 机关代字 — and year,
// HTML + PDF, SHA-256, immutable) and queues one mail per (event, template, recipient); then sends
// pending mails with retries and exponential backoff, dead-lettering them after MAX_ATTEMPTS for the
// office to retry. An outbox row that fails permanently (a constraint violation, a payload it cannot
// read) or transiently MAX_OUTBOX_ATTEMPTS times is dead-lettered too, with its error (issue 12.5): one
// bad row never stalls the others. Rows are leased (next_attempt_at moves forward) so a crashed
// dispatcher's work comes back, and every write is keyed so that doing it twice changes nothing.
import { createHash } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { renderMail, renderNotice, htmlToText, MAIL_TEMPLATES, NOTICE_TEMPLATES } from '../render';
import { defaultDocPrefix, docNumberOf } from '../../workflows/notices';
import { programDef } from '../../workflows/aggregates';
import { shanghaiDay } from '../../workflows/time';
import type { Mailer } from './mailer';
import { Poller } from '../poller';
import { renderPdf, type CjkFont } from './pdf';
import type { MailSpec, NotifyPayload } from './effects';
import { beijingText, monthOf, openDeadlines, overdueByParty, upcoming } from './reminders';

export const MAX_ATTEMPTS = 6;
/** an outbox row failing transiently this many times is dead-lettered (≈ 2 h of backoff in all) */
export const MAX_OUTBOX_ATTEMPTS = 12;
const LEASE_MS = 60_000;
export const REPORT_PHONE = '12312（商务部举报电话）';
/** R-PUB-1: the marker's reporting phones: the program's, as its budget table publishes them
 * (`disclosure.phones`), else the national number. */
export const reportPhoneOf = (phones?: readonly string[] | null): string =>
  phones?.length ? phones.join('，') : REPORT_PHONE;
const backoffMs = (attempt: number) => Math.min(3600_000, 2000 * 2 ** (attempt - 1)); // 2 s, 4 s, 8 s, … ≤ 1 h
/** nodemailer's `responseCode`: 5xx is a permanent refusal (RFC 5321 §4.2.1) */
const smtpPermanent = (e: unknown) => {
  const code = (e as { responseCode?: unknown } | null)?.responseCode;
  return typeof code === 'number' && code >= 500 && code < 600;
};
/** What the dead-letter list shows: the PostgreSQL code and constraint when there are, kept short. */
const errorText = (e: unknown, permanent: boolean) => {
  const x = e as { message?: unknown; code?: unknown; constraint?: unknown; detail?: unknown };
  const parts = [
    permanent ? 'permanent' : 'transient',
    typeof x.code === 'string' ? x.code : null,
    typeof x.constraint === 'string' ? x.constraint : null,
  ].filter(Boolean);
  const detail = typeof x.detail === 'string' ? ` (${x.detail})` : '';
  return `[${parts.join(' ')}] ${String(x.message ?? e)}${detail}`.slice(0, 1000);
};
/** A template that cannot render this payload (a field it needs is missing) will not on a retry either. */
function rendered<T>(template: string, render: () => T): T {
  try {
    return render();
  } catch (e) {
    throw new PermanentError(`template ${template}: ${(e as Error).message}`);
  }
}
const sha256 = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');

/** What a notice prints of its program: name, county, and the reporting phones of its disclosure data
 * (the ProgramCreated event's definition), or the national 12312. Null: no such program. */
export async function noticeProgramOrNull(db: Pool | PoolClient, code: string) {
  const { rows } = await db.query<{ name: string; county: string; phones: string[] | null }>(
    `SELECT p.name, p.county, e.data #> '{definition,disclosure,phones}' AS phones
       FROM program p LEFT JOIN event e ON e.stream_id = $2 AND e.version = 1
      WHERE p.code = $1`,
    [code, programDef.streamId(code)],
  );
  if (!rows.length) return null;
  const phones = Array.isArray(rows[0].phones) ? rows[0].phones : null;
  return { name: rows[0].name, county: rows[0].county, reportPhone: reportPhoneOf(phones) };
}
async function noticeProgram(db: Pool | PoolClient, code: string) {
  const p = await noticeProgramOrNull(db, code);
  if (!p) throw new PermanentError(`program ${code} not found`);
  return p;
}

export interface NotifierDeps {
  pool: Pool;
  mailer: Mailer;
  now: () => Date;
  font: CjkFont | null;
  from: string;
  /** where users reach the server, for links in mails */
  publicUrl?: string;
  /** send a reminder this many days before a deadline (0: no reminders) */
  reminderDays?: number;
  log?: { warn(o: object | string, m?: string): void; error(o: object, m?: string): void };
}
export interface DispatchRun {
  outbox: number;
  notices: number;
  mailsQueued: number;
  reminders: number;
  digests: number;
  sent: number;
  failed: number;
  dead: number;
}

export { docNumberOf };

/** A failure that doing the same again cannot cure: the row is dead-lettered at once. */
export class PermanentError extends Error {
  override readonly name = 'PermanentError';
}

/**
 * Whether retrying can help. Permanent: our own PermanentError (a payload that cannot be read), code
 * errors on the payload (TypeError, RangeError, SyntaxError), and PostgreSQL's data exceptions (class
 * 22), integrity violations (23: a duplicate 文号, …), syntax or access errors (42) and the schema's
 * refusals (SF…: an immutable row). Everything else — serialization failures and deadlocks (40), lost
 * connections (08, ECONNRESET …), lock or statement timeouts (55, 57), a full disk (53) — is transient
 * and retried with backoff, at most MAX_OUTBOX_ATTEMPTS times.
 */
export function isPermanent(e: unknown): boolean {
  if (e instanceof PermanentError) return true;
  if (e instanceof TypeError || e instanceof RangeError || e instanceof SyntaxError) return true;
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|23|42|SF)[0-9A-Z]{3}$/.test(code);
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Refuses (PermanentError, naming the field) an outbox payload the dispatcher could not process. */
export function checkPayload(p: unknown): asserts p is NotifyPayload {
  const bad = (field: string, what: string) => {
    throw new PermanentError(`bad outbox payload: ${field} ${what}`);
  };
  if (!isObject(p)) return bad('payload', 'is not an object');
  if (typeof p.programCode !== 'string' || !p.programCode) bad('programCode', 'is missing');
  if (!Number.isInteger(p.version)) bad('version', 'is not an integer');
  if (typeof p.at !== 'string' || Number.isNaN(Date.parse(p.at))) bad('at', 'is not a time');
  if (!Array.isArray(p.notices)) return bad('notices', 'is not a list');
  if (!Array.isArray(p.mails)) return bad('mails', 'is not a list');
  p.notices.forEach((n: unknown, i) => {
    if (!isObject(n)) return bad(`notices[${i}]`, 'is not an object');
    if (typeof n.kind !== 'string' || !NOTICE_TEMPLATES.includes(n.kind))
      bad(`notices[${i}].kind`, `has no template (${String(n.kind)})`);
    if (typeof n.title !== 'string') bad(`notices[${i}].title`, 'is not a string');
    if (!isObject(n.data)) bad(`notices[${i}].data`, 'is not an object');
  });
  p.mails.forEach((m: unknown, i) => {
    if (!isObject(m)) return bad(`mails[${i}]`, 'is not an object');
    if (typeof m.template !== 'string' || !MAIL_TEMPLATES.includes(m.template))
      bad(`mails[${i}].template`, `has no template (${String(m.template)})`);
    if (typeof m.subject !== 'string') bad(`mails[${i}].subject`, 'is not a string');
    if (!isObject(m.to)) bad(`mails[${i}].to`, 'is not an object');
    if (!isObject(m.data)) bad(`mails[${i}].data`, 'is not an object');
  });
}

export interface IssuedNotice {
  id: string;
  docNumber: string;
  title: string;
  bodyText: string;
  /** SHA-256 of the stored HTML */
  sha256: string;
}

export interface NoticeToIssue {
  programCode: string;
  /** for the default 机关代字 when neither `docPrefix` nor the program's table names one */
  county: string;
  /** the 机关代字; without it, the program's (its ProgramCreated event), else the county's default */
  docPrefix?: string;
  at: string;
  kind: string;
  streamId: string;
  version?: number;
  correctsId?: string | null;
}
export type BuildNotice = (
  docNumber: string,
) => Promise<{ title: string; html: string; bodyText: string; pdf: Buffer | null }>;

/**
 * Allocates the next 文号 of the issuing office (its 机关代字) for the Beijing year of `at` and stores
 * the notice, in one transaction under an advisory lock per 机关代字 and year: programs of different
 * offices never wait for each other, and programs sharing one (the same county, or two counties whose
 * default is the same, 试验县 and 试点县 → 试商务) take turns for distinct serials. With `version`, a notice
 * already issued for (stream, version, kind) is returned instead (idempotent); without it, the serial
 * is the version.
 */
export async function issueNumberedNotice(
  pool: Pool,
  n: NoticeToIssue,
  build: BuildNotice,
): Promise<IssuedNotice> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    const issued = await issueNumberedNoticeIn(c, n, build);
    await c.query('COMMIT');
    return issued;
  } catch (e) {
    await c.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    c.release();
  }
}

/**
 * The same inside the caller's open transaction (`c` after BEGIN), which commits or rolls back the
 * notice together with whatever else it writes (app/admin.ts: a correction and its audit event). The
 * advisory lock is held until that transaction ends.
 */
export async function issueNumberedNoticeIn(
  c: PoolClient,
  n: NoticeToIssue,
  build: BuildNotice,
): Promise<IssuedNotice> {
  const year = Number(shanghaiDay(n.at).slice(0, 4));
  const prefix =
    n.docPrefix ?? (await programDocPrefix(c, n.programCode)) ?? defaultDocPrefix(n.county);
  await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`notice:${prefix}:${year}`]);
  if (n.version !== undefined) {
    const existing = await c.query<{
      id: string;
      doc_number: string;
      title: string;
      body_text: string;
      sha256: string;
    }>(
      'SELECT id, doc_number, title, body_text, sha256 FROM official_notice WHERE stream_id = $1 AND version = $2 AND kind = $3',
      [n.streamId, n.version, n.kind],
    );
    if (existing.rows.length) {
      const e = existing.rows[0];
      return {
        id: e.id,
        docNumber: e.doc_number,
        title: e.title,
        bodyText: e.body_text,
        sha256: e.sha256,
      };
    }
  }
  const {
    rows: [{ next }],
  } = await c.query<{ next: number }>(
    'SELECT COALESCE(MAX(serial), 0) + 1 AS next FROM official_notice WHERE doc_prefix = $1 AND year = $2',
    [prefix, year],
  );
  const docNumber = docNumberOf(prefix, year, next);
  const d = await build(docNumber);
  const htmlSha = sha256(d.html);
  const {
    rows: [{ id }],
  } = await c.query<{ id: string }>(
    `INSERT INTO official_notice (program_code, year, serial, doc_number, kind, title, html, body_text, pdf, sha256, pdf_sha256, stream_id, version, corrects_id, issued_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id`,
    [
      n.programCode,
      year,
      next,
      docNumber,
      n.kind,
      d.title,
      d.html,
      d.bodyText,
      d.pdf,
      htmlSha,
      d.pdf ? sha256(d.pdf) : null,
      n.streamId,
      n.version ?? next,
      n.correctsId ?? null,
      n.at,
    ],
  );
  return { id, docNumber, title: d.title, bodyText: d.bodyText, sha256: htmlSha };
}

/** The 机关代字 the program's budget table named (kept in its ProgramCreated event), or null. */
async function programDocPrefix(c: PoolClient, code: string): Promise<string | null> {
  const { rows } = await c.query<{ prefix: string | null }>(
    "SELECT data #>> '{definition,docPrefix}' AS prefix FROM event WHERE stream_id = $1 AND version = 1",
    [programDef.streamId(code)],
  );
  return rows[0]?.prefix || null;
}

export class Notifier {
  constructor(private readonly d: NotifierDeps) {}

  async runOnce(): Promise<DispatchRun> {
    const run: DispatchRun = {
      outbox: 0,
      notices: 0,
      mailsQueued: 0,
      reminders: 0,
      digests: 0,
      sent: 0,
      failed: 0,
      dead: 0,
    };
    const now = this.d.now();
    const { rows } = await this.d.pool.query<{
      id: string;
      stream_id: string;
      version: number;
      payload: unknown;
      attempts: number;
    }>(
      `WITH c AS (SELECT id FROM outbox WHERE dispatched_at IS NULL AND dead_at IS NULL AND next_attempt_at <= $1 ORDER BY id LIMIT 50 FOR UPDATE SKIP LOCKED)
       UPDATE outbox o SET attempts = o.attempts + 1, next_attempt_at = $2 FROM c WHERE o.id = c.id
       RETURNING o.id, o.stream_id, o.version, o.payload, o.attempts`,
      [now, new Date(now.getTime() + LEASE_MS)],
    );
    for (const r of rows.sort((a, b) => Number(a.id) - Number(b.id))) {
      run.outbox++;
      try {
        checkPayload(r.payload);
        const n = await this.handle(r.stream_id, r.payload);
        run.notices += n.notices;
        run.mailsQueued += n.mails;
        await this.d.pool.query(
          'UPDATE outbox SET dispatched_at = $2, last_error = NULL WHERE id = $1',
          [r.id, now],
        );
      } catch (e) {
        const permanent = isPermanent(e);
        const dead = permanent || r.attempts >= MAX_OUTBOX_ATTEMPTS;
        const error = errorText(e, permanent);
        this.d.log?.error(
          { err: e, outbox: r.id, attempts: r.attempts, permanent, dead },
          dead ? 'notification dead-lettered' : 'notification failed',
        );
        await this.d.pool.query(
          'UPDATE outbox SET last_error = $2, next_attempt_at = $3, dead_at = $4 WHERE id = $1',
          [r.id, error, new Date(now.getTime() + backoffMs(r.attempts)), dead ? now : null],
        );
        if (dead) run.dead++;
        else run.failed++;
      }
    }
    await this.remind(run, now);
    await this.sendPending(run, now);
    return run;
  }

  /** Reminders N days before each deadline, and on the first run of a month the supervision digest. */
  private async remind(run: DispatchRun, now: Date): Promise<void> {
    const days = this.d.reminderDays ?? 3;
    // what the reminders (up to `days` calendar days ahead) and the digest (overdue) can use: due by then
    const all = await openDeadlines(this.d.pool, new Date(now.getTime() + (days + 1) * 86_400_000));
    const programs = new Map<string, { name: string; county: string; reportPhone: string }>();
    const programOf = async (code: string) => {
      if (!programs.has(code)) programs.set(code, await noticeProgram(this.d.pool, code));
      return programs.get(code)!;
    };
    if (days > 0) {
      for (const x of upcoming(all, now, days)) {
        run.reminders += await this.queueMails(
          `reminder:${x.key}:${x.deadline}`,
          x.programCode,
          await programOf(x.programCode),
          {
            template: 'deadline_reminder',
            subject: `期限提醒：${x.what}（${beijingText(x.deadline)}）`,
            to: x.to,
            data: { what: x.what, deadline: x.deadline, now: now.toISOString() },
          },
          null,
        );
      }
    }
    const month = monthOf(now);
    const byProgram = new Map<string, typeof all>();
    for (const x of all) byProgram.set(x.programCode, [...(byProgram.get(x.programCode) ?? []), x]);
    const { rows: codes } = await this.d.pool.query<{ code: string }>(
      "SELECT code FROM program WHERE status = 'active'",
    );
    for (const { code } of codes) {
      run.digests += await this.queueMails(
        `digest:${code}:${month.key}`,
        code,
        await programOf(code),
        {
          template: 'monthly_digest',
          subject: `${month.text}督查：超期事项`,
          to: { roles: ['office', 'supervisor'] },
          data: {
            month: month.text,
            now: now.toISOString(),
            parties: overdueByParty(byProgram.get(code) ?? [], now),
          },
        },
        null,
      );
    }
  }

  private async handle(
    streamId: string,
    p: NotifyPayload,
  ): Promise<{ notices: number; mails: number }> {
    const program = await noticeProgram(this.d.pool, p.programCode);
    const issued = new Map<string, IssuedNotice>();
    for (const n of p.notices)
      issued.set(n.kind, await this.issue(streamId, p, program, n.kind, n.title, n.data));
    let mails = 0;
    for (const m of p.mails)
      mails += await this.queueMails(
        `${streamId}:${p.version}`,
        p.programCode,
        program,
        m,
        m.withNotice ? (issued.get(m.withNotice) ?? null) : null,
      );
    return { notices: p.notices.length, mails };
  }

  /** Issues a notice once per (stream, version, kind): the 文号 is the next for the program and year. */
  private issue(
    streamId: string,
    p: NotifyPayload,
    program: { name: string; county: string; reportPhone: string },
    kind: string,
    title: string,
    data: Record<string, unknown>,
  ) {
    return issueNumberedNotice(
      this.d.pool,
      {
        programCode: p.programCode,
        county: program.county,
        at: p.at,
        kind,
        streamId,
        version: p.version,
      },
      async (docNumber) => {
        const { html, bodyText } = rendered(kind, () =>
          renderNotice(kind, {
            ...data,
            title,
            docNumber,
            issuedAt: p.at,
            program,
          }),
        );
        const pdf = this.d.font
          ? await renderPdf(
              {
                issuer: `${program.county}电子商务进农村综合示范工作领导小组办公室文件`,
                docNumber,
                title,
                paragraphs: bodyText.split('\n'),
                signature: [
                  `${program.county}电子商务进农村综合示范工作领导小组办公室`,
                  htmlToText(html)
                    .split('\n')
                    .find((l) => /^\d{4}年/.test(l)) ?? '',
                ],
                marker: `全国电子商务进农村综合示范项目 · ${program.name} · 监督举报电话：${program.reportPhone}`,
                issuedAt: p.at,
              },
              this.d.font,
            )
          : null;
        if (!pdf)
          this.d.log?.warn(
            `no CJK font found: notice ${docNumber} is stored as HTML only (apt-get install fonts-noto-cjk, or set PDF_FONT)`,
          );
        return { title, html, bodyText, pdf };
      },
    );
  }

  /** One mail_message row per recipient with an e-mail address; existing rows are left alone. */
  private async queueMails(
    eventKey: string,
    _programCode: string,
    program: { name: string; county: string; reportPhone: string },
    m: MailSpec,
    notice: { id: string; docNumber: string; title: string; bodyText: string } | null,
  ): Promise<number> {
    const { rows: users } = await this.d.pool.query<{
      username: string;
      email: string;
      display_name: string | null;
      org: string | null;
    }>(
      `SELECT u.username, u.email, u.display_name, o.name AS org FROM app_user u LEFT JOIN organisation o ON o.id = u.org_id
        WHERE u.email IS NOT NULL AND NOT u.disabled AND ((o.name IS NOT NULL AND o.name = $1) OR u.role::text = ANY($2::text[]))`,
      [m.to.org ?? null, m.to.roles ?? []],
    );
    let n = 0;
    for (const u of users) {
      const recipientName = u.display_name ?? u.org ?? u.username;
      const data = {
        ...m.data,
        recipientName,
        program,
        ...(notice
          ? {
              notice: {
                title: notice.title,
                docNumber: notice.docNumber,
                text: notice.bodyText,
                url: `${(this.d.publicUrl ?? '').replace(/\/$/, '')}/api/notices/${notice.id}`,
              },
            }
          : {}),
      };
      const text = rendered(m.template, () => renderMail(m.template, data));
      const subject = notice ? `${m.subject}（${notice.docNumber}）` : m.subject;
      const messageId = `<${sha256(`${eventKey}|${m.template}|${u.email}`).slice(0, 32)}@shifan.local>`; // the same mail always has the same Message-ID
      const r = await this.d.pool.query(
        `INSERT INTO mail_message (event_key, template, recipient, recipient_name, subject, text, message_id, created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
         ON CONFLICT (event_key, template, recipient) DO NOTHING`,
        [eventKey, m.template, u.email, recipientName, subject, text, messageId, this.d.now()],
      );
      n += r.rowCount ?? 0;
    }
    return n;
  }

  private async sendPending(run: DispatchRun, now: Date): Promise<void> {
    const { rows } = await this.d.pool.query<{
      id: string;
      recipient: string;
      subject: string;
      text: string;
      message_id: string;
      attempts: number;
    }>(
      `WITH c AS (SELECT id FROM mail_message WHERE status = 'pending' AND next_attempt_at <= $1 ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED)
       UPDATE mail_message m SET attempts = m.attempts + 1, next_attempt_at = $2 FROM c WHERE m.id = c.id
       RETURNING m.id, m.recipient, m.subject, m.text, m.message_id, m.attempts`,
      [now, new Date(now.getTime() + LEASE_MS)],
    );
    for (const r of rows) {
      try {
        await this.d.mailer.send({
          from: this.d.from,
          to: r.recipient,
          subject: r.subject,
          text: r.text,
          messageId: r.message_id,
        });
        await this.d.pool.query(
          "UPDATE mail_message SET status = 'sent', sent_at = $2, last_error = NULL WHERE id = $1",
          [r.id, now],
        );
        run.sent++;
      } catch (e) {
        // an SMTP 5xx (550 no such mailbox, …) is final: dead at once; 4xx and lost connections retry
        const dead = r.attempts >= MAX_ATTEMPTS || smtpPermanent(e);
        await this.d.pool.query(
          'UPDATE mail_message SET status = $2, last_error = $3, next_attempt_at = $4 WHERE id = $1',
          [
            r.id,
            dead ? 'dead' : 'pending',
            String((e as Error).message).slice(0, 500),
            new Date(now.getTime() + backoffMs(r.attempts)),
          ],
        );
        if (dead) run.dead++;
        else run.failed++;
      }
    }
  }

  private readonly poller = new Poller(
    () => this.runOnce(),
    (e) => this.d.log?.error({ err: e }, 'dispatcher run failed'),
  );
  start(intervalMs: number): void {
    this.poller.start(intervalMs);
  }
  stop(): Promise<void> {
    return this.poller.stop();
  }
}
