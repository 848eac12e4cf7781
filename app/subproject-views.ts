// A subproject as a viewer may see it: the rules of what each viewer may read (sealed bids R-TD-1,
// R-TD-3) are in workflows/subproject/access.ts; these build the JSON views (money as {fen, wan}).
import { formatYuan, sumFen } from '../workflows/money';
import { SOURCES, SOURCE_NAMES, type Actor } from '../workflows/program/types';
import { liveBids, sealedBidCount } from '../workflows/subproject/access';
import { stageName, subprojectStatus } from '../workflows/subproject/status';
import {
  ledgerOf,
  MILESTONE_STATUS_NAMES,
  type SubprojectLedger,
} from '../workflows/subproject/delivery';
import type { Funding } from '../workflows/program/types';
import type { Bid, Objection, SubprojectCore, Tender } from '../workflows/subproject/types';
import { money } from './views';

export const bidView = (b: Bid) => ({
  org: b.org,
  price: { fen: b.price, yuan: formatYuan(b.price) },
  proposal: b.proposal,
  documents: b.documents,
  submittedBy: b.submittedBy,
  at: b.at,
});

/** An objection as a viewer may read it: one from the public (R-PUB-1) shows as 社会公众, and its
 * sender's receipt, name and phone only to the office and the supervisors (a contractor never learns who
 * objected to it). */
export function objectionView(o: Objection, viewer: Actor) {
  const { sender, ...rest } = o;
  if (!sender) return rest;
  const mayKnow = viewer.role === 'office' || viewer.role === 'supervisor';
  return {
    ...rest,
    by: '社会公众',
    public: true,
    ...(mayKnow
      ? { receipt: sender.receipt, contact: { name: sender.name, phone: sender.phone } }
      : {}),
  };
}

function tenderView(t: Tender, viewer: Actor) {
  const opened = t.opening !== null;
  const mine = viewer.org
    ? liveBids(t)
        .filter((b) => b.org === viewer.org)
        .map(bidView)
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
    objections: t.objections.map((o) => objectionView(o, viewer)),
    sealed: !opened,
    sealedBidCount: sealedBidCount(t, viewer),
  };
  if (viewer.role === 'contractor') {
    return {
      ...base,
      myBid: mine[0] ?? null,
      // the opening record (开标记录) is read out to all bidders: who bid and at what price
      openingRecord: opened
        ? liveBids(t).map((b) => ({
            org: b.org,
            price: { fen: b.price, yuan: formatYuan(b.price) },
          }))
        : null,
      scores: t.candidate ? t.scores : null,
    };
  }
  return {
    ...base,
    bids: opened ? liveBids(t).map(bidView) : null,
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
    stageName: stageName(s),
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
      publicity: m.publicity && {
        ...m.publicity,
        objections: m.publicity.objections.map((o) => objectionView(o, viewer)),
      },
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
