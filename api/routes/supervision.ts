// Supervision reads (R-PUB-2, R-PH-3): the national summary and the list of everything overdue.
import { z } from 'zod';
import { openDeadlines } from '../../activities/notify/reminders';
import { SOURCES } from '../../workflows/program/types';
import type { Api } from '../http';
import type { Services } from '../services';
import { money } from '../views';

export function supervisionRoutes(api: Api, svc: Services): void {
  const { pool } = svc;
  api.route(
    {
      method: 'get',
      path: '/api/summary',
      tags: ['supervision'],
      access: ['office', 'finance', 'supervisor'],
      summary: '全国（本库全部项目）汇总：各阶段项目数、分来源预算与资金流向、分项目状态',
      response: { description: '汇总', schema: z.object({ programs: z.number().int() }).loose() },
    },
    async () => {
      const [phases, budget, ledger, statuses] = await Promise.all([
        pool.query<{ phase_name: string; n: number }>(
          'SELECT phase_name, count(*)::int AS n FROM program GROUP BY phase_name ORDER BY n DESC',
        ),
        pool.query<{ central: string; local: string; enterprise: string; n: number }>(
          'SELECT sum(central_fen) AS central, sum(local_fen) AS local, sum(enterprise_fen) AS enterprise, count(*)::int AS n FROM program',
        ),
        pool.query<{ kind: string; source: string; fen: string }>(
          'SELECT kind, source, sum(amount_fen) AS fen FROM ledger_entry GROUP BY kind, source',
        ),
        pool.query<{ status: string; n: number }>(
          'SELECT status, count(*)::int AS n FROM subproject GROUP BY status ORDER BY status',
        ),
      ]);
      const b = budget.rows[0];
      const flow = (kind: string) =>
        Object.fromEntries(
          SOURCES.map((s) => [
            s,
            money(Number(ledger.rows.find((r) => r.kind === kind && r.source === s)?.fen ?? 0)),
          ]),
        );
      return {
        programs: b.n,
        byPhase: phases.rows.map((r) => ({ phase: r.phase_name, programs: r.n })),
        budget: Object.fromEntries(SOURCES.map((s) => [s, money(Number(b[s] ?? 0))])),
        disbursed: flow('disbursement'),
        clawbackDemanded: flow('clawback_demand'),
        recovered: flow('recovery'),
        parcelSubsidies: flow('parcel_subsidy'),
        subprojectsByStatus: Object.fromEntries(statuses.rows.map((r) => [r.status, r.n])),
      };
    },
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
    async () => {
      const now = svc.engine.clock.now().getTime();
      const items = (await openDeadlines(pool, new Date(now)))
        .filter((x) => Date.parse(x.deadline) < now)
        .sort((a, b) => a.deadline.localeCompare(b.deadline))
        .map((x) => ({
          programCode: x.programCode,
          what: x.what,
          deadline: x.deadline,
          party: x.party,
          daysOverdue: Math.ceil((now - Date.parse(x.deadline)) / 86_400_000),
        }));
      return { items, total: items.length };
    },
  );
}
