// Official notices (the disclosure column reads them: R-PUB-1), corrections, template previews, and the
// mail dead-letter list the office can retry. Each route translates HTTP to a use case and back.
import { z } from 'zod';
import * as admin from '../../app/admin';
import type { AppContext } from '../../app/context';
import { CorrectionBody, NoticeList, PreviewBody } from '../../app/inputs';
import * as notices from '../../app/notices';
import * as queries from '../../app/queries';
import type { Api } from '../http';
import { IdParam as Id } from '../schemas';

/** Issued notices are immutable (R-PUB-1, R-PUB-3). */
const NOTICE_CACHE = 'public, max-age=86400';

const TemplateParam = z.object({ name: z.string().regex(/^[a-z_]+$/) });

export function noticeRoutes(api: Api, ctx: AppContext): void {
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
    async ({ query }) => queries.listNotices(ctx, query),
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
      const n = await queries.noticeHtml(ctx, params.id);
      res.setHeader('X-Content-SHA256', n.sha256);
      // an issued notice never changes (a correction is a new notice): cached a day, its hash the ETag
      res.setHeader('Cache-Control', NOTICE_CACHE);
      res.setHeader('ETag', `"${n.sha256}"`);
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
    async ({ params, req, res }) => {
      const n = await queries.noticePdf(ctx, params.id);
      res.setHeader('X-Content-SHA256', n.sha256);
      res.setHeader('Cache-Control', NOTICE_CACHE);
      res.setHeader('ETag', `"${n.sha256}"`);
      if (req.fresh) return void res.status(304).end();
      res.setHeader(
        'Content-Disposition',
        `inline; filename*=UTF-8''${encodeURIComponent(n.fileName)}`,
      );
      res.type('application/pdf').status(200).end(n.pdf);
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
    async ({ params, body, actor }) => admin.correctNotice(ctx, actor, { id: params.id, ...body }),
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
    () => Promise.resolve(notices.listTemplates()),
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
    ({ params, body }) => Promise.resolve(notices.previewTemplate(params.name, body.data)),
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
    async () => queries.deadLetters(ctx),
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
    async ({ params, actor }) => admin.retryMail(ctx, actor, { id: params.id }),
  );
}
