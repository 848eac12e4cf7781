// Read-model rows of a subproject's own state (status, stage, contractor), its ledger entries and
// its public notices. Pure mapping from state and the events just appended.
import { subprojectStatus } from '../../workflows/subproject/status';
import { SOURCES } from '../../workflows/program/types';
import type { SubprojectCore } from '../../workflows/subproject/types';
import type { ReadModelViews, StoredEvent } from '../store/event-store';

export function projectSubproject(s: SubprojectCore, events: StoredEvent[]): ReadModelViews {
  const base = { program_code: s.programCode, seq: s.seq };
  const org = s.award?.org ?? null;
  const ledger: NonNullable<ReadModelViews['ledger_entries']> = [];
  const notices: NonNullable<ReadModelViews['notices']> = [];
  for (const e of events) {
    const d = e.data as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    if (e.type === 'TrancheReleased')
      ledger.push({
        ...base,
        version: e.version,
        kind: 'disbursement',
        source: d.source,
        amount_fen: d.amount,
        tranche: d.tranche,
        idempotency_key: d.idempotencyKey,
        org,
        at: d.at,
      });
    if (e.type === 'RecoveryRecorded')
      ledger.push({
        ...base,
        version: e.version,
        kind: 'recovery',
        source: d.source,
        amount_fen: d.amount,
        tranche: null,
        idempotency_key: d.idempotencyKey,
        org,
        at: d.at,
      });
    if (e.type === 'ClawbackDemanded') {
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
    }
    if (e.type === 'ContractorNamed') {
      notices.push({
        ...base,
        version: e.version,
        kind: 'public_naming',
        org: d.org,
        at: d.at,
        title: `关于${d.org}承办${d.subproject}未通过验收的通报`,
        body: `${d.org}承办的${d.subproject}${d.reason}。经领导小组办公室决定，终止该分项目，予以公开通报，并追回已拨付资金。`,
      });
    }
  }
  return {
    subproject_state: { ...base, status: subprojectStatus(s), stage: s.stage, contractor_org: org },
    ...(ledger.length ? { ledger_entries: ledger } : {}),
    ...(notices.length ? { notices } : {}),
  };
}
