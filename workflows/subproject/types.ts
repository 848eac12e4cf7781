// Subproject aggregate: procurement (R-TD-1..3) now; milestones and funds later. Money in fen.
import type { Fen } from '../money';
import type {
  DocumentRef,
  Funding,
  Policy,
  PublicSender,
  Source,
  SubprojectPlan,
  UnitCap,
} from '../program/types';

/** Facts about the program a subproject command needs; the engine reads them and passes them in. */
export interface ProgramFacts {
  code: string;
  phaseKey: string;
  phaseName: string;
  inImplementation: boolean; // the current phase is the one whose exit needs every subproject settled
  policy: Policy;
  plan: SubprojectPlan;
  unitCaps: UnitCap[];
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

export interface BidScore {
  org: string;
  score: number;
  comment: string | null;
} // score in hundredths (8575 = 85.75)

export interface Objection {
  id: string;
  by: string;
  org: string | null;
  text: string;
  at: string;
  resolution: null | { decision: 'upheld' | 'dismissed'; by: string; at: string; reason: string };
  /** raised by the public through the column (R-PUB-1): its receipt and optional contact */
  sender?: PublicSender | null;
}

export interface Tender {
  round: number;
  announcement: {
    title: string;
    number: string | null;
    qualifications: string[];
    documents: DocumentRef[];
  };
  openedAt: string;
  bidDeadline: string; // ISO instant
  biddingClosedAt: string | null; // the deadline timer fired
  bids: Bid[];
  opening: null | {
    at: string;
    by: string;
    invalid: { org: string; reason: string }[];
    validOrgs: string[];
  };
  failed: null | { at: string; reason: string }; // 流标
  scores: BidScore[] | null;
  candidate: null | {
    org: string;
    proposedAt: string;
    publicityEnds: string;
    publicityEndedAt: string | null;
    withdrawn: boolean;
  };
  objections: Objection[];
}

export interface MilestonePlan {
  key: string;
  title: string;
  deliverables: string[];
  due: string; // YYYY-MM-DD
  evidenceRequired: string[];
}
export interface Tranche {
  key: string;
  milestone: string;
  source: Source;
  amount: Fen;
}
export interface Contract {
  org: string;
  number: string | null;
  document: DocumentRef;
  signedAt: string;
  signedBy: string;
  milestones: MilestonePlan[];
  tranches: Tranche[];
}

export type ProcurementStage =
  | 'unprocured' // nothing started
  | 'bidding' // announcement out, bids until the deadline
  | 'closed' // deadline passed, waiting for the opening
  | 'opened' // bids opened, enough valid ones; scoring / proposing a candidate
  | 'publicity' // candidate publicity running (an open objection suspends the award)
  | 'failed' // 流标: re-tender
  | 'awarded' // contractor chosen (tender or designation)
  | 'contracted'; // contract signed

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
  award: null | {
    org: string;
    at: string;
    by: string;
    designated: boolean;
    reason: string | null;
    document: DocumentRef | null;
  };
  contract: Contract | null;
  createdAt: string;
  delivery: Delivery;
}
export type SubprojectState = { status: 'empty' } | SubprojectCore;

/** A stored evidence file (uploaded first; the milestone references it by its SHA-256). */
export interface FileRef {
  sha256: string;
  name: string;
  type: string;
  size: number;
}

export type MilestoneStatus =
  | 'planned' // nothing submitted yet
  | 'submitted' // waiting for the third party's pre-evaluation (R-AC-2)
  | 'pre_evaluated' // waiting for the office's decision
  | 'publicity' // accepted, 公示 running (R-AC-3); an open objection suspends release
  | 'accepted' // publicity over with no open objection: its tranches are releasable
  | 'rectifying' // rejected, 整改 until the deadline (R-AC-4)
  | 'failed'; // final rejection or missed deadline (R-AC-5)

export interface MilestoneSubmission {
  round: number;
  by: string;
  at: string;
  deliverable: string;
  counts: Record<string, number>;
  files: FileRef[];
  archive: Record<string, FileRef[]> | null;
}
export interface MilestoneState {
  key: string;
  status: MilestoneStatus;
  round: number; // submissions so far
  rejections: number;
  submissions: MilestoneSubmission[];
  evaluation: null | {
    by: string;
    at: string;
    opinion: string;
    findings: string[];
    recommendation: 'accept' | 'reject';
  };
  decisions: {
    round: number;
    decision: 'accept' | 'reject';
    by: string;
    at: string;
    reason: string | null;
    defects: string[];
  }[];
  publicity: null | { endsAt: string; endedAt: string | null; objections: Objection[] };
  rectification: null | { defects: string[]; deadline: string; orderedAt: string };
}

export interface Disbursement {
  id: string;
  idempotencyKey: string;
  requestHash: string;
  tranche: string;
  milestone: string;
  source: Source;
  amount: Fen;
  at: string;
  by: string;
}
export interface Clawback {
  reason: string;
  demandedAt: string;
  deadline: string;
  demanded: Funding;
  recovered: Funding;
  recoveries: {
    id: string;
    source: Source;
    amount: Fen;
    at: string;
    by: string;
    reference: string | null;
  }[];
  settledAt: string | null;
  overdueAt: string | null;
}
export interface Delivery {
  direction: string;
  unitCaps: { item: string; source: Source; perUnit: Fen }[]; // R-FUND-5 bounds for counted units
  milestones: Record<string, MilestoneState>;
  disbursements: Disbursement[];
  terminated: null | { at: string; reason: string };
  named: null | { org: string; at: string; reason: string };
  clawback: Clawback | null;
}
