// Given/when/then over the subproject decider's procurement (R-TD-1..3).
import {
  initialSubprojectState,
  subprojectDecider,
  wakeAtSubproject,
  type SubprojectCommand,
} from '../../workflows/subproject/decider';
import type { SubprojectState } from '../../workflows/subproject/types';
import { programFacts } from '../../workflows/program/facts';
import {
  initialProgramState,
  programDecider,
  type ProgramCommand,
  type ProgramState,
} from '../../workflows/program/decider';
import { definitionFromTable, ProgramTable } from '../../workflows/program/table';
import type { Actor, CommandContext } from '../../workflows/program/types';
import { loadTable } from '../support/fixtures';
import { deciderSpec } from '../support/given-when-then';

const office: Actor = { username: 'office1', role: 'office' };
const bidder = (org: string): Actor => ({ username: `u-${org}`, role: 'contractor', org });
const at = (now: string, actor: Actor = office, reason?: string): CommandContext => ({
  now,
  actor,
  reason,
});
const doc = { title: '文件' };
const T0 = '2019-11-05T02:00:00.000Z';
const { given, when, run, refused } = deciderSpec(subprojectDecider, at(T0));

function program(phase: 'prepare' | 'implement'): ProgramState {
  const cmds: ProgramCommand[] = [
    {
      type: 'CreateProgram',
      definition: definitionFromTable(ProgramTable.parse(loadTable('tengzhou-2019'))),
    },
    ...(phase === 'implement'
      ? [
          { type: 'RecordGateAct', gate: 'plan_filed', document: doc } as ProgramCommand,
          {
            type: 'RecordGateAct',
            gate: 'leading_group_established',
            document: doc,
          } as ProgramCommand,
          { type: 'AdvancePhase', to: 'implement' } as ProgramCommand,
        ]
      : []),
  ];
  return deciderSpec(programDecider, at('2019-11-01T00:00:00Z')).run(initialProgramState, cmds);
}
const facts = (seq: number, phase: 'prepare' | 'implement' = 'implement') =>
  programFacts(program(phase), seq);

const announcement = {
  title: '物流配送体系招标公告',
  number: 'TZ-2019-03',
  qualifications: ['具有快递业务经营许可'],
  documents: [],
};
const DEADLINE = '2019-11-26T01:30:00.000Z'; // 21 days later, 09:30 Beijing time
const AFTER = '2019-11-26T02:00:00.000Z';
const bid = (price: number): SubprojectCommand => ({
  type: 'SubmitBid',
  price,
  proposal: '方案',
  documents: [],
});

const openTender = (program = facts(3), bidDeadline = DEADLINE): SubprojectCommand => ({
  type: 'OpenTender',
  program,
  announcement,
  bidDeadline,
});

function tendered(seq = 3): SubprojectState {
  return run(initialSubprojectState, [[openTender(facts(seq)), at(T0)]]);
}
function withBids(orgs: string[]): SubprojectState {
  return run(
    tendered(),
    orgs.map(
      (o, i) => [bid(5_000_000_00 + i), at(T0, bidder(o))] as [SubprojectCommand, CommandContext],
    ),
  );
}

describe('announcement', () => {
  test('opens the tender: registers the subproject with its budget and schedules the deadline', () => {
    const events = when(initialSubprojectState, openTender(), at(T0));
    expect(events.map((e) => e.type)).toEqual(['SubprojectRegistered', 'TenderOpened']);
    const s = tendered();
    if (s.status !== 'active') throw new Error();
    expect(s.budget).toEqual({ central: 380_000_000, local: 160_000_000, enterprise: 0 });
    expect(wakeAtSubproject(s)).toBe(DEADLINE);
  });
  test('only in the implementation phase', () => {
    expect(refused(initialSubprojectState, openTender(facts(3, 'prepare')), at(T0)).code).toBe(
      'R-PH-1',
    );
  });
  test('bidding period of 19 days is refused, 20 passes (policy parameter)', () => {
    const e = refused(initialSubprojectState, openTender(facts(3), '2019-11-24T01:30:00Z'), at(T0));
    expect(e).toMatchObject({ code: 'R-TD-1', kind: 'rule' });
    expect(e.message).toContain('19 天，少于规定的 20 天');
    expect(
      when(initialSubprojectState, openTender(facts(3), '2019-11-25T01:30:00Z'), at(T0)),
    ).toHaveLength(2);
  });
  test('a direct-procurement subproject is designated, not tendered', () => {
    expect(refused(initialSubprojectState, openTender(facts(7)), at(T0)).code).toBe('R-TD-1');
  });
});

describe('sealed bids until the deadline', () => {
  test('a bidder replaces or withdraws its own bid; after the deadline nothing moves', () => {
    let s = run(tendered(), [
      [bid(100), at(T0, bidder('A'))],
      [bid(90), at(T0, bidder('A'))],
    ]);
    if (s.status !== 'active') throw new Error();
    expect(s.tenders[0].bids.filter((b) => !b.withdrawn).map((b) => b.price)).toEqual([90]);
    s = run(s, [[{ type: 'WithdrawBid' }, at(T0, bidder('A'))]]);
    if (s.status !== 'active') throw new Error();
    expect(s.tenders[0].bids.filter((b) => !b.withdrawn)).toHaveLength(0);
    expect(refused(s, { type: 'WithdrawBid' }, at(T0, bidder('A'))).message).toContain(
      '没有可撤回',
    );
    expect(refused(s, bid(100), at(DEADLINE, bidder('B'))).message).toContain('已过');
  });
  test('a bid above the subproject budget (ceiling) is refused', () => {
    expect(refused(tendered(), bid(540_000_001), at(T0, bidder('A'))).message).toContain(
      '超过分项目预算',
    );
  });
  test('the deadline timer fires once', () => {
    const s = withBids(['A', 'B', 'C']);
    expect(when(s, { type: 'Tick' }, at('2019-11-26T01:29:59.999Z'))).toEqual([]);
    const fired = when(s, { type: 'Tick' }, at(AFTER));
    expect(fired).toEqual([{ type: 'BiddingClosed', data: { round: 1, at: AFTER, bids: 3 } }]);
    const after = given(fired, s);
    expect(when(after, { type: 'Tick' }, at('2019-12-30T00:00:00Z'))).toEqual([]);
    expect(wakeAtSubproject(after)).toBeNull();
  });
});

describe('opening, 流标, re-tender', () => {
  test('no opening before the deadline', () => {
    expect(refused(withBids(['A', 'B', 'C']), { type: 'OpenBids', invalid: [] }, at(T0)).code).toBe(
      'R-TD-1',
    );
  });
  test('2 valid bids → 流标; a re-tender opens round 2', () => {
    let s = run(withBids(['A', 'B']), [[{ type: 'OpenBids', invalid: [] }, at(AFTER)]]);
    expect(s.status === 'active' && s.stage).toBe('failed');
    s = run(s, [[openTender(facts(3), '2019-12-20T01:30:00Z'), at('2019-11-27T02:00:00Z')]]);
    if (s.status !== 'active') throw new Error();
    expect(s.tenders.map((t) => [t.round, !!t.failed])).toEqual([
      [1, true],
      [2, false],
    ]);
  });
  test('an invalid bid counts against the minimum', () => {
    const events = when(
      withBids(['A', 'B', 'C']),
      { type: 'OpenBids', invalid: [{ org: 'C', reason: '资质不符' }] },
      at(AFTER),
    );
    expect(events.map((e) => e.type)).toEqual(['BiddingClosed', 'BidsOpened', 'TenderFailed']);
  });
});

describe('candidate publicity, objections, award, contract', () => {
  const opened = () =>
    run(withBids(['A', 'B', 'C']), [
      [{ type: 'OpenBids', invalid: [] }, at(AFTER)],
      [
        {
          type: 'ScoreBids',
          scores: [
            { org: 'A', score: 9150, comment: null },
            { org: 'B', score: 8800, comment: null },
            { org: 'C', score: 7000, comment: null },
          ],
        },
        at(AFTER, { username: 'ev', role: 'evaluator' }),
      ],
    ]);
  test('a candidate that is not the top scorer needs a reason', () => {
    expect(refused(opened(), { type: 'ProposeCandidate', org: 'B' }, at(AFTER)).message).toContain(
      '须说明理由',
    );
  });
  test('publicity ends after 3 days (end of day, Beijing); an objection blocks the award until resolved', () => {
    let s = run(opened(), [[{ type: 'ProposeCandidate', org: 'A' }, at(AFTER)]]);
    if (s.status !== 'active') throw new Error();
    expect(s.tenders[0].candidate!.publicityEnds).toBe('2019-11-29T15:59:59.999Z'); // 2019-11-29 23:59:59.999 +08:00
    s = run(s, [
      [{ type: 'RaiseObjection', text: '候选人业绩造假' }, at('2019-11-27T00:00:00Z', bidder('B'))],
    ]);
    const late = '2019-11-30T00:00:00Z';
    const blocked = refused(s, { type: 'Award' }, at(late));
    expect(blocked.code).toBe('R-TD-1');
    expect(blocked.message).toContain('O1（候选人业绩造假）');
    expect(
      refused(s, { type: 'ResolveObjection', objectionId: 'O1', decision: 'dismissed' }, at(late))
        .message,
    ).toContain('理由');
    s = run(s, [
      [
        { type: 'ResolveObjection', objectionId: 'O1', decision: 'dismissed' },
        at(late, office, '经核查业绩真实'),
      ],
    ]);
    const events = when(s, { type: 'Award' }, at(late));
    expect(events.map((e) => e.type)).toEqual(['CandidatePublicityEnded', 'ContractorAwarded']);
  });
  test('an upheld objection withdraws the candidate; another can be proposed', () => {
    let s = run(opened(), [
      [{ type: 'ProposeCandidate', org: 'A' }, at(AFTER)],
      [{ type: 'RaiseObjection', text: '资质问题' }, at(AFTER, bidder('B'))],
      [
        { type: 'ResolveObjection', objectionId: 'O1', decision: 'upheld' },
        at(AFTER, office, '异议成立'),
      ],
    ]);
    expect(s.status === 'active' && s.stage).toBe('opened');
    s = run(s, [
      [{ type: 'ProposeCandidate', org: 'B' }, at(AFTER, office, '第一候选人资格被撤销，依次递补')],
    ]);
    expect(s.status === 'active' && s.tenders[0].candidate!.org).toBe('B');
  });
  test('no award before publicity ends; tranches must sum exactly per source, naming the difference in 元', () => {
    let s = run(opened(), [[{ type: 'ProposeCandidate', org: 'A' }, at(AFTER)]]);
    expect(refused(s, { type: 'Award' }, at('2019-11-29T15:59:59.000Z')).message).toContain(
      '公示期未满',
    );
    s = run(s, [[{ type: 'Award' }, at('2019-11-30T00:00:00Z')]]);
    const milestones = [
      { key: 'M1', title: '中心建成', deliverables: [], due: '2020-06-30', evidenceRequired: [] },
      { key: 'M2', title: '验收', deliverables: [], due: '2020-12-31', evidenceRequired: [] },
    ];
    const e = refused(
      s,
      {
        type: 'SignContract',
        number: null,
        document: doc,
        milestones,
        tranches: [
          { key: 'T1', milestone: 'M1', source: 'central', amount: 190_000_000 },
          { key: 'T2', milestone: 'M2', source: 'central', amount: 189_990_000 },
          { key: 'T3', milestone: 'M2', source: 'local', amount: 160_000_000 },
        ],
      },
      at('2019-12-01T00:00:00Z'),
    );
    expect(e).toMatchObject({ code: 'R-TD-2', kind: 'rule' });
    expect(e.message).toContain('相差 100.00 元（0.01万元）');
    expect(e.violations[0].figures).toMatchObject({ source: 'central', differenceWan: '0.01万元' });
  });
});

describe('designation', () => {
  const designate = (
    seq: number,
    document: typeof doc | null,
    org = '某第三方机构',
  ): SubprojectCommand => ({ type: 'DesignateContractor', program: facts(seq), org, document });
  test('direct procurement: designated with a recorded reason, then contracted like the rest', () => {
    expect(refused(initialSubprojectState, designate(7, null), at(T0)).message).toContain('理由');
    const s = run(initialSubprojectState, [
      [designate(7, doc), at(T0, office, '资金安排表确定为直接委托')],
    ]);
    if (s.status !== 'active') throw new Error();
    expect(s.award).toMatchObject({
      org: '某第三方机构',
      designated: true,
      reason: '资金安排表确定为直接委托',
    });
    expect(
      refused(initialSubprojectState, designate(3, null, 'X'), at(T0, office, 'x')).message,
    ).toContain('须公开招标');
  });
});
