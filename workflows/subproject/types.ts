// Subproject aggregate: procurement (R-TD-1..3) now; milestones and funds later. Money in fen.
import type { Fen } from '../money';
import type { DocumentRef, Funding, Policy, Source, SubprojectPlan } from '../program/types';

/** Facts about the program a subproject command needs; the engine reads them and passes them in. */
export interface ProgramFacts {
  code: string;
  phaseKey: string;
  phaseName: string;
  inImplementation: boolean; // the current phase is the one whose exit needs every subproject settled
  policy: Policy;
  plan: SubprojectPlan;
}

export interface Bid {
  org: string;
  price: Fen;
  proposal: string;
  documents: DocumentRef[];
  submittedBy: string;
  at: string;
  withdrawn: boolean;
}

export interface BidScore { org: string; score: number; comment: string | null } // score in hundredths (8575 = 85.75)

export interface Objection { id: string; by: string; org: string | null; text: string; at: string; resolution: null | { decision: 'upheld' | 'dismissed'; by: string; at: string; reason: string } }

export interface Tender {
  round: number;
  announcement: { title: string; number: string | null; qualifications: string[]; documents: DocumentRef[] };
  openedAt: string;
  bidDeadline: string;           // ISO instant
  biddingClosedAt: string | null; // the deadline timer fired
  bids: Bid[];
  opening: null | { at: string; by: string; invalid: { org: string; reason: string }[]; validOrgs: string[] };
  failed: null | { at: string; reason: string }; // 流标
  scores: BidScore[] | null;
  candidate: null | { org: string; proposedAt: string; publicityEnds: string; publicityEndedAt: string | null; withdrawn: boolean };
  objections: Objection[];
}

export interface MilestonePlan {
  key: string;
  title: string;
  deliverables: string[];
  due: string; // YYYY-MM-DD
  evidenceRequired: string[];
}
export interface Tranche { key: string; milestone: string; source: Source; amount: Fen }
export interface Contract { org: string; number: string | null; document: DocumentRef; signedAt: string; signedBy: string; milestones: MilestonePlan[]; tranches: Tranche[] }

export type ProcurementStage =
  | 'unprocured'   // nothing started
  | 'bidding'      // announcement out, bids until the deadline
  | 'closed'       // deadline passed, waiting for the opening
  | 'opened'       // bids opened, enough valid ones; scoring / proposing a candidate
  | 'publicity'    // candidate publicity running (an open objection suspends the award)
  | 'failed'       // 流标: re-tender
  | 'awarded'      // contractor chosen (tender or designation)
  | 'contracted';  // contract signed

export interface SubprojectCore {
  status: 'active';
  programCode: string;
  seq: number;
  name: string;
  procurement: SubprojectPlan['procurement'];
  budget: Funding;
  policy: Policy;
  stage: ProcurementStage;
  tenders: Tender[];
  award: null | { org: string; at: string; by: string; designated: boolean; reason: string | null; document: DocumentRef | null };
  contract: Contract | null;
  createdAt: string;
}
export type SubprojectState = { status: 'empty' } | SubprojectCore;
