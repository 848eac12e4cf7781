// The five replay scenarios of issue 5, built with EntitySim from the deciders.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  decideProgram,
  evolveProgram,
  initialProgramState,
  type ProgramCommand,
} from '../../workflows/program/decider';
import { programFacts } from '../../workflows/program/facts';
import { definitionFromTable, ProgramTable } from '../../workflows/program/table';
import type { Actor } from '../../workflows/program/types';
import type { CommandEnvelope } from '../../workflows/temporal/entity';
import { EntitySim } from './entity-sim';

const office: Actor = { username: 'office1', role: 'office', org: null };
const contractor: Actor = { username: 'contractor1', role: 'contractor', org: '滕州市邮政分公司' };
const bidderB: Actor = { username: 'contractorB', role: 'contractor', org: '某物流有限公司' };
const evaluator: Actor = { username: 'evaluator1', role: 'evaluator', org: '某会计师事务所' };
const finance: Actor = { username: 'finance1', role: 'finance', org: null };
const START = '2019-11-05T02:00:00.000Z';
const doc = { title: '文件' };
const env = (
  command: { type: string; [k: string]: unknown },
  actor: Actor,
  reason?: string,
): CommandEnvelope => ({ command, actor, reason: reason ?? null });

const table = () =>
  JSON.parse(readFileSync(path.join(__dirname, '..', 'fixtures', 'tengzhou-2019.json'), 'utf8'));
const definition = () => definitionFromTable(ProgramTable.parse(table()));
/** The program in 组织实施, as the subproject commands' facts are read from it. */
function facts(seq: number) {
  const cmds: ProgramCommand[] = [
    { type: 'CreateProgram', definition: definition() },
    { type: 'RecordGateAct', gate: 'plan_filed', document: doc },
    { type: 'RecordGateAct', gate: 'leading_group_established', document: doc },
    { type: 'AdvancePhase', to: 'implement' },
  ];
  const p = cmds.reduce(
    (s, c) => decideProgram(s, c, { now: START, actor: office }).reduce(evolveProgram, s),
    initialProgramState,
  );
  return programFacts(p, seq);
}
const day = 86_400_000;
const plus = (sim: EntitySim, days: number) => new Date(sim.now + days * day).toISOString();

export function programPhases() {
  const sim = new EntitySim({ streamType: 'program', streamId: 'program-tengzhou-2019' }, START);
  sim.update(
    'u1',
    env({ type: 'CreateProgram', definition: definition() }, office, '导入资金安排表'),
  );
  sim.update(
    'u2',
    env(
      {
        type: 'RecordGateAct',
        gate: 'plan_filed',
        document: { title: '实施方案', number: '滕政办字〔2019〕33号' },
      },
      office,
      '已报省商务厅备案',
    ),
  );
  sim.update(
    'u3',
    env(
      {
        type: 'RecordGateAct',
        gate: 'leading_group_established',
        document: { title: '领导小组通知' },
      },
      office,
    ),
  );
  sim.update('u4', env({ type: 'AdvancePhase', to: 'implement' }, office, '筹备完成'));
  return sim.fixture('program-phases', 'program: import, two gate acts, advance to 组织实施');
}

export function tenderFailedRound() {
  const sim = new EntitySim(
    { streamType: 'subproject', streamId: 'subproject-tengzhou-2019-3' },
    START,
  );
  const announcement = {
    title: '物流配送体系招标公告',
    number: null,
    qualifications: [],
    documents: [],
  };
  sim.update(
    'u1',
    env(
      { type: 'OpenTender', program: facts(3), announcement, bidDeadline: plus(sim, 21) },
      office,
    ),
  );
  sim.update(
    'u2',
    env({ type: 'SubmitBid', price: 500_000_000, proposal: 'A', documents: [] }, contractor),
  );
  sim.update(
    'u3',
    env({ type: 'SubmitBid', price: 510_000_000, proposal: 'B', documents: [] }, bidderB),
  );
  sim.fire(); // bid deadline
  sim.update('u4', env({ type: 'OpenBids', invalid: [] }, office)); // 2 valid bids: 流标
  sim.update(
    'u5',
    env(
      { type: 'OpenTender', program: facts(3), announcement, bidDeadline: plus(sim, 25) },
      office,
      '流标后重新招标',
    ),
  );
  return sim.fixture(
    'tender-failed-round',
    'tender: 2 bids, deadline fires, opening fails (流标), re-tender arms a new deadline',
  );
}

function designated(sim: EntitySim, milestones: string[], tranches: [string, string, number][]) {
  sim.update(
    'd1',
    env(
      { type: 'DesignateContractor', program: facts(7), org: '滕州市邮政分公司', document: null },
      office,
      '资金安排表确定为直接委托',
    ),
  );
  sim.update(
    'd2',
    env(
      {
        type: 'SignContract',
        number: 'XY-7',
        document: { title: '委托协议' },
        milestones: milestones.map((key) => ({
          key,
          title: key,
          deliverables: [],
          due: '2020-12-31',
          evidenceRequired: [],
        })),
        tranches: tranches.map(([key, milestone, amount]) => ({
          key,
          milestone,
          source: 'local' as const,
          amount,
        })),
      },
      office,
    ),
  );
}
const submit = (m: string) =>
  env(
    { type: 'SubmitMilestone', milestone: m, deliverable: m, counts: {}, files: [], archive: null },
    contractor,
  );
const preEval = (m: string, recommendation: 'accept' | 'reject') =>
  env({ type: 'PreEvaluate', milestone: m, opinion: 'o', findings: [], recommendation }, evaluator);
const decideM = (m: string, decision: 'accept' | 'reject', deadline: string | null = null) =>
  env(
    {
      type: 'DecideMilestone',
      milestone: m,
      decision,
      defects: decision === 'reject' ? ['不合格'] : [],
      rectificationDeadline: deadline,
    },
    office,
  );
const releaseT = (t: string, key: string) =>
  env(
    {
      type: 'ReleaseTranche',
      tranche: t,
      amount: null,
      idempotencyKey: key,
      requestHash: `h-${key}`,
      programRemaining: { central: 1_500_000_000, local: 600_000_000, enterprise: 0 },
    },
    finance,
  );

export function milestoneAcceptedPaid() {
  const sim = new EntitySim(
    { streamType: 'subproject', streamId: 'subproject-tengzhou-2019-7' },
    START,
  );
  designated(sim, ['M1'], [['T1', 'M1', 100_000_000]]);
  sim.update('m1', submit('M1'));
  sim.update('m2', preEval('M1', 'accept'));
  sim.update('m3', decideM('M1', 'accept')); // publicity deadline armed
  sim.fire(); // publicity ends
  sim.update('m4', releaseT('T1', 'release-T1'));
  return sim.fixture(
    'milestone-accepted-paid',
    'milestone: submit, pre-evaluate, accept, publicity timer fires, tranche released',
  );
}

export function rectificationAccepted() {
  const sim = new EntitySim(
    { streamType: 'subproject', streamId: 'subproject-tengzhou-2019-7' },
    START,
  );
  designated(sim, ['M1'], [['T1', 'M1', 100_000_000]]);
  sim.update('m1', submit('M1'));
  sim.update('m2', preEval('M1', 'reject'));
  sim.update(
    'm3',
    decideM('M1', 'reject', new Date(sim.now + 20 * day).toISOString().slice(0, 10)),
  ); // rectification deadline armed
  sim.update('m4', submit('M1')); // resubmitted in time: the deadline timer is cancelled
  sim.update('m5', preEval('M1', 'accept'));
  sim.update('m6', decideM('M1', 'accept')); // publicity deadline armed
  sim.fire();
  return sim.fixture(
    'rectification-accepted',
    'rejection → rectification (deadline armed, then cancelled by the resubmission) → acceptance',
  );
}

export function deadlineMissedClawback() {
  const sim = new EntitySim(
    { streamType: 'subproject', streamId: 'subproject-tengzhou-2019-7' },
    START,
  );
  designated(
    sim,
    ['M1', 'M2'],
    [
      ['T1', 'M1', 40_000_000],
      ['T2', 'M2', 60_000_000],
    ],
  );
  sim.update('m1', submit('M1'));
  sim.update('m2', preEval('M1', 'accept'));
  sim.update('m3', decideM('M1', 'accept'));
  sim.fire();
  sim.update('m4', releaseT('T1', 'release-T1'));
  sim.update('m5', submit('M2'));
  sim.update('m6', preEval('M2', 'reject'));
  sim.update(
    'm7',
    decideM('M2', 'reject', new Date(sim.now + 10 * day).toISOString().slice(0, 10)),
  );
  sim.fire(); // deadline missed: failure, naming, termination, clawback (whose deadline is armed next)
  return sim.fixture(
    'deadline-missed-clawback',
    'rectification deadline fires: naming, termination, clawback demanded of what was paid; the clawback deadline is armed',
  );
}

export const SCENARIOS = {
  programPhases,
  tenderFailedRound,
  milestoneAcceptedPaid,
  rectificationAccepted,
  deadlineMissedClawback,
};
