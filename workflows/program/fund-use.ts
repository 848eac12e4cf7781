// R-FUND-9: the periodic publication of the central funds' use (定期公开资金使用情况), per month or
// quarter: per subproject, central funds budgeted, disbursed and recovered, in the period and to its
// end. The figures are facts from the ledger the caller reads and brings in the command (as the engine
// brings subprojects' statuses to AdvancePhase); the event keeps them, so the notice issued from it and
// the audit record say the same. Pure.
import type { Fen } from '../money';
import { addDays } from '../time';

export interface FundUsePeriod {
  /** "2020-07" (a month) or "2020-Q3" (a quarter) */
  key: string;
  kind: 'month' | 'quarter';
  /** "2020年7月", "2020年第三季度" */
  name: string;
  /** Beijing calendar days, both included */
  firstDay: string;
  lastDay: string;
}

export interface FundUseRow {
  /** null: the parcel subsidies (R-FUND-6), paid from central funds outside the subprojects' rows */
  seq: number | null;
  name: string;
  /** central funds in the budget table; null for the parcel subsidies (a cap, not a row) */
  budget: Fen | null;
  disbursedInPeriod: Fen;
  disbursedToDate: Fen;
  recoveredInPeriod: Fen;
  recoveredToDate: Fen;
}

const QUARTER_NAMES = ['一', '二', '三', '四'];
const pad = (n: number) => String(n).padStart(2, '0');
const year = (y: number) => String(y).padStart(4, '0');
const lastDayOf = (y: number, m: number) =>
  addDays(m === 12 ? `${year(y + 1)}-01-01` : `${year(y)}-${pad(m + 1)}-01`, -1);

/** The period a key names, or null when it names none ("2020-13", "2020-Q5", "July"). */
export function fundUsePeriod(key: string): FundUsePeriod | null {
  // years a ledger can hold (the schema's range): "0178-Q4" names no period
  const month = /^(19[7-9]\d|2\d{3})-(0[1-9]|1[0-2])$/.exec(key);
  if (month) {
    const [y, m] = [Number(month[1]), Number(month[2])];
    return {
      key,
      kind: 'month',
      name: `${y}年${m}月`,
      firstDay: `${y}-${pad(m)}-01`,
      lastDay: lastDayOf(y, m),
    };
  }
  const quarter = /^(19[7-9]\d|2\d{3})-Q([1-4])$/.exec(key);
  if (quarter) {
    const [y, q] = [Number(quarter[1]), Number(quarter[2])];
    return {
      key,
      kind: 'quarter',
      name: `${y}年第${QUARTER_NAMES[q - 1]}季度`,
      firstDay: `${y}-${pad(q * 3 - 2)}-01`,
      lastDay: lastDayOf(y, q * 3),
    };
  }
  return null;
}

/** The rows' sums (the parcel row has no budget: its cap is not part of the table's central total). */
export function fundUseTotals(rows: FundUseRow[]) {
  const sum = (f: (r: FundUseRow) => number) => rows.reduce((n, r) => n + f(r), 0);
  return {
    budget: sum((r) => r.budget ?? 0),
    disbursedInPeriod: sum((r) => r.disbursedInPeriod),
    disbursedToDate: sum((r) => r.disbursedToDate),
    recoveredInPeriod: sum((r) => r.recoveredInPeriod),
    recoveredToDate: sum((r) => r.recoveredToDate),
  };
}
