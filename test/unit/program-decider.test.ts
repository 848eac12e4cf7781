// Given/when/then over the program decider: events in, command, events out (or the refusal).
import {
  gateStatuses,
  initialProgramState,
  overdue,
  phaseDates,
  programDecider,
  type ProgramCommand,
  type ProgramEvent,
  type ProgramState,
  type SubprojectStatus,
} from '../../workflows/program/decider';
import { definitionFromTable, ProgramTable } from '../../workflows/program/table';
import type { CommandContext, ProgramDefinition } from '../../workflows/program/types';
import { fundUsePeriod } from '../../workflows/program/fund-use';
import { loadTable, withFunding } from '../support/fixtures';
import { deciderSpec } from '../support/given-when-then';

const office: CommandContext = {
  now: '2019-08-01T02:00:00.000Z',
  actor: { username: 'office1', role: 'office' },
  reason: '测试',
};
const doc = { title: '滕州市电子商务进农村综合示范实施方案', number: '滕商字〔2019〕12号' };
const tengzhou = () => definitionFromTable(ProgramTable.parse(loadTable('tengzhou-2019')));

const { given, when, run, refused } = deciderSpec(programDecider, office);
const created = (def: ProgramDefinition = tengzhou()): ProgramEvent => ({
  type: 'ProgramCreated',
  data: { definition: def, at: office.now },
});
const act = (phase: string, gate: string): ProgramEvent => ({
  type: 'GateActRecorded',
  data: { phase, gate: gate as never, document: doc, by: 'office1', at: office.now, reason: null },
});
const prepareActs = [act('prepare', 'plan_filed'), act('prepare', 'leading_group_established')];
const advance = (to: string): ProgramCommand => ({ type: 'AdvancePhase', to });
/** The fields of the R-PH-2 violations that refuse advancing into `to`: the gates still open. */
const openGates = (s: ProgramState, to: string) =>
  refused(s, advance(to)).violations.map((v) => v.field);
/** 启动筹备's two acts, then into the next phase `to`. */
const prepared = (to = 'implement'): ProgramCommand[] => [
  { type: 'RecordGateAct', gate: 'plan_filed', document: doc },
  { type: 'RecordGateAct', gate: 'leading_group_established', document: doc },
  advance(to),
];
/** The program as if every subproject's own stream said `status` (facts the engine passes in). */
function everySubproject(s: ProgramState, status: SubprojectStatus): ProgramState {
  if (s.status !== 'active') throw new Error();
  return {
    ...s,
    subprojects: Object.fromEntries(Object.keys(s.subprojects).map((k) => [k, status])),
  };
}

describe('CreateProgram', () => {
  test('a valid table creates the program in its first phase', () => {
    const events = when(initialProgramState, { type: 'CreateProgram', definition: tengzhou() });
    expect(events.map((e) => e.type)).toEqual(['ProgramCreated']);
    const s = given(events);
    expect(s.status).toBe('active');
    if (s.status === 'active') expect(s.def.phases[s.phaseIndex].name).toBe('启动筹备');
  });
  test('a table violating R-FUND-3 is refused with the rule id (422)', () => {
    const t = withFunding(
      withFunding(loadTable('shicheng-2020'), 1, 'central', '226'),
      7,
      'central',
      '154',
    );
    const e = refused(initialProgramState, {
      type: 'CreateProgram',
      definition: definitionFromTable(ProgramTable.parse(t)),
    });
    expect(e.kind).toBe('rule');
    expect(e.violations.map((v) => v.rule)).toEqual(['R-FUND-3']);
  });
  test('a second program with the same code is refused (409)', () => {
    expect(
      refused(given([created()]), { type: 'CreateProgram', definition: tengzhou() }).kind,
    ).toBe('conflict');
  });
});

describe('R-PH-1 / R-PH-2: advancing', () => {
  test('from 启动筹备 with gates open → 409 naming each open gate', () => {
    const e = refused(given([created()]), advance('implement'));
    expect(e.code).toBe('R-PH-2');
    expect(e.kind).toBe('conflict');
    expect(e.violations.map((v) => v.field)).toEqual([
      'gates.plan_filed',
      'gates.leading_group_established',
    ]);
    expect(e.message).toContain('实施方案经批准并报省商务厅备案');
    expect(e.message).toContain('成立领导小组');
  });
  test('after filing the plan and establishing the leading group it advances', () => {
    const s = given([created(), ...prepareActs]);
    expect(when(s, advance('implement'))).toEqual([
      { type: 'PhaseAdvanced', data: { from: 'prepare', to: 'implement', at: office.now } },
    ]);
  });
  test('one gate left open names only that gate', () => {
    expect(openGates(given([created(), act('prepare', 'plan_filed')]), 'implement')).toEqual([
      'gates.leading_group_established',
    ]);
  });
  test('skipping a phase or going back is refused (R-PH-1)', () => {
    const s = given([created(), ...prepareActs]);
    const skip = refused(s, advance('evaluate'));
    expect(skip.code).toBe('R-PH-1');
    expect(skip.message).toContain('阶段不能跳过');
    const s2 = run(s, [advance('implement')]);
    const back = refused(s2, advance('prepare'));
    expect(back.code).toBe('R-PH-1');
    expect(back.message).toContain('阶段不能回退');
    expect(refused(s2, advance('nowhere')).message).toContain('没有阶段');
  });
  test('组织实施 → 绩效评价 is computed: open while any subproject is not accepted or settled', () => {
    const s = run(given([created()]), prepared());
    const e = refused(s, advance('evaluate'));
    expect(e.violations.map((v) => v.field)).toEqual(['gates.subprojects_settled']);
    expect(e.message).toContain('分项目 1、2、3、4、5、6、7 尚未验收合格或结清');
    // computed gates cannot be recorded by hand
    expect(
      refused(s, { type: 'RecordGateAct', gate: 'subprojects_settled', document: doc }).message,
    ).toContain('自动判定');
  });
  test('acts belong to the current phase and are recorded once', () => {
    const s = given([created(), act('prepare', 'plan_filed')]);
    expect(
      refused(s, { type: 'RecordGateAct', gate: 'plan_filed', document: doc }).message,
    ).toContain('已于');
    expect(refused(s, { type: 'RecordGateAct', gate: 'summary_filed', document: doc }).code).toBe(
      'R-PH-2',
    );
  });
  test('the act records who, when, which document and why', () => {
    const [e] = when(given([created()]), {
      type: 'RecordGateAct',
      gate: 'plan_filed',
      document: doc,
    });
    expect(e).toEqual({
      type: 'GateActRecorded',
      data: {
        phase: 'prepare',
        gate: 'plan_filed',
        document: doc,
        by: 'office1',
        at: office.now,
        reason: '测试',
      },
    });
  });
});

describe('evaluation and improvement phases, to the end', () => {
  // Jump the program into 绩效评价 as if every subproject had been accepted (later work computes this).
  function inEvaluate(): ProgramState {
    const s = run(given([created()]), prepared());
    return run(everySubproject(s, 'accepted'), [advance('evaluate')]);
  }
  test('self-check findings must be closed; then improve; then the program closes', () => {
    let s = inEvaluate();
    s = run(s, [
      { type: 'RecordGateAct', gate: 'self_check_done', document: { title: '自查报告' } },
      { type: 'RecordFinding', origin: 'self_check', title: '村级站点牌匾不统一' },
      { type: 'RecordGateAct', gate: 'self_evaluation_submitted', document: { title: '自评报告' } },
      {
        type: 'RecordGateAct',
        gate: 'provincial_result_recorded',
        document: { title: '省级绩效评价结果' },
      },
    ]);
    const e = refused(s, advance('improve'));
    expect(e.violations.map((v) => v.field)).toEqual(['gates.self_check_findings_closed']);
    expect(e.message).toContain('F1 村级站点牌匾不统一');
    s = run(s, [
      { type: 'CloseFinding', findingId: 'F1', document: { title: '整改销号单' } },
      advance('improve'),
    ]);
    s = run(s, [{ type: 'RecordFinding', origin: 'provincial', title: '培训档案不全' }]);
    expect(openGates(s, 'closed')).toEqual([
      'gates.evaluation_findings_closed',
      'gates.summary_filed',
    ]);
    s = run(s, [
      { type: 'CloseFinding', findingId: 'F2', document: { title: '整改报告' } },
      { type: 'RecordGateAct', gate: 'summary_filed', document: { title: '工作总结' } },
      advance('closed'),
    ]);
    expect(s.status).toBe('closed');
    expect(refused(s, { type: 'RecordFinding', origin: 'provincial', title: 'x' }).code).toBe(
      'R-PH-1',
    );
  });
});

describe('phase plans are data', () => {
  test('Shicheng: 3 phases; 项目巩固与完善 (unknown key) needs a filed phase summary', () => {
    const def = definitionFromTable(ProgramTable.parse(loadTable('shicheng-2020')));
    let s = given([created(def)]);
    s = run(s, prepared('build'));
    expect(openGates(s, 'consolidate')).toEqual(['gates.subprojects_settled']);
    s = run(everySubproject(s, 'settled'), [advance('consolidate')]);
    if (s.status !== 'active') throw new Error();
    expect(gateStatuses(s).map((g) => g.key)).toEqual(['phase_summary_filed']);
    s = run(s, [
      {
        type: 'RecordGateAct',
        gate: 'phase_summary_filed',
        document: { title: '巩固提升阶段小结' },
      },
      advance('closed'),
    ]);
    expect(s.status).toBe('closed');
  });

  test('Yanling: 5 phases 启动 → 实施 → 迎接绩效评估 → 整改提升 → 全面验收, strictly in order', () => {
    const t = loadTable('tengzhou-2019');
    t.phases = [
      { key: 'prepare', name: '启动', start: '2014-11-28', end: '2015-04-02' },
      { key: 'implement', name: '实施', start: '2015-04-01', end: '2015-10-31' },
      { key: 'evaluate', name: '迎接绩效评估', start: '2015-11-01', end: '2015-12-31' },
      { key: 'improve', name: '整改提升', start: '2016-01-01', end: '2016-08-31' },
      { key: 'final_acceptance', name: '全面验收', start: '2016-09-01', end: '2016-12-31' },
    ];
    const def = definitionFromTable(ProgramTable.parse(t));
    let s = given([created(def)]);
    s = run(s, prepared());
    s = run(everySubproject(s, 'accepted'), [
      advance('evaluate'),
      { type: 'RecordGateAct', gate: 'self_check_done', document: doc },
      { type: 'RecordGateAct', gate: 'self_evaluation_submitted', document: doc },
      { type: 'RecordGateAct', gate: 'provincial_result_recorded', document: doc },
      advance('improve'),
      { type: 'RecordGateAct', gate: 'summary_filed', document: doc },
    ]);
    expect(refused(s, advance('closed')).code).toBe('R-PH-1'); // 全面验收 comes first
    s = run(s, [advance('final_acceptance')]);
    expect(openGates(s, 'closed')).toEqual(['gates.phase_summary_filed']);
  });

  test('a phase plan can name its own gates', () => {
    const t = loadTable('tengzhou-2019');
    t.phases = [
      { key: 'prepare', name: '筹备', gates: ['leading_group_established'] },
      { key: 'run', name: '实施' },
    ];
    const s = given([created(definitionFromTable(ProgramTable.parse(t)))]);
    if (s.status !== 'active') throw new Error();
    expect(gateStatuses(s).map((g) => g.key)).toEqual(['leading_group_established']);
  });
});

describe('R-PH-3: overdue phases are visible', () => {
  const s = given([created()]); // 启动筹备 planned to end 2019-10-31 (Asia/Shanghai)
  test('not overdue until the end of the planned day in Asia/Shanghai', () => {
    expect(overdue(s, '2019-10-31T15:59:59.999Z')).toBeNull(); // 23:59:59.999 in Shanghai
    expect(overdue(s, '2019-10-31T16:00:00.000Z')).toEqual({
      phase: 'prepare',
      end: '2019-10-31',
      days: 1,
    });
    expect(overdue(s, '2019-11-30T16:00:00.000Z')?.days).toBe(31);
  });
  test('an open-ended phase (总结提升 until the ministry review) is never overdue', () => {
    const def = tengzhou();
    const st = given([created(def)]);
    if (st.status !== 'active') throw new Error();
    expect(overdue({ ...st, phaseIndex: 3 }, '2030-01-01T00:00:00Z')).toBeNull();
  });
  test('each phase: plan against actual, late days of a finished phase and of the current one', () => {
    // 启动筹备 (plan to 2019-10-31) left on 2019-11-05, 5 days late; 组织实施 (plan to 2020-12-31) on time so far
    const left: ProgramEvent = {
      type: 'PhaseAdvanced',
      data: { from: 'prepare', to: 'implement', at: '2019-11-05T02:00:00.000Z' },
    };
    const st = given([created(), ...prepareActs, left]);
    if (st.status !== 'active') throw new Error();
    const [prepare, implement, evaluate] = phaseDates(st, '2020-06-01T00:00:00.000Z');
    expect(prepare).toMatchObject({
      key: 'prepare',
      end: '2019-10-31',
      enteredAt: office.now,
      leftAt: '2019-11-05T02:00:00.000Z',
      lateDays: 5,
    });
    expect(implement).toMatchObject({
      enteredAt: '2019-11-05T02:00:00.000Z',
      leftAt: null,
      lateDays: 0,
    });
    expect(evaluate).toMatchObject({ enteredAt: null, leftAt: null, lateDays: 0 });
    expect(phaseDates(st, '2021-01-02T00:00:00.000Z')[1].lateDays).toBe(2); // past 2020-12-31 in Shanghai
  });
  test('a state folded before entry dates were kept still shows the current phase', () => {
    const st = given([created()]);
    if (st.status !== 'active') throw new Error();
    const { phaseEntered: _gone, ...old } = st;
    expect(phaseDates(old, office.now)[0]).toMatchObject({ enteredAt: office.now, leftAt: null });
    // advancing such a state dates the phase it enters, not the first one
    const moved = programDecider.evolve(
      { ...old, phaseIndex: 1 },
      {
        type: 'PhaseAdvanced',
        data: { from: 'implement', to: 'evaluate', at: '2021-01-05T00:00:00.000Z' },
      },
    );
    if (moved.status !== 'active') throw new Error();
    expect(phaseDates(moved, '2021-01-06T00:00:00.000Z').map((p) => p.enteredAt)).toEqual([
      null,
      office.now,
      '2021-01-05T00:00:00.000Z',
      null,
    ]);
  });
});

describe('R-PUB-1 reports from the public', () => {
  const sender = { receipt: 'JB-0123456789', name: null, phone: '139 0000 0000' };
  const publicCtx: CommandContext = {
    now: office.now,
    actor: { username: 'public', role: 'public' },
  };
  test('filed at any time, a closed program included; answered once; an unknown subproject refused', () => {
    let s = given([created()]);
    s = run(s, [[{ type: 'FileReport', seq: 3, text: '站点无人值守', sender }, publicCtx]]);
    if (s.status === 'empty') throw new Error();
    expect(s.reports).toEqual([
      { id: 'R1', seq: 3, text: '站点无人值守', at: office.now, sender, answer: null },
    ]);
    expect(
      refused(s, { type: 'FileReport', seq: 99, text: 'x', sender }, publicCtx).violations[0].field,
    ).toBe('seq');
    s = run(s, [{ type: 'AnswerReport', reportId: 'R1', text: '已整改' }]);
    expect(refused(s, { type: 'AnswerReport', reportId: 'R1', text: '再答' }).code).toBe(
      'CONFLICT',
    );
    expect(refused(s, { type: 'AnswerReport', reportId: 'R9', text: '无' }).code).toBe('NOT-FOUND');
    if (s.status === 'empty') throw new Error();
    const closed = { ...s, status: 'closed' as const };
    expect(
      when(closed, { type: 'FileReport', seq: null, text: '结束后的举报', sender }, publicCtx).map(
        (e) => e.type,
      ),
    ).toEqual(['ReportFiled']);
  });
});

describe('R-FUND-9 the fund-use publication', () => {
  const period = fundUsePeriod('2019-Q3')!;
  const rows = (def: ProgramDefinition) =>
    def.subprojects.map((sp) => ({
      seq: sp.seq,
      name: sp.name,
      budget: sp.funding.central,
      disbursedInPeriod: 0,
      disbursedToDate: 0,
      recoveredInPeriod: 0,
      recoveredToDate: 0,
    }));
  test('only once the period is over, once per period', () => {
    const def = tengzhou();
    const s = given([created(def)]);
    const cmd: ProgramCommand = { type: 'PublishFundUse', period, rows: rows(def) };
    // 2019-09-30 23:59 in Beijing is still in the quarter
    const last = { ...office, now: '2019-09-30T15:59:00.000Z' };
    expect(refused(s, cmd, last).code).toBe('R-FUND-9');
    const after = { ...office, now: '2019-09-30T16:00:00.000Z' };
    const published = run(s, [[cmd, after]]);
    expect(refused(published, cmd, after).message).toContain('已于');
    expect(
      when(published, { ...cmd, period: fundUsePeriod('2019-08')! }, after).map((e) => e.type),
    ).toEqual(['FundUsePublished']);
  });
});
