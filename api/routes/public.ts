// The public column's data as JSON (R-PUB-1): the twins of the pages /gongkai and /gongkai/:code
// (api/pages/public.ts), answered by the same functions (app/disclosure.ts), with no log-in.
import { z } from 'zod';
import { publicProgram, publicPrograms, PublicNoticeQuery } from '../../app/disclosure';
import type { AppContext } from '../../app/context';
import type { Api } from '../http';
import { ProgramCode } from '../schemas';

export function publicRoutes(api: Api, ctx: AppContext): void {
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
