// Objections and reports from the public through the column (R-PUB-1), without a log-in. An objection
// during a publicity period is the very command a logged-in objection is (RaiseObjection for the
// candidate publicity, R-TD-1; RaiseAcceptanceObjection for an acceptance's, R-AC-3), so it suspends the
// award or the release in the same way and lands in the office's 待办; a report (举报) is the program's
// FileReport, at any time. Each is an event in its stream's audit chain with a receipt (回执编号) by
// which its sender checks the status; the sender's name and phone are optional and never shown publicly.
// Throttled per client address and per publicity item (activities/public-throttle.ts).
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { countSubmission, PUBLIC_LIMITS } from '../activities/public-throttle';
import { programAggregate } from '../engine/aggregates';
import { PUBLIC_ACTOR, type PublicSender } from '../workflows/program/types';
import type { AppContext } from './context';
import { loadProgram, loadSubproject } from './queries';
import { runSubprojectCommand } from './subprojects';

/** The longest text the column takes (a page of A4); the JSON body is limited to 16 kB before it. */
export const MAX_TEXT = 2000;
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'; // Crockford base32: no I, L, O, U to misread

export const Receipt = z
  .string()
  .trim()
  .toUpperCase()
  .regex(/^(YY|JB)-[0-9A-HJKMNP-TV-Z]{10}$/, '回执编号格式为 YY- 或 JB- 加 10 位字母数字')
  .meta({ description: '回执编号（异议 YY-…，举报 JB-…）', example: 'YY-7K3QX9M2TD' });

const text = (what: string) =>
  z
    .string()
    .trim()
    .min(5, `${what}至少 5 个字`)
    .max(MAX_TEXT, `${what}不能超过 ${MAX_TEXT} 字`)
    .meta({ description: `${what}（5–${MAX_TEXT} 字）` });
const contact = {
  name: z
    .string()
    .trim()
    .max(40, '姓名不能超过 40 字')
    .optional()
    .meta({ description: '姓名（可不填）' }),
  phone: z
    .string()
    .trim()
    .regex(/^[0-9+()\- ]{5,20}$/, '联系电话只能是 5–20 位数字（可含 + - 括号 空格）')
    .optional()
    .meta({ description: '联系电话（可不填；只有办公室和监督人员看得到）' }),
};
const seq = z.number().int().min(1).max(999).meta({ description: '分项目序号' });

export const PublicObjectionBody = z
  .object({
    seq,
    milestone: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,20}$/)
      .optional()
      .meta({ description: '验收结果公示的里程碑编号；不填为中标候选人公示' }),
    text: text('异议内容'),
    ...contact,
  })
  .strict()
  .meta({ id: 'PublicObjectionBody' });
export type PublicObjectionBody = z.output<typeof PublicObjectionBody>;

export const PublicReportBody = z
  .object({
    seq: seq.optional().meta({ description: '所举报的分项目序号（可不填）' }),
    text: text('举报内容'),
    ...contact,
  })
  .strict()
  .meta({ id: 'PublicReportBody' });
export type PublicReportBody = z.output<typeof PublicReportBody>;

export const ReceiptAnswer = z
  .object({
    receipt: z.string(),
    kind: z.enum(['objection', 'report']),
    kindName: z.string(),
    programCode: z.string(),
    programName: z.string(),
    subject: z.string().meta({ description: '所涉分项目或项目' }),
    about: z.string().nullable().meta({ description: '所涉公示（异议）' }),
    text: z.string(),
    submittedAt: z.string(),
    status: z.enum(['open', 'upheld', 'dismissed', 'answered']),
    statusName: z.string(),
    answer: z
      .object({ at: z.string(), text: z.string() })
      .nullable()
      .meta({ description: '办公室的处理决定或答复' }),
  })
  .meta({ id: 'PublicReceipt', description: '回执与处理状态（不含姓名与电话）' });
export type ReceiptAnswer = z.infer<typeof ReceiptAnswer>;

const newReceipt = (prefix: 'YY' | 'JB') =>
  `${prefix}-${[...randomBytes(10)].map((b) => ALPHABET[b & 31]).join('')}`;

const senderOf = (
  receipt: string,
  input: { name?: string | undefined; phone?: string | undefined },
): PublicSender => ({ receipt, name: input.name || null, phone: input.phone || null });

/** A used-up limit, with the seconds until it frees (the API and the pages answer 429 + Retry-After). */
export class SubmissionThrottled extends Error {
  readonly messageEn: string;
  constructor(readonly retryAfter: number) {
    super(`提交过于频繁，请 ${Math.ceil(retryAfter / 60)} 分钟后再试`);
    this.messageEn = `too many submissions: retry after ${retryAfter} s`;
  }
}

async function throttle(
  ctx: AppContext,
  client: string | null,
  limits: ReturnType<typeof PUBLIC_LIMITS.item>[],
) {
  const all = client ? [PUBLIC_LIMITS.client(client), ...limits] : limits;
  const ms = await countSubmission(ctx.pool, all, ctx.engine.clock.now());
  if (ms) {
    ctx.log.warn({ client, keys: all.map((l) => l.key) }, 'public submission throttled');
    throw new SubmissionThrottled(Math.ceil(ms / 1000));
  }
}

/** R-TD-1 / R-AC-3 from the public: the same objection a logged-in user raises. */
export async function publicObjection(
  ctx: AppContext,
  code: string,
  input: PublicObjectionBody,
  client: string | null,
): Promise<ReceiptAnswer> {
  const milestone = input.milestone ?? null;
  await throttle(ctx, client, [PUBLIC_LIMITS.item(code, input.seq, milestone)]);
  const receipt = newReceipt('YY');
  const sender = senderOf(receipt, input);
  await runSubprojectCommand(
    ctx,
    PUBLIC_ACTOR,
    { code, seq: input.seq },
    milestone
      ? { type: 'RaiseAcceptanceObjection', milestone, text: input.text, sender }
      : { type: 'RaiseObjection', text: input.text, sender },
  );
  return (await receiptStatus(ctx, receipt))!;
}

/** R-PUB-1: a report (举报) about the program or one of its subprojects, at any time. */
export async function publicReport(
  ctx: AppContext,
  code: string,
  input: PublicReportBody,
  client: string | null,
): Promise<ReceiptAnswer> {
  await throttle(ctx, client, [PUBLIC_LIMITS.reports(code)]);
  const receipt = newReceipt('JB');
  await ctx.engine.execute(
    programAggregate,
    code,
    {
      type: 'FileReport',
      seq: input.seq ?? null,
      text: input.text,
      sender: senderOf(receipt, input),
    },
    { actor: PUBLIC_ACTOR },
  );
  return (await receiptStatus(ctx, receipt))!;
}

/** The fields of the submission events and their decisions the status reads. */
interface SubmissionData {
  id: string;
  at: string;
  text?: string;
  round?: number;
  milestone?: string;
  seq?: number | null;
  decision?: 'upheld' | 'dismissed';
  reason?: string;
}
type Row = { stream_id: string; version: number; type: string; data: SubmissionData };

/** What the sender may read by its receipt: the submission and the office's decision, without the
 * sender's name and phone (nor anyone's username). Null: no such receipt. */
export async function receiptStatus(
  ctx: AppContext,
  receipt: string,
): Promise<ReceiptAnswer | null> {
  const { rows } = await ctx.pool.query<Row>(
    `SELECT stream_id, version, type, data FROM event
      WHERE data ? 'sender' AND data -> 'sender' ->> 'receipt' = $1 LIMIT 1`,
    [receipt],
  );
  const raised = rows[0];
  if (!raised) return null;
  const d = raised.data;
  // the decision on it: the resolution of the same objection (round or milestone) or the report's answer
  const resolvedType = {
    ObjectionRaised: 'ObjectionResolved',
    AcceptanceObjectionRaised: 'AcceptanceObjectionResolved',
    ReportFiled: 'ReportAnswered',
  }[raised.type];
  const { rows: later } = await ctx.pool.query<Row>(
    `SELECT stream_id, version, type, data FROM event
      WHERE stream_id = $1 AND version > $2 AND type = $3 AND data ->> 'id' = $4
      ORDER BY version`,
    [raised.stream_id, raised.version, resolvedType, d.id],
  );
  const done = later.find((e) =>
    raised.type === 'ObjectionRaised'
      ? e.data.round === d.round
      : raised.type === 'AcceptanceObjectionRaised'
        ? e.data.milestone === d.milestone
        : true,
  );
  const base = { receipt, text: d.text ?? '', submittedAt: d.at };
  if (raised.type === 'ReportFiled') {
    const code = raised.stream_id.slice('program-'.length);
    const { state } = await loadProgram(ctx, code);
    const sp = d.seq == null ? null : state.def.subprojects.find((x) => x.seq === d.seq);
    return {
      ...base,
      kind: 'report',
      kindName: '举报',
      programCode: code,
      programName: state.def.name,
      subject: sp ? `分项目${sp.seq} ${sp.name}` : '项目',
      about: null,
      status: done ? 'answered' : 'open',
      statusName: done ? '已答复' : '已受理，待办公室答复',
      answer: done ? { at: done.data.at, text: done.data.text ?? '' } : null,
    };
  }
  const [, code = '', n] = /^subproject-(.+)-(\d+)$/.exec(raised.stream_id) ?? [];
  const seqNo = Number(n);
  const [{ state: p }, { state: s }] = await Promise.all([
    loadProgram(ctx, code),
    loadSubproject(ctx, code, seqNo),
  ]);
  const name = p.def.subprojects.find((x) => x.seq === seqNo)?.name ?? '';
  const candidate = raised.type === 'ObjectionRaised';
  const milestoneTitle =
    !candidate && s.status === 'active'
      ? (s.contract?.milestones.find((m) => m.key === d.milestone)?.title ?? d.milestone)
      : d.milestone;
  const upheld = done?.data.decision === 'upheld';
  return {
    ...base,
    kind: 'objection',
    kindName: '异议',
    programCode: code,
    programName: p.def.name,
    subject: `分项目${seqNo} ${name}`,
    about: candidate ? '中标候选人公示' : `验收结果公示：${milestoneTitle}`,
    status: done ? (upheld ? 'upheld' : 'dismissed') : 'open',
    statusName: done
      ? upheld
        ? '异议成立'
        : '异议不成立'
      : candidate
        ? '已受理，待办公室处理（处理前暂停定标）'
        : '已受理，待办公室处理（处理前暂停拨付）',
    answer: done ? { at: done.data.at, text: done.data.reason ?? '' } : null,
  };
}
