// Official notices (the disclosure column reads them: R-PUB-1), corrections, template previews, and the
// mail dead-letter list the office can retry.
import { z } from 'zod';
import {
  MAIL_TEMPLATES,
  NOTICE_TEMPLATES,
  renderMail,
  renderNotice,
  samples,
} from '../../activities/render';
import { REPORT_PHONE, issueNumberedNotice } from '../../activities/notify/dispatch';
import { DomainError } from '../../workflows/errors';
import type { Api } from '../http';
import type { Services } from '../services';

const Id = z.object({ id: z.string().regex(/^\d+$/, '编号应为正整数').transform(Number) });
export const NOTICE_KIND_NAMES: Record<string, string> = {
  tender_announcement: '招标公告',
  candidate_publicity: '中标候选人公示',
  award_notice: '中标（承办）通知书',
  contract_summary: '承办协议摘要',
  acceptance_publicity: '验收结果公示',
  rectification_notice: '整改通知书',
  disbursement_notice: '资金拨付通知',
  public_naming: '通报',
  clawback_notice: '追回通知书',
  correction: '更正通知',
};
const NoticeList = z.object({
  program: z.string().optional().meta({ description: '项目代码' }),
  kind: z.enum(Object.keys(NOTICE_KIND_NAMES) as [string, ...string[]]).optional(),
});
const CorrectionBody = z
  .object({
    text: z.string().min(1).max(20000).meta({ description: '更正内容' }),
    reason: z.string().max(2000).optional(),
  })
  .strict();
const PreviewBody = z
  .object({
    data: z
      .record(z.string(), z.unknown())
      .optional()
      .meta({ description: '模板数据；缺省用 templates/samples.json 中的示例数据' }),
  })
  .strict();
const TemplateParam = z.object({ name: z.string().regex(/^[a-z_]+$/) });

export function noticeRoutes(api: Api, svc: Services): void {
  const { prisma, pool } = svc;
  const noticeSummary = (n: {
    id: bigint;
    programCode: string;
    docNumber: string;
    kind: string;
    title: string;
    issuedAt: Date;
    sha256: string;
    pdfSha256: string | null;
    correctsId: bigint | null;
  }) => ({
    id: Number(n.id),
    programCode: n.programCode,
    docNumber: n.docNumber,
    kind: n.kind,
    kindName: NOTICE_KIND_NAMES[n.kind] ?? n.kind,
    title: n.title,
    issuedAt: n.issuedAt.toISOString(),
    sha256: n.sha256,
    pdfSha256: n.pdfSha256,
    pdf: n.pdfSha256 ? `/api/notices/${n.id}/pdf` : null,
    html: `/api/notices/${n.id}`,
    corrects: n.correctsId ? Number(n.correctsId) : null,
  });

  api.route(
    {
      method: 'get',
      path: '/api/notices',
      tags: ['notices'],
      access: 'public',
      query: NoticeList,
      summary: '公开的正式通知（公告、公示、通报等，含文号），供综合示范工作专栏使用',
      response: {
        description: '通知列表',
        schema: z.object({ items: z.array(z.object({ docNumber: z.string() }).loose()) }),
      },
    },
    async ({ query }) => {
      const rows = await prisma.officialNotice.findMany({
        where: {
          isPublic: true,
          ...(query.program ? { programCode: query.program } : {}),
          ...(query.kind ? { kind: query.kind } : {}),
        },
        orderBy: { id: 'desc' },
        take: 500,
        select: {
          id: true,
          programCode: true,
          docNumber: true,
          kind: true,
          title: true,
          issuedAt: true,
          sha256: true,
          pdfSha256: true,
          correctsId: true,
        },
      });
      return { items: rows.map(noticeSummary) };
    },
  );

  api.route(
    {
      method: 'get',
      path: '/api/notices/:id',
      tags: ['notices'],
      access: 'public',
      params: Id,
      errors: [404],
      summary: '通知全文（HTML）',
      response: { description: 'HTML', contentType: 'text/html', schema: z.string() },
    },
    async ({ params, res }) => {
      const n = await prisma.officialNotice.findUnique({ where: { id: BigInt(params.id) } });
      if (!n) throw new DomainError('NOT-FOUND', 'not_found', '通知不存在', 'notice not found');
      res.setHeader('X-Content-SHA256', n.sha256);
      res.type('text/html; charset=utf-8').status(200).send(n.html);
    },
  );

  api.route(
    {
      method: 'get',
      path: '/api/notices/:id/pdf',
      tags: ['notices'],
      access: 'public',
      params: Id,
      errors: [404],
      summary: '通知 PDF',
      response: { description: 'PDF', contentType: 'application/pdf', schema: z.string() },
    },
    async ({ params, res }) => {
      const n = await prisma.officialNotice.findUnique({ where: { id: BigInt(params.id) } });
      if (!n?.pdf)
        throw new DomainError('NOT-FOUND', 'not_found', '该通知没有 PDF', 'no PDF for this notice');
      res.setHeader('X-Content-SHA256', n.pdfSha256 ?? '');
      res.setHeader(
        'Content-Disposition',
        `inline; filename*=UTF-8''${encodeURIComponent(`${n.docNumber}.pdf`)}`,
      );
      res.type('application/pdf').status(200).end(Buffer.from(n.pdf));
    },
  );

  api.route(
    {
      method: 'post',
      path: '/api/notices/:id/corrections',
      tags: ['notices'],
      access: ['office'],
      params: Id,
      body: CorrectionBody,
      errors: [404],
      status: 201,
      summary: '发布更正通知（原通知不变，新通知引用原文号）',
      response: { description: '更正通知', schema: z.object({ docNumber: z.string() }).loose() },
    },
    async ({ params, body, actor }) => {
      const old = await prisma.officialNotice.findUnique({ where: { id: BigInt(params.id) } });
      if (!old) throw new DomainError('NOT-FOUND', 'not_found', '通知不存在', 'notice not found');
      const program = await prisma.program.findUnique({ where: { code: old.programCode } });
      const at = svc.engine.clock.now().toISOString();
      const title = `关于更正《${old.title}》（${old.docNumber}）的通知`;
      const issued = await issueNumberedNotice(
        pool,
        {
          programCode: old.programCode,
          county: program!.county,
          at,
          kind: 'correction',
          streamId: `notice-${old.id}-corrections`,
          correctsId: String(old.id),
        },
        async (docNumber) => ({
          title,
          pdf: null,
          ...renderNotice('correction', {
            title,
            docNumber,
            issuedAt: at,
            program: { name: program!.name, county: program!.county, reportPhone: REPORT_PHONE },
            original: { title: old.title, docNumber: old.docNumber },
            text: body.text,
          }),
        }),
      );
      return {
        id: Number(issued.id),
        docNumber: issued.docNumber,
        title,
        corrects: Number(old.id),
        by: actor!.username,
        reason: body.reason ?? null,
      };
    },
  );

  api.route(
    {
      method: 'get',
      path: '/api/templates',
      tags: ['notices'],
      access: ['office'],
      summary: '模板列表',
      response: {
        description: '模板',
        schema: z.object({ notices: z.array(z.string()), mails: z.array(z.string()) }),
      },
    },
    async () => ({ notices: NOTICE_TEMPLATES, mails: MAIL_TEMPLATES }),
  );

  api.route(
    {
      method: 'post',
      path: '/api/templates/:name/preview',
      tags: ['notices'],
      access: ['office'],
      params: TemplateParam,
      body: PreviewBody,
      errors: [404],
      summary: '用示例数据（或给定数据）预览模板',
      response: {
        description: '渲染结果',
        schema: z.object({
          name: z.string(),
          kind: z.enum(['notice', 'mail']),
          html: z.string().optional(),
          text: z.string(),
        }),
      },
    },
    async ({ params, body }) => {
      const all = samples();
      const program = all._program as { name: string; county: string; reportPhone: string };
      const data = { ...(all[params.name] ?? {}), program, ...(body.data ?? {}) } as Record<
        string,
        unknown
      >;
      try {
        if (NOTICE_TEMPLATES.includes(params.name)) {
          const r = renderNotice(params.name, data as Parameters<typeof renderNotice>[1]);
          return { name: params.name, kind: 'notice' as const, html: r.html, text: r.bodyText };
        }
        if (MAIL_TEMPLATES.includes(params.name))
          return {
            name: params.name,
            kind: 'mail' as const,
            text: renderMail(params.name, data as Parameters<typeof renderMail>[1]),
          };
      } catch (e) {
        throw new DomainError(
          'TEMPLATE-DATA',
          'invalid',
          `模板数据不完整：${(e as Error).message}`,
          `template data incomplete: ${(e as Error).message}`,
          { field: 'data' },
        );
      }
      throw new DomainError(
        'NOT-FOUND',
        'not_found',
        `没有模板 ${params.name}`,
        `no template ${params.name}`,
      );
    },
  );

  api.route(
    {
      method: 'get',
      path: '/api/mail/dead-letters',
      tags: ['notices'],
      access: ['office'],
      summary: '发送失败的邮件（重试已用尽）',
      response: {
        description: '邮件',
        schema: z.object({ items: z.array(z.object({ id: z.number().int() }).loose()) }),
      },
    },
    async () => {
      const rows = await prisma.mailMessage.findMany({
        where: { status: 'dead' },
        orderBy: { id: 'asc' },
      });
      return {
        items: rows.map((m) => ({
          id: Number(m.id),
          recipient: m.recipient,
          subject: m.subject,
          attempts: m.attempts,
          lastError: m.lastError,
          createdAt: m.createdAt.toISOString(),
        })),
      };
    },
  );

  api.route(
    {
      method: 'post',
      path: '/api/mail/:id/retry',
      tags: ['notices'],
      access: ['office'],
      params: Id,
      errors: [404, 409],
      summary: '重新发送一封失败的邮件',
      response: {
        description: '已重新排队',
        schema: z.object({ id: z.number().int(), status: z.string() }),
      },
    },
    async ({ params }) => {
      const m = await prisma.mailMessage.findUnique({ where: { id: BigInt(params.id) } });
      if (!m) throw new DomainError('NOT-FOUND', 'not_found', '邮件不存在', 'mail not found');
      if (m.status !== 'dead')
        throw new DomainError(
          'CONFLICT',
          'conflict',
          `邮件状态为 ${m.status}，无需重试`,
          `mail is ${m.status}`,
        );
      await prisma.mailMessage.update({
        where: { id: m.id },
        data: { status: 'pending', attempts: 0, nextAttemptAt: svc.engine.clock.now() },
      });
      return { id: params.id, status: 'pending' };
    },
  );
}
