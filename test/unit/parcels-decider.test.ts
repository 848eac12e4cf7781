// Given/when/then over the parcel subsidy decider: paying an approved claim (R-FUND-7) on Shicheng's
// rule (0.5元 a parcel, ≤ 10万 per business a year, ≤ 100万 in all; R-FUND-6).
import {
  parcelsDecider,
  type ParcelCommand,
  type ParcelRule,
  type ParcelState,
} from '../../workflows/parcels/decider';
import type { Actor, CommandContext, Funding } from '../../workflows/program/types';
import { deciderSpec, type Step } from '../support/given-when-then';

const NOW = '2020-04-10T02:00:00.000Z';
const as = (actor: Actor): CommandContext => ({ now: NOW, actor });
const business = as({ username: 'yz1', role: 'contractor', org: '石城县邮政分公司' });
const office = as({ username: 'office1', role: 'office' });
const finance = as({ username: 'fin1', role: 'finance' });
const { when, run, refused } = deciderSpec(parcelsDecider, finance);

const shicheng: ParcelRule = {
  perParcel: 50,
  perBusinessPerYear: 10_000_000,
  total: 100_000_000,
  reviewEvery: 'quarter',
  eligible: 'outbound_rural_products',
};
/** C1: a business claims its 2020Q1 parcels. */
const submit = (parcels: number): Step<ParcelCommand> => [
  {
    type: 'SubmitParcelClaim',
    programCode: 'shicheng-2020',
    rule: shicheng,
    quarter: '2020Q1',
    parcels,
    file: 'sha-q1',
    duplicates: [],
  },
  business,
];
/** C1: 150,000 parcels approved in full: 7.5万 (7,500,000 分) payable. */
const approved = (): ParcelState =>
  run(parcelsDecider.initialState, [
    submit(150_000),
    [
      { type: 'ReviewParcelClaim', claimId: 'C1', decision: 'approve', eligibleParcels: null },
      office,
    ],
  ]);
const remaining = (central: number, others = 0): Funding => ({
  central,
  local: others,
  enterprise: others,
});
const pay = (programRemaining: Funding, idempotencyKey = 'k1'): ParcelCommand => ({
  type: 'PayParcelClaim',
  claimId: 'C1',
  idempotencyKey,
  programRemaining,
});

describe('R-FUND-7: a parcel subsidy is paid from what is left of the program central funds', () => {
  test('R-FUND-7: an approved claim within the remaining central funds is paid', () => {
    expect(when(approved(), pay(remaining(1_500_000_000)))).toEqual([
      {
        type: 'ParcelClaimPaid',
        data: {
          id: 'C1',
          business: '石城县邮政分公司',
          amount: 7_500_000,
          by: 'fin1',
          at: NOW,
          idempotencyKey: 'k1',
        },
      },
    ]);
  });
  test('R-FUND-7: a claim beyond the remaining central funds is refused (422), worded as for a tranche', () => {
    const e = refused(approved(), pay(remaining(7_499_999, 1_000_000_000)));
    expect(e).toMatchObject({
      code: 'R-FUND-7',
      kind: 'rule',
      message: '中央财政资金累计拨付将超过项目该来源预算（剩余 74,999.99 元，本次 75,000.00 元）',
      messageEn:
        "would exceed the program's central budget (74,999.99 yuan left, 75,000.00 yuan asked)",
    });
    expect(e.violations).toEqual([
      {
        rule: 'R-FUND-7',
        message: e.message,
        message_en: e.messageEn,
        field: undefined,
        figures: {
          source: 'central',
          remainingYuan: '74,999.99',
          requestedYuan: '75,000.00',
          remainingFen: 7_499_999,
          requestedFen: 7_500_000,
        },
      },
    ]);
  });
  test('R-FUND-7: exactly the remaining central funds is paid (the bound is inclusive)', () => {
    expect(when(approved(), pay(remaining(7_500_000))).map((e) => e.type)).toEqual([
      'ParcelClaimPaid',
    ]);
  });
  test('R-FUND-7: only central funds count: local and enterprise funds left do not matter', () => {
    expect(when(approved(), pay(remaining(7_500_000, 0))).map((e) => e.type)).toEqual([
      'ParcelClaimPaid',
    ]);
    expect(refused(approved(), pay(remaining(0, 1_000_000_000))).code).toBe('R-FUND-7');
  });
  test('R-FUND-7: the same request again pays nothing more, even with no central funds left', () => {
    const paid = run(approved(), [pay(remaining(7_500_000))]);
    expect(when(paid, pay(remaining(0)))).toEqual([]);
  });
  test('R-FUND-7: a claim paid under another key, or not approved, is refused (409)', () => {
    const paid = run(approved(), [pay(remaining(7_500_000))]);
    expect(refused(paid, pay(remaining(1_500_000_000), 'k2'))).toMatchObject({
      code: 'R-FUND-7',
      kind: 'conflict',
    });
    const submitted = run(parcelsDecider.initialState, [submit(10)]);
    expect(refused(submitted, pay(remaining(1_500_000_000))).message).toContain('尚未审核通过');
  });
});
