// Shared by the procurement and delivery routes: load a subproject, guard R-TD-3, run a command and
// answer with the viewer's view of the result.
import { programAggregate, subprojectAggregate, subprojectKey } from '../../engine/aggregates';
import { DomainError } from '../../workflows/errors';
import { programFacts } from '../../workflows/program/facts';
import type { Actor } from '../../workflows/program/types';
import type { SubprojectCommand } from '../../workflows/subproject/decider';
import type { SubprojectCore, SubprojectState } from '../../workflows/subproject/types';
import type { CommandMeta } from '../../engine/engine';
import { CommandAnswer } from '../http';
import type { Services } from '../services';
import { subprojectView } from '../subproject-views';

export function subprojectCommands(svc: Services) {
  const { engine, prisma } = svc;
  async function load(code: string, seq: number) {
    return engine.read(subprojectAggregate, subprojectKey(code, seq));
  }
  /** R-TD-3: once awarded, a contractor of another organisation neither sees nor acts on the subproject. */
  function guard(s: SubprojectCore | null, actor: Actor): void {
    if (actor.role === 'contractor' && s?.award && s.award.org !== actor.org) {
      throw new DomainError(
        'R-TD-3',
        'forbidden',
        '该分项目已由其他单位承办，本单位无权查看或操作',
        'this subproject is awarded to another organisation',
      );
    }
  }
  async function command(
    code: string,
    seq: number,
    cmd: SubprojectCommand,
    actor: Actor,
    reasonText?: string,
    extra: Partial<CommandMeta> = {},
  ) {
    let empty = false;
    const precheck = (state: unknown) => {
      const s = state as SubprojectState;
      guard(s.status === 'active' ? s : null, actor); // R-TD-3, on the state the command will be decided on
      empty = s.status === 'empty';
    };
    let r;
    try {
      r = await engine.execute(subprojectAggregate, subprojectKey(code, seq), cmd, {
        actor,
        reason: reasonText,
        precheck,
        ...extra,
      });
    } catch (e) {
      // distinguish "no such program or subproject" from "nothing procured yet"
      if (empty && cmd.type !== 'OpenTender' && cmd.type !== 'DesignateContractor')
        programFacts((await engine.read(programAggregate, code)).state, seq);
      throw e;
    }
    const done = r;
    return new CommandAnswer(
      done.version,
      done.events.map((e) => ({ version: e.version, type: e.type })),
      () => subprojectView(done.state as SubprojectCore, actor, done.version),
    );
  }
  const facts = async (code: string, seq: number) =>
    programFacts((await engine.read(programAggregate, code)).state, seq);
  const orgExists = async (name: string) => {
    if (!(await prisma.organisation.findUnique({ where: { name } }))) {
      throw new DomainError(
        'INVALID-INPUT',
        'invalid',
        `组织「${name}」尚未登记（用 shifan user add --org 登记其用户）`,
        `organisation ${name} is not registered`,
        { field: 'org' },
      );
    }
  };
  return { load, guard, command, facts, orgExists };
}
