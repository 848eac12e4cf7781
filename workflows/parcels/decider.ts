// Parcel subsidy claims (R-FUND-6, Shicheng): a logistics business claims its outbound rural-product
// parcels for a quarter with e-waybill evidence; after review it is paid per parcel within its yearly
// cap and the program's total cap, in part when a cap binds (the reason is stated). Pure.
import {
  assertNever,
  conflict as conflictWith,
  DomainError,
  forbidden,
  invalid as invalidInput,
  notFound,
} from '../errors';
import { formatYuan, sumFen, wanText, type Fen } from '../money';
import type { CommandContext, Decide, Funding } from '../program/types';
import { checkProgramRemaining } from '../subproject/delivery';
import { beijingText } from '../time';

export interface ParcelRule {
  perParcel: Fen;
  perBusinessPerYear: Fen;
  total: Fen;
  reviewEvery: string;
  eligible: string;
}

export interface ParcelClaim {
  id: string;
  business: string;
  quarter: string; // 2020Q1
  year: number;
  parcels: number;
  file: string; // SHA-256 of the e-waybill CSV
  submittedBy: string;
  submittedAt: string;
  status: 'submitted' | 'approved' | 'rejected' | 'paid';
  review: null | {
    by: string;
    at: string;
    eligibleParcels: number;
    gross: Fen;
    payable: Fen;
    partialReason: string | null;
    reason: string | null;
  };
  payment: null | { by: string; at: string; idempotencyKey: string };
}

export interface ParcelScheme {
  status: 'active';
  programCode: string;
  rule: ParcelRule;
  claims: ParcelClaim[];
}
export type ParcelState = { status: 'empty' } | ParcelScheme;

export type ParcelCommand =
  /** duplicates: waybill numbers of this file already claimed before, or repeated within it (facts the engine finds) */
  | {
      type: 'SubmitParcelClaim';
      programCode: string;
      rule: ParcelRule | null;
      quarter: string;
      parcels: number;
      file: string;
      duplicates: string[];
    }
  | {
      type: 'ReviewParcelClaim';
      claimId: string;
      decision: 'approve' | 'reject';
      eligibleParcels: number | null;
    }
  /** programRemaining: the program's budget per source minus what has been paid net of recoveries
   *  (facts from the ledger); parcel subsidies are paid from central funds (R-FUND-7) */
  | { type: 'PayParcelClaim'; claimId: string; idempotencyKey: string; programRemaining: Funding };

export type ParcelEvent =
  | { type: 'ParcelSchemeOpened'; data: { programCode: string; rule: ParcelRule; at: string } }
  | {
      type: 'ParcelClaimSubmitted';
      data: {
        id: string;
        business: string;
        quarter: string;
        year: number;
        parcels: number;
        file: string;
        by: string;
        at: string;
      };
    }
  | {
      type: 'ParcelClaimReviewed';
      data: {
        id: string;
        decision: 'approve' | 'reject';
        by: string;
        at: string;
        eligibleParcels: number;
        gross: Fen;
        payable: Fen;
        partialReason: string | null;
        reason: string | null;
      };
    }
  | {
      type: 'ParcelClaimPaid';
      data: {
        id: string;
        business: string;
        amount: Fen;
        by: string;
        at: string;
        idempotencyKey: string;
      };
    };

const QUARTER = /^(\d{4})Q([1-4])$/;
const conflict = (zh: string, en: string) => conflictWith('R-FUND-6', zh, en);
const invalid = (zh: string, en: string, field: string) => invalidInput(zh, en, field);

/** What has been approved for a business in a year, and for the whole program. */
export function approvedSoFar(claims: ParcelClaim[], business?: string, year?: number): Fen {
  return sumFen(
    claims
      .filter(
        (c) =>
          (c.status === 'approved' || c.status === 'paid') &&
          (business === undefined || c.business === business) &&
          (year === undefined || c.year === year),
      )
      .map((c) => c.review!.payable),
  );
}

/** The part of the decider for one command type, decided on parcels in state `S`. */
type On<S, T extends ParcelCommand['type']> = Decide<S, ParcelCommand, ParcelEvent, T>;

/** R-FUND-6: a registered business claims a quarter once, with e-waybills not claimed before; the
 *  first claim opens the program's scheme. */
const decideSubmitParcelClaim: On<ParcelState, 'SubmitParcelClaim'> = (state, cmd, ctx) => {
  const { opened, claims } = schemeFor(state, cmd, ctx.now);
  const business = ctx.actor.org;
  if (!business)
    throw forbidden(
      'R-FUND-6',
      '申报单位须为已登记的物流企业',
      'a claimant must belong to an organisation',
    );
  const m = QUARTER.exec(cmd.quarter);
  if (!m) throw invalid('季度格式应为 2020Q1', 'quarter must look like 2020Q1', 'quarter');
  if (cmd.parcels <= 0)
    throw invalid(
      '电子运单文件中没有运单号',
      'the e-waybill file lists no waybill numbers',
      'file',
    );
  if (cmd.duplicates.length) throw duplicated(cmd.duplicates);
  if (
    claims.some(
      (c) => c.business === business && c.quarter === cmd.quarter && c.status !== 'rejected',
    )
  )
    throw conflict(
      `${business} 已申报 ${cmd.quarter} 的补贴`,
      `${business} already claimed for ${cmd.quarter}`,
    );
  const data = {
    id: `C${claims.length + 1}`,
    business,
    quarter: cmd.quarter,
    year: Number(m[1]),
    parcels: cmd.parcels,
    file: cmd.file,
    by: ctx.actor.username,
    at: ctx.now,
  };
  return [...opened, { type: 'ParcelClaimSubmitted', data }];
};

/** R-FUND-6: the claims so far, or the scheme its first claim opens (if the program has one). */
function schemeFor(
  state: ParcelState,
  cmd: Extract<ParcelCommand, { type: 'SubmitParcelClaim' }>,
  now: string,
): { opened: ParcelEvent[]; claims: ParcelClaim[] } {
  if (state.status !== 'empty') return { opened: [], claims: state.claims };
  if (!cmd.rule)
    throw conflict(
      '本项目没有快递物流补贴政策（parcelSubsidy）',
      'this program has no parcel subsidy',
    );
  const data = { programCode: cmd.programCode, rule: cmd.rule, at: now };
  return { opened: [{ type: 'ParcelSchemeOpened', data }], claims: [] };
}

/** R-FUND-6: waybill numbers claimed before or repeated within the file. */
function duplicated(duplicates: string[]): DomainError {
  const shown = duplicates.slice(0, 10).join('、');
  return new DomainError(
    'R-FUND-6',
    'rule',
    `运单号重复申报，不予受理：${shown}${duplicates.length > 10 ? ` 等 ${duplicates.length} 个` : ''}`,
    `${duplicates.length} waybill number(s) already claimed or repeated: ${duplicates.slice(0, 10).join(', ')}`,
    { field: 'file', figures: { duplicates: duplicates.length, first: duplicates[0] } },
  );
}

/** R-FUND-6: an approval, in part when a cap binds, or a rejection with its reason. */
const decideReviewParcelClaim: On<ParcelScheme, 'ReviewParcelClaim'> = (s, cmd, ctx) => {
  const c = claimOf(s, cmd.claimId);
  if (c.status !== 'submitted')
    throw conflict(`申报 ${c.id} 已审核`, `claim ${c.id} is already reviewed`);
  if (cmd.decision === 'reject') {
    if (!ctx.reason) throw invalid('不予补贴须说明理由', 'a rejection needs a reason', 'reason');
    const nothing = { eligibleParcels: 0, gross: 0, payable: 0, partialReason: null };
    return [reviewed(c, 'reject', nothing, ctx.reason, ctx)];
  }
  const eligible = cmd.eligibleParcels ?? c.parcels;
  if (!Number.isSafeInteger(eligible) || eligible < 0 || eligible > c.parcels)
    throw invalid(
      `核定件数须在 0～${c.parcels} 之间`,
      `eligible parcels must be 0..${c.parcels}`,
      'eligibleParcels',
    );
  return [reviewed(c, 'approve', subsidy(s, c, eligible), ctx.reason ?? null, ctx)];
};

type Subsidy = Pick<
  NonNullable<ParcelClaim['review']>,
  'eligibleParcels' | 'gross' | 'payable' | 'partialReason'
>;

/** R-FUND-6: per parcel within the business's yearly cap and the program's total cap; when a cap
 *  binds, the part paid and which cap. */
function subsidy(s: ParcelScheme, c: ParcelClaim, eligible: number): Subsidy {
  const r = s.rule;
  const gross = eligible * r.perParcel;
  const bizLeft = Math.max(0, r.perBusinessPerYear - approvedSoFar(s.claims, c.business, c.year));
  const totalLeft = Math.max(0, r.total - approvedSoFar(s.claims));
  const payable = Math.min(gross, bizLeft, totalLeft);
  let partialReason: string | null = null;
  if (payable < gross) {
    partialReason =
      bizLeft <= totalLeft
        ? `按每件 ${formatYuan(r.perParcel)} 元计 ${wanText(gross)}，超过单个企业年度补贴上限 ${wanText(r.perBusinessPerYear)}（${c.year} 年已核定 ${wanText(r.perBusinessPerYear - bizLeft)}），本次补贴 ${wanText(payable)}`
        : `按每件 ${formatYuan(r.perParcel)} 元计 ${wanText(gross)}，超过全县补贴总额上限 ${wanText(r.total)} 的剩余额度，本次补贴 ${wanText(payable)}`;
  }
  return { eligibleParcels: eligible, gross, payable, partialReason };
}

/** R-FUND-6: the review as recorded, approval or rejection alike. */
function reviewed(
  c: ParcelClaim,
  decision: 'approve' | 'reject',
  figures: Subsidy,
  reason: string | null,
  ctx: CommandContext,
): ParcelEvent {
  const data = { id: c.id, decision, by: ctx.actor.username, at: ctx.now, ...figures, reason };
  return { type: 'ParcelClaimReviewed', data };
}

/** R-FUND-7: an approved claim is paid once (a repeated request with the same key pays nothing more),
 *  never beyond what is left of the program's central funds. */
const decidePayParcelClaim: On<ParcelScheme, 'PayParcelClaim'> = (s, cmd, ctx) => {
  const c = claimOf(s, cmd.claimId);
  const unpayable = (zh: string, en: string) => conflictWith('R-FUND-7', zh, en);
  if (c.status === 'paid') {
    if (c.payment!.idempotencyKey === cmd.idempotencyKey) return [];
    throw unpayable(
      `申报 ${c.id} 的补贴已于 ${beijingText(c.payment!.at)} 拨付`,
      `claim ${c.id} is already paid`,
    );
  }
  if (c.status !== 'approved')
    throw unpayable(`申报 ${c.id} 尚未审核通过，不能拨付`, `claim ${c.id} is not approved`);
  const amount = c.review!.payable;
  if (amount === 0) throw unpayable(`申报 ${c.id} 核定补贴为0`, `claim ${c.id} has nothing to pay`);
  checkProgramRemaining('central', amount, cmd.programRemaining);
  return [
    {
      type: 'ParcelClaimPaid',
      data: {
        id: c.id,
        business: c.business,
        amount,
        by: ctx.actor.username,
        at: ctx.now,
        idempotencyKey: cmd.idempotencyKey,
      },
    },
  ];
};

function scheme(state: ParcelState): ParcelScheme {
  if (state.status === 'empty') throw notFound('没有补贴申报', 'no claims');
  return state;
}
function claimOf(s: ParcelScheme, id: string): ParcelClaim {
  const c = s.claims.find((x) => x.id === id);
  if (!c) throw notFound(`申报 ${id} 不存在`, `claim ${id} not found`);
  return c;
}

export function decideParcels(
  state: ParcelState,
  cmd: ParcelCommand,
  ctx: CommandContext,
): ParcelEvent[] {
  switch (cmd.type) {
    case 'SubmitParcelClaim':
      return decideSubmitParcelClaim(state, cmd, ctx);
    case 'ReviewParcelClaim':
      return decideReviewParcelClaim(scheme(state), cmd, ctx);
    case 'PayParcelClaim':
      return decidePayParcelClaim(scheme(state), cmd, ctx);
    default:
      return assertNever(cmd, 'command');
  }
}

export function evolveParcels(state: ParcelState, e: ParcelEvent): ParcelState {
  if (e.type === 'ParcelSchemeOpened')
    return { status: 'active', programCode: e.data.programCode, rule: e.data.rule, claims: [] };
  if (state.status === 'empty') return state;
  const patch = (id: string, f: (c: ParcelClaim) => ParcelClaim) => ({
    ...state,
    claims: state.claims.map((c) => (c.id === id ? f(c) : c)),
  });
  switch (e.type) {
    case 'ParcelClaimSubmitted': {
      const d = e.data;
      return {
        ...state,
        claims: [
          ...state.claims,
          {
            id: d.id,
            business: d.business,
            quarter: d.quarter,
            year: d.year,
            parcels: d.parcels,
            file: d.file,
            submittedBy: d.by,
            submittedAt: d.at,
            status: 'submitted',
            review: null,
            payment: null,
          },
        ],
      };
    }
    case 'ParcelClaimReviewed': {
      const d = e.data;
      return patch(d.id, (c) => ({
        ...c,
        status: d.decision === 'approve' ? 'approved' : 'rejected',
        review: {
          by: d.by,
          at: d.at,
          eligibleParcels: d.eligibleParcels,
          gross: d.gross,
          payable: d.payable,
          partialReason: d.partialReason,
          reason: d.reason,
        },
      }));
    }
    case 'ParcelClaimPaid':
      return patch(e.data.id, (c) => ({
        ...c,
        status: 'paid',
        payment: { by: e.data.by, at: e.data.at, idempotencyKey: e.data.idempotencyKey },
      }));
    default:
      return assertNever(e, 'event');
  }
}

export const parcelsDecider = {
  streamType: 'parcels',
  initialState: { status: 'empty' } as ParcelState,
  decide: decideParcels,
  evolve: evolveParcels,
} as const;
