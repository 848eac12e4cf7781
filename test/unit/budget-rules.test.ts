// Given a budget table, when the R-FUND rules check it, then every violation is named with its figures.
import { checkBudget } from '../../workflows/rules/budget';
import { definitionFromTable, ProgramTable } from '../../workflows/program/table';
import { loadTable, withFunding, type Table } from '../support/fixtures';

const check = (t: Table) => checkBudget(definitionFromTable(ProgramTable.parse(t)));
const rules = (t: Table) => check(t).map((v) => v.rule);

describe('budget rules R-FUND-1..5', () => {
  test('both real tables are valid (Shicheng puts exactly 15.0% into the centre)', () => {
    expect(check(loadTable('tengzhou-2019'))).toEqual([]);
    expect(check(loadTable('shicheng-2020'))).toEqual([]);
  });

  test('R-FUND-3: Shicheng centre raised to 226, promotion lowered to 154 → centre 15.07% > 15%', () => {
    const t = withFunding(
      withFunding(loadTable('shicheng-2020'), 1, 'central', '226'),
      7,
      'central',
      '154',
    );
    const v = check(t);
    expect(v.map((x) => x.rule)).toEqual(['R-FUND-3']);
    expect(v[0].message_en).toContain('centre 15.07% > 15%');
    expect(v[0].message).toContain('15.07% > 15%');
    expect(v[0].figures).toMatchObject({ centre: '226', central: '1500', percent: '15.07' });
  });

  test('R-FUND-3 is a policy parameter carried by the program', () => {
    const t = withFunding(
      withFunding(loadTable('shicheng-2020'), 1, 'central', '226'),
      7,
      'central',
      '154',
    );
    t.policy = { centreMaxPercent: '20' };
    expect(check(t)).toEqual([]);
  });

  test('R-FUND-1: a central column summing to 1,499 names the column', () => {
    const v = check(withFunding(loadTable('tengzhou-2019'), 1, 'central', '199'));
    expect(v.map((x) => x.rule)).toEqual(['R-FUND-1']);
    expect(v[0].field).toBe('totals.central');
    expect(v[0].message).toContain('中央财政资金（central）列合计 1499万元 ≠ 合计行 1500万元');
  });

  test('R-FUND-1: a row whose declared total does not add up names the row', () => {
    const t = loadTable('tengzhou-2019');
    t.subprojects[2].funding.total = '541';
    const v = check(t);
    expect(v).toHaveLength(1);
    expect(v[0]).toMatchObject({
      rule: 'R-FUND-1',
      field: 'subprojects[2].funding.total',
      figures: { row: 3, declared: '541', sum: '540' },
    });
  });

  test('R-FUND-1: grand total must equal the sum of the source totals', () => {
    const t = loadTable('tengzhou-2019');
    t.totals.total = '2101';
    expect(check(t).map((x) => x.field)).toEqual(['totals.total']);
  });

  test('R-FUND-2: moving central funds out of logistics so the group falls to 49.9% is refused', () => {
    // Tengzhou group = stations 141 + logistics 380 + upward 479 = 1000 of 1500; 748.5 is 49.90%.
    const t = withFunding(
      withFunding(loadTable('tengzhou-2019'), 3, 'central', '128.5'),
      5,
      'central',
      '451.5',
    );
    const v = check(t);
    expect(v.map((x) => x.rule)).toEqual(['R-FUND-2']);
    expect(v[0].message_en).toContain('49.90% < 50%');
    expect(v[0].figures).toMatchObject({ group: '748.5', percent: '49.90' });
  });

  test('R-FUND-2: exactly 50% passes', () => {
    const t = withFunding(
      withFunding(loadTable('tengzhou-2019'), 3, 'central', '130'),
      5,
      'central',
      '450',
    );
    expect(check(t)).toEqual([]);
  });

  test('R-FUND-4: a prohibited declared use of central funds is refused; without central funds it is not', () => {
    const t = loadTable('tengzhou-2019');
    (t.subprojects[0] as { uses?: string[] }).uses = ['buildings', 'equipment'];
    (t.subprojects[6] as { uses?: string[] }).uses = ['working_expenses']; // seq 7 has no central funds
    const v = check(t);
    expect(v).toHaveLength(1);
    expect(v[0]).toMatchObject({
      rule: 'R-FUND-4',
      field: 'subprojects[0].uses',
      figures: { use: 'buildings' },
    });
    expect(v[0].message).toContain('楼堂馆所建设');
  });

  test('R-FUND-5: Tengzhou stations 21 × 1万 + 240 × 0.5万 = 141万 exactly passes; 142万 is over', () => {
    const t = withFunding(
      withFunding(loadTable('tengzhou-2019'), 2, 'central', '142'),
      6,
      'central',
      '99',
    );
    const v = check(t);
    expect(v.map((x) => x.rule)).toEqual(['R-FUND-5']);
    expect(v[0].figures).toMatchObject({
      amount: '142',
      bound: '141',
      formula: '21×1万元 + 240×0.5万元',
    });
  });

  test('several violations are all listed at once', () => {
    const t = withFunding(
      withFunding(loadTable('shicheng-2020'), 1, 'central', '300'),
      4,
      'central',
      '100',
    );
    expect(rules(t)).toEqual(expect.arrayContaining(['R-FUND-1', 'R-FUND-2', 'R-FUND-3']));
  });
});

describe('table parsing', () => {
  test('a malformed table is refused with field paths', () => {
    const t = loadTable('tengzhou-2019') as unknown as Record<string, unknown>;
    const r = ProgramTable.safeParse({ ...t, year: 'x', subprojects: [{ seq: 1 }] });
    expect(r.success).toBe(false);
    const paths = r.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(
      expect.arrayContaining(['year', 'subprojects.0.name', 'subprojects.0.funding']),
    );
  });
  test('an amount finer than a fen is refused, naming the field', () => {
    const t = withFunding(loadTable('tengzhou-2019'), 1, 'central', '200.0000001');
    expect(() => definitionFromTable(ProgramTable.parse(t))).toThrow(
      /subprojects\[0\]\.funding\.central/,
    );
  });
  test("no phase plan → Tengzhou's four phases", () => {
    const t = loadTable('tengzhou-2019');
    delete (t as { phases?: unknown }).phases;
    expect(definitionFromTable(ProgramTable.parse(t)).phases.map((p) => p.name)).toEqual([
      '启动筹备',
      '组织实施',
      '绩效评价',
      '总结提升',
    ]);
  });
});
