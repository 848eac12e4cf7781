// R-FUND-9: the periodic publication of the central funds' use (资金使用情况公开). The office publishes a
// month or a quarter once it is over; the figures are read here from the ledger (ledger_entry, the same
// rows the R-FUND-8 ledger and the fund chart read) and recorded by the program's FundUsePublished
// event, whose effect issues the numbered notice (文号, HTML and PDF) through the outbox like every other.
import { z } from 'zod';
import { invalid } from '../workflows/errors';
import { fundUsePeriod, type FundUsePeriod, type FundUseRow } from '../workflows/program/fund-use';
import type { ActiveProgram } from '../workflows/program/decider';
import { addDays } from '../workflows/time';
import type { AppContext } from './context';

export const FundUseBody = z
  .object({
    period: z
      .string()
      .trim()
      .regex(
        /^(19[7-9]\d|2\d{3})-((0[1-9]|1[0-2])|Q[1-4])$/,
        '期间写作 2020-07（月）或 2020-Q3（季度），年份 1970–2999',
      )
      .meta({ description: '公开的期间：月 YYYY-MM 或季度 YYYY-Qn', example: '2020-Q3' }),
    reason: z.string().max(2000).optional(),
  })
  .strict()
  .meta({ id: 'FundUseBody' });

/** The period a form or a request names (the schema has checked its form). */
export function periodOf(key: string): FundUsePeriod {
  const p = fundUsePeriod(key);
  if (!p) throw invalid('期间写作 2020-07（月）或 2020-Q3（季度）', `no period ${key}`, 'period');
  return p;
}

const PARCEL_ROW = '农村物流快递补贴（按件，R-FUND-6）';

/** The ledger's central funds per subproject for the period and to its end (Beijing calendar days). */
export async function fundUseRows(
  ctx: AppContext,
  p: ActiveProgram,
  period: FundUsePeriod,
): Promise<FundUseRow[]> {
  const from = new Date(`${period.firstDay}T00:00:00+08:00`);
  const until = new Date(`${addDays(period.lastDay, 1)}T00:00:00+08:00`);
  const { rows } = await ctx.pool.query<{
    seq: number | null;
    kind: string;
    in_period: string | null;
    to_date: string | null;
  }>(
    `SELECT seq, kind, SUM(amount_fen) FILTER (WHERE at >= $2) AS in_period, SUM(amount_fen) AS to_date
       FROM ledger_entry
      WHERE program_code = $1 AND source = 'central' AND at < $3
        AND kind IN ('disbursement', 'parcel_subsidy', 'recovery')
      GROUP BY seq, kind`,
    [p.def.code, from, until],
  );
  const fig = (seq: number | null, kinds: string[], col: 'in_period' | 'to_date') =>
    rows
      .filter((r) => r.seq === seq && kinds.includes(r.kind))
      .reduce((n, r) => n + Number(r[col] ?? 0), 0);
  const out: FundUseRow[] = p.def.subprojects.map((sp) => ({
    seq: sp.seq,
    name: sp.name,
    budget: sp.funding.central,
    disbursedInPeriod: fig(sp.seq, ['disbursement'], 'in_period'),
    disbursedToDate: fig(sp.seq, ['disbursement'], 'to_date'),
    recoveredInPeriod: fig(sp.seq, ['recovery'], 'in_period'),
    recoveredToDate: fig(sp.seq, ['recovery'], 'to_date'),
  }));
  if (rows.some((r) => r.kind === 'parcel_subsidy'))
    out.push({
      seq: null,
      name: PARCEL_ROW,
      budget: null,
      disbursedInPeriod: fig(null, ['parcel_subsidy'], 'in_period'),
      disbursedToDate: fig(null, ['parcel_subsidy'], 'to_date'),
      recoveredInPeriod: 0,
      recoveredToDate: 0,
    });
  return out;
}

/** The last quarter over at `now`: what the console's form offers first. */
export function lastEndedQuarter(now: string): string {
  const [y, m] = now.slice(0, 7).split('-').map(Number);
  const q = Math.floor((m - 1) / 3); // the current quarter's index, 0-based
  return q === 0 ? `${y - 1}-Q4` : `${y}-Q${q}`;
}
