// The public column's data as JSON (R-PUB-1): the twins of the pages /gongkai and /gongkai/:code
// (api/pages/public.ts), answered by the same functions (app/disclosure.ts), with no log-in.
import { z } from 'zod';
import {
  publicNoticeFeed,
  publicProgram,
  publicProgramTag,
  publicPrograms,
  PublicNoticeQuery,
} from '../../app/disclosure';
import { atomFeed } from '../atom';
import type { AppContext } from '../../app/context';
import type { Request } from 'express';
import { DEFAULT_OCID_PREFIX, ocdsRecordPackage, ocdsReleasePackage } from '../../app/ocds';
import {
  PublicObjectionBody,
  PublicReportBody,
  publicObjection,
  publicReport,
  Receipt,
  ReceiptAnswer,
  receiptStatus,
  SubmissionThrottled,
} from '../../app/public-submissions';
import type { Api } from '../http';
import { HttpError } from '../problem';
import { ProgramCode } from '../schemas';

/** Where a reader reached this server (for the packages' uri): PUBLIC_URL's job behind a proxy. */
const baseUrl = (req: Request) => `${req.protocol}://${req.get('host') ?? 'localhost'}`;

/** A used-up submission limit as the API answers it: 429 with Retry-After. */
export async function throttledAs429<T>(
  res: { setHeader(k: string, v: string): unknown },
  run: () => Promise<T>,
) {
  try {
    return await run();
  } catch (e) {
    if (!(e instanceof SubmissionThrottled)) throw e;
    res.setHeader('Retry-After', String(e.retryAfter));
    throw new HttpError(429, e.message, e.messageEn, 'R-PUB-1');
  }
}

const LIMITS =
  '不需登录。同一地址每小时最多 10 件（异议与举报合计），同一公示每天最多 50 件，超过时答 429 并给出 Retry-After；请求体不超过 16 KB。';

export function publicRoutes(
  api: Api,
  ctx: AppContext & { ocidPrefix?: string; publicUrl?: string },
): void {
  const ocds = (req: Request) => ({
    ocidPrefix: ctx.ocidPrefix ?? DEFAULT_OCID_PREFIX,
    baseUrl: ctx.publicUrl?.replace(/\/$/, '') ?? baseUrl(req),
  });
  for (const [kind, build, summary] of [
    ['releases', ocdsReleasePackage, '发布包（release package）：每个分项目的计划发布与当前发布'],
    ['records', ocdsRecordPackage, '记录包（record package）：每个分项目的全部发布与汇编发布'],
  ] as const)
    api.route(
      {
        method: 'get',
        path: `/api/public/programs/:code/ocds/${kind}`,
        tags: ['public'],
        access: 'public',
        params: ProgramCode,
        errors: [404],
        summary: `开放合同数据（OCDS 1.1）${summary}`,
        description:
          '每个分项目是一个采购过程（ocid = 前缀-项目代码-序号）：planning.budget 按资金来源分列（budgetBreakdown），招标、定标、合同，合同的 implementation.milestones 与 transactions（relatedImplementationMilestone 指向里程碑），公开通知带文号。只含公开信息：开标前不含投标人与报价。',
        response: {
          description: `OCDS 1.1 ${kind === 'releases' ? 'release' : 'record'} package`,
          schema: z.object({ uri: z.string(), version: z.literal('1.1') }).loose(),
        },
      },
      async ({ params, req, res }) => {
        res.setHeader('Cache-Control', 'public, max-age=60');
        return build(ctx, params.code, ocds(req));
      },
    );

  api.route(
    {
      method: 'get',
      path: '/api/public/programs',
      tags: ['public'],
      access: 'public',
      summary: '综合示范工作专栏：项目列表（与 /gongkai 页面相同的数据）',
      response: {
        description: '项目列表与标识',
        schema: z.object({
          marker: z.string(),
          items: z.array(z.object({ code: z.string() }).loose()),
        }),
      },
    },
    async ({ res }) => {
      res.setHeader('Cache-Control', 'public, max-age=60');
      return publicPrograms(ctx);
    },
  );

  api.route(
    {
      method: 'get',
      path: '/api/public/programs/:code',
      tags: ['public'],
      access: 'public',
      params: ProgramCode,
      query: PublicNoticeQuery,
      errors: [404],
      summary:
        '综合示范工作专栏：一个项目的公开信息（实施方案、项目内容、资金安排、决策过程、公示、通知公告、资金拨付、举报电话；与 /gongkai/:code 页面相同的数据）',
      response: {
        description: '公开信息',
        schema: z.object({ code: z.string(), marker: z.string() }).loose(),
      },
    },
    async ({ params, query, req, res }) => {
      res.setHeader('Cache-Control', 'public, max-age=60');
      // a conditional GET is answered before any of the column is read
      res.setHeader('ETag', await publicProgramTag(ctx, params.code, query, 'json'));
      if (req.fresh) return void res.status(304).end();
      try {
        return await publicProgram(ctx, params.code, query);
      } catch (e) {
        res.removeHeader('ETag');
        throw e;
      }
    },
  );

  api.route(
    {
      method: 'get',
      path: '/api/public/programs/:code/notices.atom',
      tags: ['public'],
      access: 'public',
      params: ProgramCode,
      errors: [404],
      summary: '一个项目的通知公告订阅（Atom）：每份公开通知一条，含文号、类别、网页与 PDF 链接',
      response: {
        description: 'Atom',
        contentType: 'application/atom+xml',
        schema: z.string(),
      },
    },
    async ({ params, res }) => {
      const feed = await publicNoticeFeed(ctx, params.code);
      res.setHeader('Cache-Control', 'public, max-age=300');
      res.type('application/atom+xml; charset=utf-8').status(200).send(atomFeed(feed));
    },
  );

  api.route(
    {
      method: 'post',
      path: '/api/public/programs/:code/objections',
      tags: ['public'],
      access: 'public',
      params: ProgramCode,
      body: PublicObjectionBody,
      status: 201,
      errors: [404, 409, 413, 422, 429],
      summary:
        '社会公众在公示期内提出异议（中标候选人公示或验收结果公示；姓名、电话可不填）：与登录用户的异议相同，办公室处理前暂停定标或拨付（R-TD-1、R-AC-3）',
      description: `${LIMITS}答复含回执编号，凭它查询处理情况（GET /api/public/receipts/{receipt}）。`,
      response: { description: '回执', schema: ReceiptAnswer },
    },
    async ({ params, body, req, res }) =>
      throttledAs429(res, () => publicObjection(ctx, params.code, body, req.ip ?? null)),
  );

  api.route(
    {
      method: 'post',
      path: '/api/public/programs/:code/reports',
      tags: ['public'],
      access: 'public',
      params: ProgramCode,
      body: PublicReportBody,
      status: 201,
      errors: [404, 413, 429],
      summary: '社会公众举报（任何时候；可指明分项目；姓名、电话可不填），进入办公室待办',
      description: `${LIMITS.replace('同一公示每天最多 50 件', '同一项目的举报每天最多 200 件')}答复含回执编号。`,
      response: { description: '回执', schema: ReceiptAnswer },
    },
    async ({ params, body, req, res }) =>
      throttledAs429(res, () => publicReport(ctx, params.code, body, req.ip ?? null)),
  );

  api.route(
    {
      method: 'get',
      path: '/api/public/receipts/:receipt',
      tags: ['public'],
      access: 'public',
      params: z.object({ receipt: Receipt }),
      errors: [404],
      summary: '凭回执编号查询异议或举报的处理情况（不含姓名与电话）',
      response: { description: '处理情况', schema: ReceiptAnswer },
    },
    async ({ params, res }) => {
      const r = await receiptStatus(ctx, params.receipt);
      if (!r)
        throw new HttpError(
          404,
          `没有回执编号 ${params.receipt}`,
          `no receipt ${params.receipt}`,
          'NOT-FOUND',
        );
      res.setHeader('Cache-Control', 'no-store');
      return r;
    },
  );
}
