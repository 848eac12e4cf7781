// Read-model rows of a subproject's own state (status, stage, contractor), its ledger entries and
// its public notices. Pure mapping from state and the events just appended.
import { subprojectStatus } from '../../workflows/subproject/status';
import { SOURCES } from '../../workflows/program/types';
import type { SubprojectEvent } from '../../workflows/subproject/decider';
import type { SubprojectCore } from '../../workflows/subproject/types';
import type { ReadModelViews, StoredEvent } from '../store/event-store';

export function projectSubproject(
  s: SubprojectCore,
  events: StoredEvent<SubprojectEvent>[],
): ReadModelViews {
  const base = { program_code: s.programCode, seq: s.seq };
  const org = s.award?.org ?? null;
  const ledger: NonNullable<ReadModelViews['ledger_entries']> = [];
  const notices: NonNullable<ReadModelViews['notices']> = [];
  for (const e of events) {
    switch (e.type) {
      case 'TrancheReleased':
        ledger.push({
          ...base,
          version: e.version,
          kind: 'disbursement',
          source: e.data.source,
          amount_fen: e.data.amount,
          tranche: e.data.tranche,
          idempotency_key: e.data.idempotencyKey,
          org,
          at: e.data.at,
        });
        break;
      case 'RecoveryRecorded':
        ledger.push({
          ...base,
          version: e.version,
          kind: 'recovery',
          source: e.data.source,
          amount_fen: e.data.amount,
          tranche: null,
          idempotency_key: e.data.idempotencyKey,
          org,
          at: e.data.at,
        });
        break;
      case 'ClawbackDemanded': {
        const d = e.data;
        for (const src of SOURCES)
          if (d.demanded[src] > 0)
            ledger.push({
              ...base,
              version: e.version,
              kind: 'clawback_demand',
              source: src,
              amount_fen: d.demanded[src],
              tranche: null,
              idempotency_key: null,
              org,
              at: d.at,
            });
        break;
      }
      case 'ContractorNamed': {
        const d = e.data;
        notices.push({
          ...base,
          version: e.version,
          kind: 'public_naming',
          org: d.org,
          at: d.at,
          title: `关于${d.org}承办${d.subproject}未通过验收的通报`,
          body: `${d.org}承办的${d.subproject}${d.reason}。经领导小组办公室决定，终止该分项目，予以公开通报，并追回已拨付资金。`,
        });
        break;
      }
      // no ledger entry and no public notice row
      case 'SubprojectRegistered':
      case 'TenderOpened':
      case 'BidSubmitted':
      case 'BidWithdrawn':
      case 'BiddingClosed':
      case 'BidsOpened':
      case 'TenderFailed':
      case 'BidsScored':
      case 'CandidateProposed':
      case 'ObjectionRaised':
      case 'ObjectionResolved':
      case 'CandidatePublicityEnded':
      case 'ContractorAwarded':
      case 'ContractSigned':
      case 'MilestoneSubmitted':
      case 'MilestonePreEvaluated':
      case 'MilestoneAccepted':
      case 'RectificationOrdered':
      case 'AcceptanceObjectionRaised':
      case 'AcceptanceObjectionResolved':
      case 'AcceptancePublicityEnded':
      case 'MilestoneFailed':
      case 'SubprojectTerminated':
      case 'ClawbackSettled':
      case 'ClawbackOverdue':
        break;
      default: {
        const _unhandled: never = e; // the compiler checks that every subproject event is listed above
      }
    }
  }
  return {
    subproject_state: { ...base, status: subprojectStatus(s), stage: s.stage, contractor_org: org },
    ...(ledger.length ? { ledger_entries: ledger } : {}),
    ...(notices.length ? { notices } : {}),
  };
}
