// What a subproject command needs to know about its program, read from the program's state.
import { notFound } from '../errors';
import type { ProgramFacts } from '../subproject/types';
import type { ProgramState } from './decider';
import { gatesOf } from './types';

export function programFacts(p: ProgramState, seq: number): ProgramFacts {
  if (p.status === 'empty') throw notFound('综合示范项目不存在', 'program not found');
  const plan = p.def.subprojects.find((s) => s.seq === seq);
  if (!plan) throw notFound(`分项目 ${seq} 不存在`, `subproject ${seq} not found`);
  const phase = p.def.phases[p.phaseIndex];
  return {
    code: p.def.code,
    phaseKey: phase?.key ?? 'closed',
    phaseName: phase?.name ?? '已结束',
    // The implementation phase is the one whose exit needs every subproject settled (组织实施 / 项目建设与验收).
    inImplementation:
      p.status === 'active' && !!phase && gatesOf(phase).includes('subprojects_settled'),
    policy: p.def.policy,
    plan,
    unitCaps: p.def.unitCaps,
  };
}
