// The public column's data as JSON (R-PUB-1): the twins of the pages /gongkai and /gongkai/:code
// (api/pages/public.ts), answered by the same functions (app/disclosure.ts), with no log-in.
import { z } from 'zod';
import { publicProgram, publicPrograms, PublicNoticeQuery } from '../../app/disclosure';
import type { AppContext } from '../../app/context';
import type { Request } from 'express';
import type { Api } from '../http';
import { DEFAULT_OCID_PREFIX, ocdsRecordPackage, ocdsReleasePackage } from '../../app/ocds';
import { ProgramCode } from '../schemas';

/** Where a reader reached this server (for the packages' uri): PUBLIC_URL's job behind a proxy. */
const baseUrl = (req: Request) => `${req.protocol}://${req.get('host') ?? 'localhost'}`;

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
    async ({ params, query, res }) => {
      res.setHeader('Cache-Control', 'public, max-age=60');
      return publicProgram(ctx, params.code, query);
    },
  );
}
