// Read-model row of a subproject's own state (status, procurement stage, contractor). Pure mapping.
import type { SubprojectStatus } from '../../workflows/program/decider';
import type { SubprojectCore } from '../../workflows/subproject/types';
import type { ReadModelViews } from '../store/event-store';

export function subprojectStatus(s: SubprojectCore): SubprojectStatus {
  switch (s.stage) {
    case 'unprocured': return 'planned';
    case 'awarded': return 'awarded';
    case 'contracted': return 'contracted';
    default: return 'tendering';
  }
}

export function projectSubproject(s: SubprojectCore): ReadModelViews {
  return { subproject_state: { program_code: s.programCode, seq: s.seq, status: subprojectStatus(s), stage: s.stage, contractor_org: s.award?.org ?? null } };
}
