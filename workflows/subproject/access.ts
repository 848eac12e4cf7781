// Who may read or act on what of a subproject's procurement (pure rules, shared by every reader).
// R-TD-1: bids are sealed until the opening: before it nobody, the office included, reads another
// organisation's bid or learns who bid; a bidder reads its own; the office's tender desk (and the
// supervisor) counts the sealed envelopes that have arrived, and nobody else learns the number.
// R-TD-3: once awarded, a contractor of another organisation neither sees nor acts on the subproject.
import { forbidden, notFound } from '../errors';
import type { Actor } from '../program/types';
import type { Bid, SubprojectCore, SubprojectState, Tender } from './types';

/** R-TD-3, on the state a command is decided on or a view is built from. */
export function assertMayAccess(s: SubprojectState | null, actor: Actor): void {
  if (
    actor.role === 'contractor' &&
    s?.status === 'active' &&
    s.award &&
    s.award.org !== actor.org
  ) {
    throw forbidden(
      'R-TD-3',
      '该分项目已由其他单位承办，本单位无权查看或操作',
      'this subproject is awarded to another organisation',
    );
  }
}

/** The bids of a round that were not withdrawn. */
export const liveBids = (t: Tender): Bid[] => t.bids.filter((b) => !b.withdrawn);

/** The latest round's bids this viewer may read (R-TD-1): a contractor its own; anyone else all of
 * them, but only after the opening. */
export function readableBids(s: SubprojectCore, actor: Actor): { round: number; bids: Bid[] } {
  assertMayAccess(s, actor);
  const t = s.tenders[s.tenders.length - 1];
  if (!t) throw notFound('该分项目没有招标', 'no tender for this subproject');
  if (actor.role === 'contractor')
    return { round: t.round, bids: liveBids(t).filter((b) => b.org === actor.org) };
  if (!t.opening) {
    throw forbidden(
      'R-TD-1',
      '投标文件密封，开标前任何人不得查阅',
      'bids are sealed until the opening',
    );
  }
  return { round: t.round, bids: liveBids(t) };
}

/** R-TD-1: how many sealed bids have arrived, before the opening, for the tenderer's own desk only: the
 * office receives the sealed envelopes and the supervisor oversees it; nobody may tell the bidders
 * (招标投标法第二十二条: no disclosure of the number of bidders), so a contractor or the evaluator
 * gets null. After the opening the bids themselves are read. */
export function sealedBidCount(t: Tender, actor: Actor): number | null {
  if (t.opening || (actor.role !== 'office' && actor.role !== 'supervisor')) return null;
  return liveBids(t).length;
}

/** Rounds whose bids have been opened. */
export const openedRounds = (s: SubprojectState): Set<number> =>
  new Set(s.status === 'active' ? s.tenders.filter((t) => t.opening).map((t) => t.round) : []);

const SEALED_TYPES = new Set(['BidSubmitted', 'BidWithdrawn', 'BiddingClosed']);

/** An event as the audit view may show it: before its round's opening a bid event shows neither the
 * bid nor who made it (that would reveal the bidders and their number). */
export function redactEvent(
  e: { type: string; data: Record<string, unknown>; actor: string },
  opened: Set<number>,
): { data: Record<string, unknown>; actor: string } {
  const d = e.data;
  if (!SEALED_TYPES.has(e.type) || opened.has(Number(d.round))) return { data: d, actor: e.actor };
  const data =
    e.type === 'BiddingClosed'
      ? { round: d.round, at: d.at }
      : { round: d.round, sealed: true, at: d.at };
  return { data, actor: e.type === 'BiddingClosed' ? e.actor : '（密封）' };
}
