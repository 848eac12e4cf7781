// A subproject's status and stage as people read them (the list, the program page, the read model).
import type { SubprojectStatus } from '../program/decider';
import { STAGE_NAMES } from './decider';
import { fullyDelivered } from './delivery';
import type { SubprojectCore } from './types';

export function subprojectStatus(s: SubprojectCore): SubprojectStatus {
  const d = s.delivery;
  if (d.terminated) return d.clawback?.settledAt ? 'settled' : 'terminated';
  switch (s.stage) {
    case 'unprocured':
      return 'planned';
    case 'awarded':
      return 'awarded';
    case 'contracted':
      if (fullyDelivered(s)) return 'accepted';
      return Object.values(d.milestones).some((m) => m.round > 0) ? 'in_progress' : 'contracted';
    case 'bidding':
    case 'closed':
    case 'opened':
    case 'publicity':
    case 'failed':
      return 'tendering';
    default: {
      const unknownStage: never = s.stage;
      throw new Error(`unknown stage ${String(unknownStage)}`);
    }
  }
}

/** The stage's Chinese name; a terminated subproject says where its clawback stands. */
export function stageName(s: SubprojectCore): string {
  if (s.delivery.terminated)
    return s.delivery.clawback?.settledAt ? '已终止，追回已结清' : '已终止，追回中';
  return STAGE_NAMES[s.stage];
}

export const SUBPROJECT_STATUS_NAMES: Record<SubprojectStatus, string> = {
  planned: '未采购',
  tendering: '采购中',
  awarded: '已定标',
  contracted: '已签协议',
  in_progress: '实施中',
  accepted: '已验收',
  terminated: '已终止，追回中',
  settled: '已终止，追回已结清',
};
