// The ledger (R-FUND-8) of a program: one row per subproject, and their sum per source. Pure.
import { sumFen } from '../money';
import { SOURCES, type Funding } from '../program/types';
import { ledgerOf, type SubprojectLedger } from './delivery';
import type { SubprojectState } from './types';

const zero = (): Funding => ({ central: 0, local: 0, enterprise: 0 });
const LEDGER_ROWS: (keyof SubprojectLedger)[] = [
  'budgeted',
  'contracted',
  'releasable',
  'disbursed',
  'clawbackDemanded',
  'recovered',
  'outstanding',
];

/** The ledger of a subproject nothing has been procured for yet: only its budget. */
export function plannedLedger(budget: Funding): SubprojectLedger {
  const L = Object.fromEntries(LEDGER_ROWS.map((k) => [k, zero()])) as unknown as SubprojectLedger;
  return { ...L, budgeted: { ...budget } };
}

/** R-FUND-6 parcel subsidies paid (central funds, outside any subproject) as a ledger row: disbursed
 * only, so the program's totals count them as the R-FUND-7 cap does. */
export function parcelLedger(paidFen: number): SubprojectLedger {
  const L = plannedLedger(zero());
  return { ...L, disbursed: { ...zero(), central: paidFen } };
}

/** A subproject's ledger from its state, or its planned ledger when its stream is still empty. */
export const ledgerOrPlanned = (s: SubprojectState, budget: Funding): SubprojectLedger =>
  s.status === 'active' ? ledgerOf(s) : plannedLedger(budget);

/** Row by row, source by source, the sum of several ledgers. */
export function sumLedgers(ledgers: SubprojectLedger[]): SubprojectLedger {
  return Object.fromEntries(
    LEDGER_ROWS.map((k) => [
      k,
      Object.fromEntries(SOURCES.map((src) => [src, sumFen(ledgers.map((L) => L[k][src]))])),
    ]),
  ) as unknown as SubprojectLedger;
}
