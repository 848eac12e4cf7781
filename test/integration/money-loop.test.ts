// Issue acceptance for the money loop through HTTP on real PostgreSQL, on both engines (jest projects
// `embedded` and `temporal`): the embedded engine's clock moved by hand, or the time-skipping Temporal
// server slept, its timers firing in the workflows.
import { verifyAudit } from '../../engine/audit';
import {
  acceptMilestone,
  contract,
  later,
  ok,
  preEvaluate,
  release,
  submitMilestone,
  tengzhouInImplementation,
  upload,
} from '../support/flows';
import { engineDescribe, startEngineServer, type EngineServer } from '../support/server';

let t: EngineServer;
const describe = engineDescribe(); // skipped, saying why, on Temporal without its server
const P = '/api/programs/tengzhou-2019';
const ARCHIVE = [
  'commissioning_agreement',
  'institution_licence',
  'teacher_qualifications',
  'training_plan',
  'schedule',
  'materials',
  'roster',
  'sign_in_sheets',
  'photos',
];

beforeAll(async () => {
  t = await startEngineServer();
  await tengzhouInImplementation(t);
});
afterAll(async () => {
  await t?.close();
});

const ledgerEntries = async () =>
  Number((await t.rt.pool.query('SELECT count(*)::int AS n FROM ledger_entry')).rows[0].n);

describe('Tengzhou subproject 5 (training, 200万): archive, pre-evaluation, acceptance, publicity, two tranches', () => {
  const SP = `${P}/subprojects/5`;
  let archive: Record<string, string[]>;
  beforeAll(async () => {
    await contract(t, 'tengzhou-2019', 5, {
      milestones: [
        { key: 'M1', title: '第一期培训（2500人次）', due: '2020-06-30' },
        { key: 'M2', title: '第二期培训（2500人次）', due: '2020-12-31' },
      ],
      tranches: [
        { key: 'T1', milestone: 'M1', source: 'central', amount: '100' },
        { key: 'T2', milestone: 'M2', source: 'central', amount: '100' },
      ],
    });
    archive = {};
    for (const item of ARCHIVE)
      archive[item] = [await upload(t, t.tokens.contractor, `${item}.pdf`, `%PDF-1.4 ${item}`)];
  });

  test('an incomplete archive is refused naming the missing items (R-AC-1)', async () => {
    const { sign_in_sheets: _a, photos: _b, ...partial } = archive;
    const r = await t.call('POST', `${SP}/milestones/M1/submission`, {
      token: t.tokens.contractor,
      body: { deliverable: '第一期培训', counts: { trainees: 2600 }, archive: partial },
    });
    expect(r.status).toBe(422);
    expect(r.body.rules).toEqual(['R-AC-1']);
    expect(r.body.detail).toContain('缺少 签到表、培训照片');
    expect(r.body.violations[0].figures.missing).toBe('sign_in_sheets,photos');
  });

  test('the office cannot decide before the third party pre-evaluates (R-AC-2); nothing is releasable yet', async () => {
    await submitMilestone(t, `${SP}/milestones/M1`, {
      deliverable: '第一期培训',
      counts: { trainees: 2600 },
      archive,
    });
    const r = await t.call('POST', `${SP}/milestones/M1/decision`, {
      token: t.tokens.office,
      body: { decision: 'accept' },
    });
    expect(r.status).toBe(409);
    expect(r.body.rules).toEqual(['R-AC-2']);
    const early = await release(t, 'tengzhou-2019', 5, 'T1', 'early-release-0001');
    expect(early.status).toBe(409);
    expect(early.body.rules).toEqual(['R-FUND-7']);
  });

  test('decisions by the submitter or the evaluator are refused; the office decides', async () => {
    const asSubmitter = await t.call('POST', `${SP}/milestones/M1/decision`, {
      token: t.tokens.contractor,
      body: { decision: 'accept' },
    });
    expect(asSubmitter.status).toBe(403);
    await preEvaluate(t, `${SP}/milestones/M1`, {
      opinion: '培训档案齐全，签到表与花名册一致',
      findings: [],
      recommendation: 'accept',
    });
    const asEvaluator = await t.call('POST', `${SP}/milestones/M1/decision`, {
      token: t.tokens.evaluator,
      body: { decision: 'accept' },
    });
    expect(asEvaluator.status).toBe(403);
    const r = ok(
      await t.call('POST', `${SP}/milestones/M1/decision`, {
        token: t.tokens.office,
        body: { decision: 'accept', reason: '预评通过' },
      }),
    );
    expect(r.milestones[0]).toMatchObject({ key: 'M1', status: 'publicity' });
  });

  test('release before publicity ends and above the tranche are refused with rule ids; nothing changes', async () => {
    const before = await ledgerEntries();
    const r = await release(t, 'tengzhou-2019', 5, 'T1', 'release-during-publicity');
    expect(r.status).toBe(409);
    expect(r.body.rules).toEqual(['R-FUND-7']);
    expect(r.body.detail).toContain('公示期未满');
    await t.at(later(t, 8));
    expect((await t.runDue()).fired).toBe(1); // publicity end
    expect((await t.runDue()).fired).toBe(0);
    const over = await release(t, 'tengzhou-2019', 5, 'T1', 'release-over-tranche', {
      amount: '100.01',
    });
    expect(over.status).toBe(422);
    expect(over.body.rules).toEqual(['R-FUND-7']);
    expect(await ledgerEntries()).toBe(before);
    expect(
      (await t.call('POST', `${SP}/tranches/T1/release`, { token: t.tokens.finance, body: {} }))
        .status,
    ).toBe(400); // Idempotency-Key is required
  });

  test('released in two tranches → ledger shows 200万 disbursed, 0 outstanding', async () => {
    const first = await release(t, 'tengzhou-2019', 5, 'T1', 'tz5-T1-0001');
    expect(first.status).toBe(201);
    expect(first.body.disbursement).toMatchObject({
      id: 'D1',
      tranche: 'T1',
      source: 'central',
      amount: { wan: '100' },
    });
    const again = await release(t, 'tengzhou-2019', 5, 'T1', 'tz5-T1-0001');
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.disbursement).toEqual(first.body.disbursement);
    await acceptMilestone(t, 'tengzhou-2019', 5, 'M2', {
      deliverable: '第二期培训',
      counts: { trainees: 2500 },
      archive,
    });
    expect((await release(t, 'tengzhou-2019', 5, 'T2', 'tz5-T2-0001')).status).toBe(201);
    const L = ok(await t.call('GET', `${SP}/ledger`, { token: t.tokens.supervisor }));
    expect(L.total).toMatchObject({
      budgeted: { wan: '200' },
      contracted: { wan: '200' },
      disbursed: { wan: '200' },
      releasable: { wan: '0' },
      outstanding: { wan: '0' },
    });
    const p = ok(await t.call('GET', P, { token: t.tokens.office }));
    expect(p.subprojects[4]).toMatchObject({ seq: 5, status: 'accepted' });
  });
});

describe('rejection → rectification → accepted on the second round (subproject 1)', () => {
  const SP = `${P}/subprojects/1`;
  test('defects and a deadline, resubmission, pre-evaluation and decision again', async () => {
    await contract(t, 'tengzhou-2019', 1, {
      milestones: [{ key: 'M1', title: '公共服务中心建成运营', due: '2020-12-31' }],
      tranches: [
        { key: 'T1', milestone: 'M1', source: 'central', amount: '200' },
        { key: 'T2', milestone: 'M1', source: 'local', amount: '100' },
      ],
    });
    const m = `${SP}/milestones/M1`;
    await submitMilestone(t, m, { deliverable: '中心建成', counts: { area_m2: 1400 } });
    await preEvaluate(t, m, {
      opinion: '面积不足1500㎡',
      findings: ['面积1400㎡'],
      recommendation: 'reject',
    });
    const deadline = later(t, 30).slice(0, 10);
    let r = ok(
      await t.call('POST', `${m}/decision`, {
        token: t.tokens.office,
        body: { decision: 'reject', defects: ['面积不足1500㎡'], rectificationDeadline: deadline },
      }),
    );
    expect(r.milestones[0]).toMatchObject({
      status: 'rectifying',
      rectification: { defects: ['面积不足1500㎡'] },
    });
    await t.at(later(t, 20));
    await submitMilestone(t, m, { deliverable: '扩建后中心', counts: { area_m2: 1600 } });
    await preEvaluate(t, m, { opinion: '整改到位', recommendation: 'accept' });
    r = ok(
      await t.call('POST', `${m}/decision`, {
        token: t.tokens.office,
        body: { decision: 'accept' },
      }),
    );
    expect(r.milestones[0]).toMatchObject({ status: 'publicity', round: 2, rejections: 1 });
    await t.at(later(t, 8));
    await t.runDue();
    expect((await release(t, 'tengzhou-2019', 1, 'T1', 'tz1-T1')).status).toBe(201);
    expect((await release(t, 'tengzhou-2019', 1, 'T2', 'tz1-T2')).status).toBe(201);
    expect(ok(await t.call('GET', P, { token: t.tokens.office })).subprojects[0].status).toBe(
      'accepted',
    );
  });
});

describe('rectification deadline missed → public naming + clawback of exactly what was paid (subproject 4)', () => {
  const SP = `${P}/subprojects/4`;
  test('the deadline fires once; naming, termination, clawback; two partial recoveries settle it', async () => {
    await contract(t, 'tengzhou-2019', 4, {
      milestones: [
        { key: 'M1', title: '区域公共品牌', due: '2020-06-30' },
        { key: 'M2', title: '溯源系统', due: '2020-12-31' },
      ],
      tranches: [
        { key: 'T1', milestone: 'M1', source: 'central', amount: '200' },
        { key: 'T2', milestone: 'M2', source: 'central', amount: '279' },
        { key: 'T3', milestone: 'M2', source: 'local', amount: '120' },
      ],
    });
    await acceptMilestone(t, 'tengzhou-2019', 4, 'M1', { deliverable: '品牌发布' });
    expect((await release(t, 'tengzhou-2019', 4, 'T1', 'tz4-T1')).status).toBe(201);
    const m = `${SP}/milestones/M2`;
    await submitMilestone(t, m, { deliverable: '溯源系统上线' });
    await preEvaluate(t, m, { opinion: '未实现一品一码', recommendation: 'reject' });
    ok(
      await t.call('POST', `${m}/decision`, {
        token: t.tokens.office,
        body: {
          decision: 'reject',
          defects: ['未实现“一品一码”'],
          rectificationDeadline: later(t, 15).slice(0, 10),
        },
      }),
    );
    await t.at(later(t, 16));
    const late = await t.call('POST', `${m}/submission`, {
      token: t.tokens.contractor,
      body: { deliverable: '迟交' },
    });
    expect(late.status).toBe(409);
    const runs = [await t.runDue(), await t.runDue()];
    expect(runs.map((x) => x.fired)).toEqual([1, 0]);
    const s = ok(await t.call('GET', SP, { token: t.tokens.office }));
    expect(s.terminated.reason).toContain('整改期限届满');
    expect(s.named.org).toBe('滕州市邮政分公司');
    expect(s.clawback.demanded).toMatchObject({ central: { wan: '200' }, local: { wan: '0' } });
    const notices = await t.rt.prisma.notice.findMany({
      where: { programCode: 'tengzhou-2019', seq: 4 },
    });
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({ kind: 'public_naming', org: '滕州市邮政分公司' });
    expect(notices[0].title).toContain('通报');
    // no more money moves on a terminated subproject
    expect((await release(t, 'tengzhou-2019', 4, 'T2', 'tz4-T2')).status).toBe(409);
    // recoveries: over the outstanding amount is refused; 120 + 80 settle it
    const rec = (amount: string, key: string) =>
      t.call('POST', `${SP}/recoveries`, {
        token: t.tokens.finance,
        body: { source: 'central', amount, reference: key },
        headers: { 'idempotency-key': key },
      });
    expect((await rec('200.01', 'recovery-too-much')).status).toBe(422);
    ok(await rec('120', 'recovery-0001'), 201);
    ok(await rec('120', 'recovery-0001'), 200); // same key again: the first answer, recorded once (issue 12.3)
    let L = ok(await t.call('GET', `${SP}/ledger`, { token: t.tokens.finance }));
    expect(L.total).toMatchObject({
      disbursed: { wan: '200' },
      clawbackDemanded: { wan: '200' },
      recovered: { wan: '120' },
      outstanding: { wan: '80' },
    });
    ok(await rec('80', 'recovery-0002'), 201);
    L = ok(await t.call('GET', `${SP}/ledger`, { token: t.tokens.finance }));
    expect(L.total).toMatchObject({ recovered: { wan: '200' }, outstanding: { wan: '0' } });
    const after = ok(await t.call('GET', SP, { token: t.tokens.office }));
    expect(after.clawback.settledAt).not.toBeNull();
    expect(ok(await t.call('GET', P, { token: t.tokens.office })).subprojects[3].status).toBe(
      'settled',
    );
  });
});

describe('idempotent release under concurrency (subproject 2, stations with per-unit caps)', () => {
  test('R-FUND-5 bounds release by the units accepted; 50 identical requests pay once; 50 different keys → one 201, 49 × 409', async () => {
    await contract(t, 'tengzhou-2019', 2, {
      milestones: [{ key: 'M1', title: '镇村站点建成', due: '2020-12-31' }],
      tranches: [
        { key: 'T1', milestone: 'M1', source: 'central', amount: '141' },
        { key: 'T2', milestone: 'M1', source: 'local', amount: '120' },
      ],
    });
    await acceptMilestone(t, 'tengzhou-2019', 2, 'M1', {
      deliverable: '站点建成',
      counts: { town_station: 21, village_station: 200 },
    });
    const capped = await release(t, 'tengzhou-2019', 2, 'T1', 'tz2-capped');
    expect(capped.status).toBe(422); // 21×1万 + 200×0.5万 = 121万 < 141万
    expect(capped.body.rules).toEqual(['R-FUND-5']);
    expect(capped.body.detail).toContain('121万元');
    const before = await ledgerEntries();
    const same = await Promise.all(
      Array.from({ length: 50 }, () =>
        release(t, 'tengzhou-2019', 2, 'T1', 'tz2-T1-same', { amount: '121' }),
      ),
    );
    expect(same.filter((r) => r.status === 201)).toHaveLength(1);
    expect(same.filter((r) => r.status === 200)).toHaveLength(49);
    expect(new Set(same.map((r) => r.body.disbursement.id)).size).toBe(1);
    expect(await ledgerEntries()).toBe(before + 1);
    const diff = await Promise.all(
      Array.from({ length: 50 }, (_, i) => release(t, 'tengzhou-2019', 2, 'T2', `tz2-T2-key-${i}`)),
    );
    expect(diff.filter((r) => r.status === 201)).toHaveLength(1);
    expect(diff.filter((r) => r.status === 409)).toHaveLength(49);
    expect(diff.find((r) => r.status === 409)!.body.rules).toEqual(['R-FUND-7']);
    expect(await ledgerEntries()).toBe(before + 2);
  });
});

describe('the program ledger reconciles and the audit chain holds', () => {
  test('program totals = sum of subprojects; every entry once', async () => {
    const L = ok(await t.call('GET', `${P}/ledger`, { token: t.tokens.supervisor }));
    const sum = (k: string) => L.subprojects.reduce((a: number, s: any) => a + s.total[k].fen, 0);
    for (const k of [
      'budgeted',
      'contracted',
      'disbursed',
      'clawbackDemanded',
      'recovered',
      'outstanding',
    ])
      expect(L.total[k].fen).toBe(sum(k));
    expect(L.total.budgeted.wan).toBe('2100');
    expect(L.total.disbursed.wan).toBe(String(200 + 300 + 200 + 121 + 120)); // tz5 + tz1 + tz4 + tz2
    expect((await verifyAudit(t.rt.pool)).ok).toBe(true);
  });
  test("组织实施 → 绩效评价 is computed from the subprojects' money: accepted in full or terminated and settled", async () => {
    const r = await t.call('POST', `${P}/advance`, {
      token: t.tokens.office,
      body: { to: 'evaluate' },
    });
    expect(r.status).toBe(409);
    // 1 and 5 accepted and paid in full, 4 terminated with its clawback settled; 2 is paid in part only
    expect(r.body.violations[0].message).toContain('分项目 2、3、6、7 尚未验收合格或结清');
  });
});
