// Supervision reads (R-PUB-2, R-PH-3): the national summary and the list of everything overdue.
import { z } from 'zod';
import type { AppContext } from '../../app/context';
import * as queries from '../../app/queries';
import type { Api } from '../http';

export function supervisionRoutes(api: Api, ctx: AppContext): void {
  api.route(
    {
      method: 'get',
      path: '/api/summary',
      tags: ['supervision'],
      access: ['office', 'finance', 'supervisor'],
      summary: '全国（本库全部项目）汇总：各阶段项目数、分来源预算与资金流向、分项目状态',
      response: { description: '汇总', schema: z.object({ programs: z.number().int() }).loose() },
    },
    async () => queries.nationalSummary(ctx),
  );

  api.route(
    {
      method: 'get',
      path: '/api/overdue',
      tags: ['supervision'],
      access: ['office', 'finance', 'supervisor'],
      summary: '超期事项（R-PH-3）：阶段、里程碑、整改、追回、投标截止，按负责方',
      response: {
        description: '超期事项',
        schema: z.object({
          items: z.array(z.object({ what: z.string(), deadline: z.string() }).loose()),
        }),
      },
    },
    async () => queries.overdueItems(ctx),
  );
}
