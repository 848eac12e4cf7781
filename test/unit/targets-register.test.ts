// Targets as data (R-EV-1), the register of what was built and done, and attainment computed from it:
// given/when/then over the program decider and the pure attainment function.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { attainment, attainmentHistory } from '../../workflows/program/attainment';
import {
  initialProgramState,
  programDecider,
  type ActiveProgram,
  type ProgramCommand,
  type ProgramState,
} from '../../workflows/program/decider';
import { definitionFromTable, ProgramTable } from '../../workflows/program/table';
import type { FundedEntry, StationEntry, TrainingEntry } from '../../workflows/program/register';
import type { CommandContext, ProgramDefinition } from '../../workflows/program/types';
import { loadTable } from '../support/fixtures';
import { deciderSpec } from '../support/given-when-then';

const at = (now: string): CommandContext => ({
  now,
  actor: { username: 'office1', role: 'office' },
});
const office = at('2020-06-30T02:00:00.000Z');
const { run, refused } = deciderSpec(programDecider, office);
const example = (name: string) =>
  JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'examples', `${name}.json`), 'utf8'));
const defOf = (table: unknown) => definitionFromTable(ProgramTable.parse(table));

/** Tengzhou's example with the county's numbers of administrative and poor villages filled in (the
 * plan states the shares, not the counts: 300 and 40 are this test's own figures). */
function tengzhou(): ProgramDefinition {
  const d = defOf(example('tengzhou-2019'));
  d.indicators = d.indicators!.map((i) =>
    i.id === 'village_coverage'
      ? { ...i, of: 300 }
      : i.id === 'poor_village_coverage'
        ? { ...i, of: 40 }
        : i,
  );
  return d;
}
const created = (def = tengzhou()): ProgramState =>
  run(initialProgramState, [
    [{ type: 'CreateProgram', definition: def }, at('2019-08-01T02:00:00Z')],
  ]);
const active = (s: ProgramState) => s as ActiveProgram;
const byId = (s: ProgramState, now: string) =>
  Object.fromEntries(attainment(active(s), now).map((a) => [a.id, a]));

const station = (e: Partial<StationEntry>): StationEntry => ({
  level: 'village',
  name: null,
  town: '龙阳镇',
  village: '东村',
  poorVillage: false,
  operator: '滕州市邮政分公司',
  openedOn: '2020-05-01',
  seq: null,
  milestone: null,
  ...e,
});
const session = (e: Partial<TrainingEntry>): TrainingEntry => ({
  date: '2020-05-10',
  place: '滕州市电子商务公共服务中心',
  trainees: 100,
  personTimes: 200,
  archiveComplete: true,
  seq: null,
  milestone: null,
  ...e,
});
const TOWNS = Array.from({ length: 21 }, (_, k) => `第${k + 1}镇`);
/** 21 town stations, and `villages` village points spread over the 21 towns, the first `poor` of them
 * in poor villages. */
function builtRegister(villages: number, poor: number): StationEntry[] {
  return [
    station({ level: 'county', name: '滕州市电子商务公共服务中心', town: null, village: null }),
    ...TOWNS.map((town) => station({ level: 'town', town, village: null })),
    ...Array.from({ length: villages }, (_, k) =>
      station({ town: TOWNS[k % 21], village: `村${k + 1}`, poorVillage: k < poor }),
    ),
  ];
}

describe('targets as data (R-EV-1)', () => {
  test("the examples carry the seeds' figures: Tengzhou's ten targets, Shicheng's per subproject", () => {
    const t = defOf(example('tengzhou-2019'));
    expect(
      t.indicators!.map((i) => `${i.id} ${i.comparison} ${i.target} ${i.unit} ${i.measure}`),
    ).toEqual([
      'county_centre >= 1 个 register',
      'towns_covered >= 21 个 register',
      'village_points >= 240 个 register',
      'village_coverage >= 70 % register',
      'poor_village_coverage >= 50 % register',
      'turnover_growth >= 30 % reports',
      'courier_town_coverage >= 100 % evidence',
      'training_person_times >= 5000 人次 register',
      'county_to_village_hours <= 48 小时 evidence',
      'village_to_household_hours <= 12 小时 evidence',
    ]);
    const s = defOf(example('shicheng-2020'));
    expect(s.subprojects[2].indicators).toEqual([
      expect.objectContaining({ seq: 3, target: '2000', unit: '人次', due: '2022-06-30' }),
    ]);
    expect(
      s.subprojects[3].indicators!.map((i) => `${i.id} ${i.comparison} ${i.target} ${i.unit}`),
    ).toEqual([
      'courier_town_coverage >= 100 %',
      'same_day_dispatch <= 1 天',
      'remote_village_days <= 2 天',
    ]);
  });

  test('a table without targets makes the same definition as before (no indicators key anywhere)', () => {
    const d = defOf(loadTable('tengzhou-2019'));
    expect('indicators' in d).toBe(false);
    expect(d.subprojects.some((s) => 'indicators' in s)).toBe(false);
  });

  test('unmeasurable targets are refused with field, R-EV-1, Chinese and English; nothing is created', () => {
    const t = example('tengzhou-2019');
    t.indicators[0].metric = undefined; // register without a metric
    t.indicators[3].unit = '个'; // a coverage not in %
    t.indicators[4].id = 'village_coverage'; // repeats [3]
    t.indicators[5].metric = 'village_stations'; // reports with a register metric
    t.subprojects[1].indicators = [
      {
        id: 'x',
        name: '覆盖率',
        unit: '%',
        comparison: '>=',
        target: '120',
        measure: 'register',
        metric: 'village_coverage',
      },
    ];
    const e = refused(initialProgramState, { type: 'CreateProgram', definition: defOf(t) });
    expect(e.kind).toBe('rule');
    expect(e.code).toBe('R-EV-1');
    expect(e.violations.map((v) => [v.rule, v.field])).toEqual([
      ['R-EV-1', 'indicators[0].metric'],
      ['R-EV-1', 'indicators[3].unit'],
      ['R-EV-1', 'indicators[4].id'],
      ['R-EV-1', 'indicators[5].metric'],
      ['R-EV-1', 'subprojects[1].indicators[0].target'],
    ]);
    expect(e.violations[1].message).toContain('单位应为 %');
    expect(e.violations[1].message_en).toContain('its unit is %');
    expect(e.violations[4].message).toContain('120% 超过 100%');
  });

  test('a malformed target is a shape error naming the field (comparison ">", target "1e3")', () => {
    const t = example('tengzhou-2019');
    t.indicators[0].comparison = '>';
    t.indicators[1].target = '1e3';
    const r = ProgramTable.safeParse(t);
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path.join('.'))).toEqual([
      'indicators.0.comparison',
      'indicators.1.target',
    ]);
  });
});

describe('the register of what was built (R-EV-1)', () => {
  test("Tengzhou's coverage from a register of stations across 21 towns: 240 points in 240 of 300 villages = 80% ≥ 70%, 24 of 40 poor villages = 60% ≥ 50%", () => {
    const s = run(created(), [{ type: 'RegisterStations', stations: builtRegister(240, 24) }]);
    expect(active(s).register!.stations).toHaveLength(1 + 21 + 240);
    expect(active(s).register!.stations[261].id).toBe('S262');
    const a = byId(s, office.now);
    expect(a.county_centre).toMatchObject({ value: '1', status: 'met' });
    expect(a.towns_covered).toMatchObject({ value: '21', status: 'met' });
    expect(a.village_points).toMatchObject({ value: '240', status: 'met', statusName: '已达成' });
    expect(a.village_coverage).toMatchObject({
      value: '80',
      targetText: '≥ 70%',
      status: 'met',
      note: '240 / 300 个行政村',
    });
    expect(a.poor_village_coverage).toMatchObject({ value: '60', status: 'met' });
  });

  test('201 of 300 villages is 67%: on track half way, not met once the due date has passed', () => {
    const stations = builtRegister(200, 10);
    stations.push(station({ town: TOWNS[0], village: '村1b' })); // a 201st village in 第1镇
    const s = run(created(), [{ type: 'RegisterStations', stations }]);
    const mid = byId(s, office.now); // 2020-06-30, half way from 2019-07-01 to 2020-12-31
    expect(mid.village_coverage.value).toBe('67');
    // 67% against a straight line from 0 to 70% over 549 days, 365 of them gone: 46.54% expected
    expect(mid.village_coverage).toMatchObject({ expected: '46.54', status: 'on_track' });
    expect(mid.village_points).toMatchObject({ value: '201', status: 'on_track' });
    expect(mid.poor_village_coverage).toMatchObject({ value: '25', status: 'at_risk' });
    const late = byId(s, '2021-01-01T00:00:00Z'); // after the end of 2020-12-31 in Beijing
    expect(late.village_coverage).toMatchObject({
      value: '67',
      status: 'not_met',
      statusName: '未达成',
    });
    expect(late.village_coverage.note).toContain('按期限 2020-12-31 计');
  });

  test('the history gives each target its figure and status at every month end, as the register dates it', () => {
    const s = run(created(), [{ type: 'RegisterStations', stations: builtRegister(240, 24) }]);
    const h = attainmentHistory(active(s), office.now);
    expect(h.months[0]).toBe('2019-07');
    expect(h.months[h.months.length - 1]).toBe('2020-06');
    const points = h.items.find((i) => i.id === 'village_points')!;
    const month = (m: string) => h.months.indexOf(m);
    expect(points.values[month('2020-04')]).toBe('0'); // the points opened on 2020-05-01
    expect(points.statuses[month('2020-04')]).toBe('at_risk');
    expect(points.values[month('2020-05')]).toBe('240');
    expect(points.statuses[month('2020-05')]).toBe('met');
    const towns = h.items.find((i) => i.id === 'towns_covered')!;
    expect([towns.values[month('2019-07')], towns.values[month('2020-06')]]).toEqual(['0', '21']);
  });

  test('a station opened after the due date does not count for it', () => {
    const s = run(created(), [
      [
        { type: 'RegisterStations', stations: [station({ openedOn: '2021-01-05' })] },
        at('2021-01-10T02:00:00Z'),
      ],
    ]);
    expect(byId(s, '2021-01-10T02:00:00Z').village_points).toMatchObject({
      value: '0',
      status: 'not_met',
    });
  });

  test('without the number of villages the coverage is not computed, and says why', () => {
    const s = run(created(defOf(example('tengzhou-2019'))), [
      { type: 'RegisterStations', stations: builtRegister(10, 0) },
    ]);
    expect(byId(s, office.now).village_coverage).toMatchObject({
      value: null,
      status: 'at_risk',
      note: '缺少行政村总数（of），无法计算覆盖率；已覆盖 10 个',
    });
  });

  test('bad rows are refused together, each named by its line, and nothing is registered', () => {
    const s = created();
    const cmd: ProgramCommand = {
      type: 'RegisterStations',
      stations: [
        station({ village: null }), // village level without its village
        station({ openedOn: '2020-07-01', village: '北村' }), // after today (2020-06-30)
        station({ level: 'town', village: null, poorVillage: true }), // poor flag on a town station
        station({ seq: 9, village: '南村' }), // no subproject 9
        station({ seq: 2, milestone: 'M1', village: '西村' }), // subproject 2 has no contract yet
        station({}), // fine …
        station({}), // … and this repeats it
      ],
      lines: [2, 3, 4, 5, 6, 7, 8],
    };
    const e = refused(s, cmd);
    expect(e.code).toBe('R-EV-1');
    expect(e.violations.map((v) => [v.field, v.figures?.row])).toEqual([
      ['stations[0].village', 2],
      ['stations[1].openedOn', 3],
      ['stations[2].poorVillage', 4],
      ['stations[3].seq', 5],
      ['stations[4].milestone', 6],
      ['stations[6]', 8],
    ]);
    expect(e.violations[0].message).toBe('第 2 行：村级站点须填写所在行政村');
    expect(e.violations[4].message).toContain('承办协议中没有里程碑 M1');
    expect(e.violations[5].message).toBe(
      '第 8 行：龙阳镇东村村级服务点已登记（第 7 行），不重复登记',
    );
    // a station already in the register is refused too
    const after = run(s, [{ type: 'RegisterStations', stations: [station({})] }]);
    expect(
      refused(after, { type: 'RegisterStations', stations: [station({})] }).violations[0].message,
    ).toContain('已登记的 S1');
  });

  test("a milestone of the linked subproject's contract is accepted (the engine passes the keys in)", () => {
    const s = run(created(), [
      {
        type: 'RegisterStations',
        stations: [station({ seq: 2, milestone: 'M1' })],
        milestones: { 2: ['M1', 'M2'] },
      },
    ]);
    expect(active(s).register!.stations[0]).toMatchObject({ seq: 2, milestone: 'M1', id: 'S1' });
  });
});

describe('training sessions and person-times (R-EV-1, R-AC-1)', () => {
  test('person-times sum over sessions whose archive is complete; an incomplete archive is named and not counted', () => {
    const s = run(created(), [
      {
        type: 'RegisterTrainings',
        sessions: [
          session({ personTimes: 1200, trainees: 600 }),
          session({ personTimes: 2200, trainees: 900, date: '2020-06-01' }),
          session({ personTimes: 300, trainees: 300, archiveComplete: false }),
        ],
      },
    ]);
    const a = byId(s, office.now).training_person_times;
    // 3,400 against 5,000 × 365 / 549 days = 3,324.23 expected by 2020-06-30: on track
    expect(a).toMatchObject({ value: '3400', expected: '3324.23', status: 'on_track' });
    expect(a.targetText).toBe('≥ 5000 人次');
    expect(a.note).toBe('另有 1 场培训（300 人次）培训档案不全，不计入（R-AC-1）');
    const more = run(s, [
      { type: 'RegisterTrainings', sessions: [session({ personTimes: 1600, trainees: 800 })] },
    ]);
    expect(byId(more, office.now).training_person_times).toMatchObject({
      value: '5000',
      status: 'met',
    });
  });

  test("Shicheng's subproject 3: ≥ 2,000 person-times by 2022-06; 1,500 by then is not met", () => {
    const s = run(
      run(initialProgramState, [
        [
          { type: 'CreateProgram', definition: defOf(example('shicheng-2020')) },
          at('2019-08-01T02:00:00Z'),
        ],
      ]),
      [
        {
          type: 'RegisterTrainings',
          sessions: [session({ personTimes: 1500, trainees: 1500, seq: 3 })],
        },
      ],
    );
    expect(byId(s, '2022-07-01T00:00:00Z').training_person_times).toMatchObject({
      seq: 3,
      value: '1500',
      status: 'not_met',
    });
  });

  test('fewer person-times than trainees, or a future date, are refused naming the row', () => {
    const e = refused(created(), {
      type: 'RegisterTrainings',
      sessions: [session({ trainees: 50, personTimes: 40 }), session({ date: '2020-07-02' })],
    });
    expect(e.violations.map((v) => v.message)).toEqual([
      '第 1 条：培训人次 40 少于培训人数 50',
      '第 2 条：培训日期 2020-07-02 晚于今天（2020-06-30），台账只登记已经建成或已经举办的',
    ]);
  });
});

describe('values entered with evidence', () => {
  const evidence = { title: '滕州市快递物流配送时效抽查报告' };
  test('county → village ≤ 48 h: 36 h met, 52 h at risk before the due date', () => {
    const s = run(created(), [
      {
        type: 'RecordIndicatorValue',
        indicator: 'county_to_village_hours',
        value: '52',
        asOf: '2020-03-31',
        evidence,
      },
    ]);
    expect(byId(s, office.now).county_to_village_hours).toMatchObject({
      value: '52',
      status: 'at_risk',
      note: '2020-03-31 录入，依据：滕州市快递物流配送时效抽查报告',
    });
    const better = run(s, [
      {
        type: 'RecordIndicatorValue',
        indicator: 'county_to_village_hours',
        value: '36',
        asOf: '2020-06-30',
        evidence,
      },
    ]);
    expect(byId(better, office.now).county_to_village_hours).toMatchObject({
      value: '36',
      status: 'met',
      percentOfTarget: 100,
    });
  });

  test('a target the register measures takes no entered value; an unknown one is 404', () => {
    const s = created();
    const e = refused(s, {
      type: 'RecordIndicatorValue',
      indicator: 'village_points',
      value: '240',
      asOf: '2020-06-01',
      evidence,
    });
    expect(e.code).toBe('R-EV-1');
    expect(e.message).toContain('由建设台账计算');
    expect(
      refused(s, {
        type: 'RecordIndicatorValue',
        indicator: 'nope',
        value: '1',
        asOf: '2020-06-01',
        evidence,
      }).kind,
    ).toBe('not_found');
  });
});

describe("Shicheng's per-unit caps against the register of supported units (R-FUND-5)", () => {
  const shicheng = () =>
    run(initialProgramState, [
      [
        { type: 'CreateProgram', definition: defOf(example('shicheng-2020')) },
        at('2019-08-01T02:00:00Z'),
      ],
    ]);
  const loan = (unit: string, amount: number, e: Partial<FundedEntry> = {}): FundedEntry => ({
    item: 'loan',
    unit,
    amount,
    date: '2020-06-01',
    seq: 6,
    milestone: null,
    ...e,
  });
  const WAN = 1_000_000;

  test('a loan of 20.01万 to one borrower is refused, naming the borrower and the figures; 20万 passes', () => {
    const e = refused(shicheng(), {
      type: 'RegisterFundedUnits',
      entries: [loan('石城县某电商合作社', 20_010_000)],
    });
    expect(e.code).toBe('R-FUND-5');
    expect(e.violations[0]).toMatchObject({
      rule: 'R-FUND-5',
      field: 'entries[0].amount',
      message:
        '第 1 条：单个支持对象贷款「石城县某电商合作社」20.01万元 > 每个不超过 20万元（R-FUND-5）',
      figures: { total: '20.01', cap: '20', unit: '石城县某电商合作社' },
    });
    const s = run(shicheng(), [
      { type: 'RegisterFundedUnits', entries: [loan('石城县某电商合作社', 20 * WAN)] },
    ]);
    expect(active(s).register!.funded![0]).toMatchObject({ id: 'U1', amount: 20 * WAN });
  });

  test("a borrower's loans count together, also across batches: 15万 then 5.01万 is refused", () => {
    const s = run(shicheng(), [
      { type: 'RegisterFundedUnits', entries: [loan('个体网商张某', 15 * WAN)] },
    ]);
    const e = refused(s, {
      type: 'RegisterFundedUnits',
      entries: [loan('个体网商李某', 20 * WAN), loan('个体网商张某', 5_010_000)],
    });
    expect(e.violations.map((v) => v.message)).toEqual([
      '第 2 条：单个支持对象贷款「个体网商张某」已有 15万元，加上本笔 5.01万元 合计 20.01万元 > 每个不超过 20万元（R-FUND-5）',
    ]);
  });

  test('demonstration town ≤ 20万, village ≤ 10万, rural-products sub-item ≤ 50万, village stations ≤ 2.5万 on average', () => {
    const e = refused(shicheng(), {
      type: 'RegisterFundedUnits',
      entries: [
        loan('小松镇', 20 * WAN, { item: 'demo_town', seq: 7 }),
        loan('大畲村', 10_000_100, { item: 'demo_village', seq: 7 }),
        loan('石城白莲品控', 50 * WAN + 1, { item: 'upward_subitem', seq: 5 }),
        loan('甲村站', 3 * WAN, { item: 'village_station', seq: 2 }),
        loan('乙村站', 2.5 * WAN, { item: 'village_station', seq: 2 }),
        loan('某某', WAN, { item: 'no_such_cap' }),
      ],
    });
    expect(e.violations.map((v) => [v.field, v.figures?.item])).toEqual([
      ['entries[1].amount', 'demo_village'],
      ['entries[2].amount', 'upward_subitem'],
      ['entries[5].item', 'no_such_cap'],
      ['entries', 'village_station'],
    ]);
    expect(e.violations[3].message).toBe(
      '镇村级电商服务站点 2 个合计 5.5万元，平均超过每个 2.5万元（上限合计 5万元）',
    );
  });
});
