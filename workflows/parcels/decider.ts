// Parcel subsidy claims (R-FUND-6, Shicheng): a logistics business claims its outbound rural-product
// parcels for a quarter with e-waybill evidence; after review it is paid per parcel within its yearly
// cap and the program's total cap, in part when a cap binds (the reason is stated). Pure.
import { DomainError } from '../errors';
import { formatYuan, sumFen, wanText, type Fen } from '../money';
import type { CommandContext } from '../program/types';
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

export type ParcelState =
  | { status: 'empty' }
  | { status: 'active'; programCode: string; rule: ParcelRule; claims: ParcelClaim[] };

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
  | { type: 'PayParcelClaim'; claimId: string; idempotencyKey: string };

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
const conflict = (zh: string, en: string) => new DomainError('R-FUND-6', 'conflict', zh, en);

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

export function decideParcels(
  state: ParcelState,
  cmd: ParcelCommand,
  ctx: CommandContext,
): ParcelEvent[] {
  const now = ctx.now;
  const by = ctx.actor.username;
  switch (cmd.type) {
    case 'SubmitParcelClaim': {
      const opened: ParcelEvent[] = [];
      let claims: ParcelClaim[] = [];
      if (state.status === 'empty') {
        if (!cmd.rule)
          throw new DomainError(
            'R-FUND-6',
            'conflict',
            '本项目没有快递物流补贴政策（parcelSubsidy）',
            'this program has no parcel subsidy',
          );
        opened.push({
          type: 'ParcelSchemeOpened',
          data: { programCode: cmd.programCode, rule: cmd.rule, at: now },
        });
      } else claims = state.claims;
      const business = ctx.actor.org;
      if (!business)
        throw new DomainError(
          'R-FUND-6',
          'forbidden',
          '申报单位须为已登记的物流企业',
          'a claimant must belong to an organisation',
        );
      const m = QUARTER.exec(cmd.quarter);
      if (!m)
        throw new DomainError(
          'INVALID-INPUT',
          'invalid',
          '季度格式应为 2020Q1',
          'quarter must look like 2020Q1',
          { field: 'quarter' },
        );
      if (cmd.parcels <= 0)
        throw new DomainError(
          'INVALID-INPUT',
          'invalid',
          '电子运单文件中没有运单号',
          'the e-waybill file lists no waybill numbers',
          { field: 'file' },
        );
      if (cmd.duplicates.length) {
        const shown = cmd.duplicates.slice(0, 10).join('、');
        throw new DomainError(
          'R-FUND-6',
          'rule',
          `运单号重复申报，不予受理：${shown}${cmd.duplicates.length > 10 ? ` 等 ${cmd.duplicates.length} 个` : ''}`,
          `${cmd.duplicates.length} waybill number(s) already claimed or repeated: ${cmd.duplicates.slice(0, 10).join(', ')}`,
          {
            field: 'file',
            figures: { duplicates: cmd.duplicates.length, first: cmd.duplicates[0] },
          },
        );
      }
      if (
        claims.some(
          (c) => c.business === business && c.quarter === cmd.quarter && c.status !== 'rejected',
        )
      ) {
        throw conflict(
          `${business} 已申报 ${cmd.quarter} 的补贴`,
          `${business} already claimed for ${cmd.quarter}`,
        );
      }
      const id = `C${claims.length + 1}`;
      return [
        ...opened,
        {
          type: 'ParcelClaimSubmitted',
          data: {
            id,
            business,
            quarter: cmd.quarter,
            year: Number(m[1]),
            parcels: cmd.parcels,
            file: cmd.file,
            by,
            at: now,
          },
        },
      ];
    }
    case 'ReviewParcelClaim': {
      if (state.status === 'empty')
        throw new DomainError('NOT-FOUND', 'not_found', '没有补贴申报', 'no claims');
      const c = state.claims.find((x) => x.id === cmd.claimId);
      if (!c)
        throw new DomainError(
          'NOT-FOUND',
          'not_found',
          `申报 ${cmd.claimId} 不存在`,
          `claim ${cmd.claimId} not found`,
        );
      if (c.status !== 'submitted')
        throw conflict(`申报 ${c.id} 已审核`, `claim ${c.id} is already reviewed`);
      if (cmd.decision === 'reject') {
        if (!ctx.reason)
          throw new DomainError(
            'INVALID-INPUT',
            'invalid',
            '不予补贴须说明理由',
            'a rejection needs a reason',
            { field: 'reason' },
          );
        return [
          {
            type: 'ParcelClaimReviewed',
            data: {
              id: c.id,
              decision: 'reject',
              by,
              at: now,
              eligibleParcels: 0,
              gross: 0,
              payable: 0,
              partialReason: null,
              reason: ctx.reason,
            },
          },
        ];
      }
      const eligible = cmd.eligibleParcels ?? c.parcels;
      if (!Number.isSafeInteger(eligible) || eligible < 0 || eligible > c.parcels)
        throw new DomainError(
          'INVALID-INPUT',
          'invalid',
          `核定件数须在 0～${c.parcels} 之间`,
          `eligible parcels must be 0..${c.parcels}`,
          { field: 'eligibleParcels' },
        );
      const r = state.rule;
      const gross = eligible * r.perParcel;
      const bizLeft = Math.max(
        0,
        r.perBusinessPerYear - approvedSoFar(state.claims, c.business, c.year),
      );
      const totalLeft = Math.max(0, r.total - approvedSoFar(state.claims));
      const payable = Math.min(gross, bizLeft, totalLeft);
      let partialReason: string | null = null;
      if (payable < gross) {
        partialReason =
          bizLeft <= totalLeft
            ? `按每件 ${formatYuan(r.perParcel)} 元计 ${wanText(gross)}，超过单个企业年度补贴上限 ${wanText(r.perBusinessPerYear)}（${c.year} 年已核定 ${wanText(r.perBusinessPerYear - bizLeft)}），本次补贴 ${wanText(payable)}`
            : `按每件 ${formatYuan(r.perParcel)} 元计 ${wanText(gross)}，超过全县补贴总额上限 ${wanText(r.total)} 的剩余额度，本次补贴 ${wanText(payable)}`;
      }
      return [
        {
          type: 'ParcelClaimReviewed',
          data: {
            id: c.id,
            decision: 'approve',
            by,
            at: now,
            eligibleParcels: eligible,
            gross,
            payable,
            partialReason,
            reason: ctx.reason ?? null,
          },
        },
      ];
    }
    case 'PayParcelClaim': {
      if (state.status === 'empty')
        throw new DomainError('NOT-FOUND', 'not_found', '没有补贴申报', 'no claims');
      const c = state.claims.find((x) => x.id === cmd.claimId);
      if (!c)
        throw new DomainError(
          'NOT-FOUND',
          'not_found',
          `申报 ${cmd.claimId} 不存在`,
          `claim ${cmd.claimId} not found`,
        );
      if (c.status === 'paid') {
        if (c.payment!.idempotencyKey === cmd.idempotencyKey) return [];
        throw new DomainError(
          'R-FUND-7',
          'conflict',
          `申报 ${c.id} 的补贴已于 ${beijingText(c.payment!.at)} 拨付`,
          `claim ${c.id} is already paid`,
        );
      }
      if (c.status !== 'approved')
        throw new DomainError(
          'R-FUND-7',
          'conflict',
          `申报 ${c.id} 尚未审核通过，不能拨付`,
          `claim ${c.id} is not approved`,
        );
      if (c.review!.payable === 0)
        throw new DomainError(
          'R-FUND-7',
          'conflict',
          `申报 ${c.id} 核定补贴为0`,
          `claim ${c.id} has nothing to pay`,
        );
      return [
        {
          type: 'ParcelClaimPaid',
          data: {
            id: c.id,
            business: c.business,
            amount: c.review!.payable,
            by,
            at: now,
            idempotencyKey: cmd.idempotencyKey,
          },
        },
      ];
    }
    default: {
      const never: never = cmd;
      throw new Error(`unknown command ${(never as { type: string }).type}`);
    }
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
    default: {
      const never: never = e;
      throw new Error(`unknown event ${(never as { type: string }).type}`);
    }
  }
}

export const parcelsDecider = {
  streamType: 'parcels',
  initialState: { status: 'empty' } as ParcelState,
  decide: decideParcels,
  evolve: evolveParcels,
} as const;
