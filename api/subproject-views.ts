// What each viewer may see of a subproject's procurement. Bids are sealed until opening (R-TD-1):
// before it nobody, the office included, sees another organisation's bid, not even how many there are;
// a bidder sees its own. After award, contractors of other organisations see nothing (R-TD-3).
import { formatYuan, sumFen } from '../workflows/money';
import { SOURCES, SOURCE_NAMES, type Actor } from '../workflows/program/types';
import { STAGE_NAMES } from '../workflows/subproject/decider';
import { subprojectStatus } from '../activities/projections/subproject';
import {
  ledgerOf,
  MILESTONE_STATUS_NAMES,
  type SubprojectLedger,
} from '../workflows/subproject/delivery';
import type { Funding } from '../workflows/program/types';
import type { Bid, SubprojectCore, Tender } from '../workflows/subproject/types';
import { money } from './views';

export const bidView = (b: Bid) => ({
  org: b.org,
  price: { fen: b.price, yuan: formatYuan(b.price) },
  proposal: b.proposal,
  documents: b.documents,
  submittedBy: b.submittedBy,
  at: b.at,
});

function tenderView(t: Tender, viewer: Actor) {
  const opened = t.opening !== null;
  const mine = viewer.org
    ? t.bids.filter((b) => !b.withdrawn && b.org === viewer.org).map(bidView)
    : [];
  const base = {
    round: t.round,
    announcement: t.announcement,
    openedAt: t.openedAt,
    bidDeadline: t.bidDeadline,
    biddingClosedAt: t.biddingClosedAt,
    opening: t.opening,
    failed: t.failed,
    candidate: t.candidate,
    objections: t.objections,
    sealed: !opened,
  };
  if (viewer.role === 'contractor') {
    return {
      ...base,
      myBid: mine[0] ?? null,
      // the opening record (开标记录) is read out to all bidders: who bid and at what price
      openingRecord: opened
        ? t.bids
            .filter((b) => !b.withdrawn)
            .map((b) => ({ org: b.org, price: { fen: b.price, yuan: formatYuan(b.price) } }))
        : null,
      scores: t.candidate ? t.scores : null,
    };
  }
  return {
    ...base,
    bids: opened ? t.bids.filter((b) => !b.withdrawn).map(bidView) : null,
    scores: t.scores,
  };
}

export function subprojectView(s: SubprojectCore, viewer: Actor, version: number) {
  return {
    programCode: s.programCode,
    seq: s.seq,
    name: s.name,
    procurement: s.procurement,
    version,
    stage: s.stage,
    stageName: s.delivery.terminated
      ? s.delivery.clawback?.settledAt
        ? '已终止，追回已结清'
        : '已终止，追回中'
      : STAGE_NAMES[s.stage],
    status: subprojectStatus(s),
    budget: {
      bySource: SOURCES.map((src) => ({
        source: src,
        name: SOURCE_NAMES[src],
        ...money(s.budget[src]),
      })),
      total: money(sumFen(SOURCES.map((src) => s.budget[src]))),
    },
    tenders: s.tenders.map((t) => tenderView(t, viewer)),
    award: s.award,
    contract: s.contract && {
      ...s.contract,
      tranches: s.contract.tranches.map((t) => ({
        ...t,
        amount: money(t.amount),
        sourceName: SOURCE_NAMES[t.source],
      })),
    },
    milestones: Object.values(s.delivery.milestones).map((m) => ({
      ...m,
      statusName: MILESTONE_STATUS_NAMES[m.status],
    })),
    disbursements: s.delivery.disbursements.map((d) => ({ ...d, amount: money(d.amount) })),
    terminated: s.delivery.terminated,
    named: s.delivery.named,
    clawback: s.delivery.clawback && {
      ...s.delivery.clawback,
      demanded: fundingMoney(s.delivery.clawback.demanded),
      recovered: fundingMoney(s.delivery.clawback.recovered),
      recoveries: s.delivery.clawback.recoveries.map((r) => ({ ...r, amount: money(r.amount) })),
    },
    ledger: ledgerView(ledgerOf(s)),
  };
}

const fundingMoney = (f: Funding) => Object.fromEntries(SOURCES.map((src) => [src, money(f[src])]));

/** Ledger per source and in total, money as {fen, wan}. */
export function ledgerView(L: SubprojectLedger) {
  const rows = Object.entries(L) as [keyof SubprojectLedger, Funding][];
  return {
    bySource: SOURCES.map((src) => ({
      source: src,
      name: SOURCE_NAMES[src],
      ...Object.fromEntries(rows.map(([k, f]) => [k, money(f[src])])),
    })),
    total: Object.fromEntries(
      rows.map(([k, f]) => [k, money(sumFen(SOURCES.map((src) => f[src])))]),
    ),
  };
}

/** Event data as a viewer may see it: bid contents stay sealed until that round's opening. */
export function redactEvent(
  type: string,
  data: Record<string, unknown>,
  openedRounds: Set<number>,
): Record<string, unknown> {
  if (type === 'BidSubmitted' && !openedRounds.has(Number(data.round))) {
    return { round: data.round, sealed: true, at: data.at };
  }
  if (type === 'BidWithdrawn' && !openedRounds.has(Number(data.round)))
    return { round: data.round, sealed: true, at: data.at };
  if (type === 'BiddingClosed' && !openedRounds.has(Number(data.round)))
    return { round: data.round, at: data.at };
  return data;
}
