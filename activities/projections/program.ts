// Read-model rows (snake_case, as the tables' columns) for a program's state. Pure mapping.
import type { ActiveProgram } from '../../workflows/program/decider';
import { SOURCES } from '../../workflows/program/types';
import { sumFen } from '../../workflows/money';
import type { ReadModelViews } from '../store/event-store';

/** `created`: the subproject rows are written once, with the program (their definitions never change; status,
 * stage and contractor are owned by each subproject's stream), so later program commands lock none of them. */
export function projectProgram(
  s: ActiveProgram,
  version: number,
  now: string,
  created: boolean,
): ReadModelViews {
  const d = s.def;
  const phase = d.phases[s.phaseIndex] ?? null;
  return {
    program: {
      code: d.code,
      name: d.name,
      province: d.province,
      county: d.county,
      year: d.year,
      phase_key: phase?.key ?? 'closed',
      phase_name: phase?.name ?? '已结束',
      phase_index: s.phaseIndex,
      phase_end: phase?.end ?? null,
      status: s.status,
      central_fen: d.totals.central,
      local_fen: d.totals.local,
      enterprise_fen: d.totals.enterprise,
      total_fen: sumFen(SOURCES.map((src) => d.totals[src])),
      version,
      created_at: s.createdAt,
      updated_at: now,
    },
    ...(created
      ? {
          subprojects: d.subprojects.map((sp) => ({
            program_code: d.code,
            seq: sp.seq,
            name: sp.name,
            direction: sp.direction,
            procurement: sp.procurement,
            deadline: sp.deadline,
            status: s.subprojects[sp.seq] ?? 'planned',
            central_fen: sp.funding.central,
            local_fen: sp.funding.local,
            enterprise_fen: sp.funding.enterprise,
            contractor_org: null,
            stage: 'unprocured', // owned by the subproject's stream once it exists
          })),
        }
      : {}),
  };
}
