// R-PUB-1: the program's disclosure data (budget table `disclosure`) and the public column built on it:
// the marker's reporting phones, the column's pages and their JSON twins, nothing internal on them.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Notifier } from '../../activities/notify/dispatch';
import { createMailer } from '../../activities/notify/mailer';
import { findCjkFont } from '../../activities/notify/pdf';
import { loadTable, type Table } from '../support/fixtures';
import { later, ok } from '../support/flows';
import { startTestServer, type TestServer } from '../support/server';
import { tmpdir } from 'node:os';

jest.setTimeout(90_000);
let t: TestServer;
let notifier: Notifier;

const example = (name: string): Table =>
  JSON.parse(
    readFileSync(path.join(__dirname, '..', '..', 'examples', `${name}.json`), 'utf8'),
  ) as Table;
const PHONE = '滕州市商务和投资促进局 0632-0000000'; // a test number, not a real one

beforeAll(async () => {
  t = await startTestServer({ now: '2019-10-20T02:00:00.000Z' });
  notifier = new Notifier({
    pool: t.rt.pool,
    mailer: createMailer({ dataDir: tmpdir() }),
    now: () => t.clock.now(),
    font: findCjkFont(),
    from: 'shifan 示范 <noreply@shifan.local>',
  });
});
afterAll(async () => {
  await t?.close();
});

describe('R-PUB-1 disclosure data in the budget table', () => {
  test('a malformed disclosure is refused with its field, nothing stored', async () => {
    const bad = (disclosure: unknown) => ({
      ...loadTable('tengzhou-2019'),
      code: 'bad-2019',
      disclosure,
    });
    for (const [disclosure, field] of [
      [{ phones: ['电话'] }, 'disclosure.phones[0]'],
      [{ phones: '12312' }, 'disclosure.phones'],
      [{}, 'disclosure.phones'],
      [{ phones: [], fax: '0632-1' }, 'disclosure'],
      [{ phones: [], office: '' }, 'disclosure.office'],
    ] as const) {
      const r = await t.call('POST', '/api/programs', {
        token: t.tokens.office,
        body: bad(disclosure),
      });
      expect(r.status).toBe(400);
      expect(JSON.stringify(r.body.errors)).toContain(field);
    }
    expect(await t.count('program')).toBe(0);
  });

  test("the examples carry the seeds' reporting numbers into the program definition", async () => {
    ok(
      await t.call('POST', '/api/programs', {
        token: t.tokens.office,
        body: example('shicheng-2020'),
      }),
      201,
    );
    const created = await t.rt.prisma.event.findFirst({
      where: { streamId: 'program-shicheng-2020', version: 1 },
    });
    expect((created?.data as any).definition.disclosure).toEqual({
      phones: ['江西省商务厅 0791-86246339', '石城县商务局 0797-5792681'],
      office: '石城县电子商务产业发展领导小组办公室（设在县商务局）',
    });
  });

  test("a notice's marker prints the program's phones; without them the national 12312", async () => {
    const withPhones = { ...loadTable('tengzhou-2019'), disclosure: { phones: [PHONE] } };
    ok(await t.call('POST', '/api/programs', { token: t.tokens.office, body: withPhones }), 201);
    const plain = { ...loadTable('tengzhou-2019'), code: 'plain-2019', docPrefix: '普商务' };
    ok(await t.call('POST', '/api/programs', { token: t.tokens.office, body: plain }), 201);
    for (const code of ['tengzhou-2019', 'plain-2019']) {
      for (const gate of ['plan_filed', 'leading_group_established'])
        ok(
          await t.call('POST', `/api/programs/${code}/gates/${gate}`, {
            token: t.tokens.office,
            body: { document: { title: gate } },
          }),
        );
      ok(
        await t.call('POST', `/api/programs/${code}/advance`, {
          token: t.tokens.office,
          body: { to: 'implement' },
        }),
      );
      ok(
        await t.call('POST', `/api/programs/${code}/subprojects/1/tender`, {
          token: t.tokens.office,
          body: {
            announcement: { title: '公共服务中心招标公告' },
            bidDeadline: later(t, 21).slice(0, 10),
          },
        }),
        201,
      );
    }
    await notifier.runOnce();
    const html = async (code: string) =>
      (await t.rt.prisma.officialNotice.findFirstOrThrow({ where: { programCode: code } })).html;
    const marked = await html('tengzhou-2019');
    expect(marked).toContain('全国电子商务进农村综合示范项目');
    expect(marked).toContain(PHONE);
    expect(marked).not.toContain('12312');
    expect(await html('plain-2019')).toContain('12312（商务部举报电话）');
  });
});

describe('R-PUB-1 the public column (综合示范工作专栏): pages and their JSON twins, no log-in', () => {
  const sp = '/api/programs/tengzhou-2019/subprojects/1';
  const page = async (p: string, headers: Record<string, string> = {}) => {
    const r = await fetch(`${t.base}${p}`, { headers, redirect: 'manual' });
    return { status: r.status, headers: r.headers, text: await r.text() };
  };
  const json = async (p: string) => (await t.call('GET', p, { token: null })).body;

  test('the home lists every program, cacheable, with a conditional GET', async () => {
    const home = await page('/gongkai');
    expect(home.status).toBe(200);
    expect(home.text).toContain('综合示范工作专栏');
    expect(home.text).toContain('全国电子商务进农村综合示范项目');
    expect(home.text).toContain('href="/gongkai/shicheng-2020"');
    expect(home.text).not.toContain('退出'); // not the console's navigation
    expect(home.headers.get('cache-control')).toBe('public, max-age=60');
    const etag = home.headers.get('etag');
    expect(etag).toBeTruthy();
    // (fetch adds `Cache-Control: no-cache` to a conditional request unless it names its own, as a browser's
    // revalidation does)
    expect(
      (await page('/gongkai', { 'if-none-match': etag!, 'cache-control': 'max-age=0' })).status,
    ).toBe(304);
    const api = await json('/api/public/programs');
    expect(api.items.map((p: any) => p.code)).toEqual([
      'plain-2019',
      'shicheng-2020',
      'tengzhou-2019',
    ]);
  });

  test("Shicheng's page: plan, contents, fund table and the seeds' two reporting numbers", async () => {
    const p = await page('/gongkai/shicheng-2020');
    expect(p.status).toBe(200);
    for (const text of [
      '项目启动与筹备',
      '2019年8月1日',
      '石城县电子商务公共服务中心提升建设',
      '资金安排表',
      '江西省商务厅 0791-86246339',
      '石城县商务局 0797-5792681',
      '石城县电子商务产业发展领导小组办公室（设在县商务局）',
    ])
      expect(p.text).toContain(text);
    expect(p.text).not.toContain('12312');
    const api = await json('/api/public/programs/shicheng-2020');
    expect(api.contacts.phones).toHaveLength(2);
    expect(api.plan.map((x: any) => x.state)).toEqual(['current', 'pending', 'pending']);
    expect(api.funds.totals.total.fen).toBeGreaterThan(0);
  });

  test('bids stay sealed on the column until the opening (R-TD-1); then the candidate publicity counts down', async () => {
    if (!t.tokens.contractorC)
      await t.addUserAndLogin('contractorC', 'contractor', '鲁南快递有限公司');
    for (const [token, price] of [
      [t.tokens.contractor, '1000000'],
      [t.tokens.contractorB, '987654.32'],
      [t.tokens.contractorC, '1100000'],
    ])
      ok(
        await t.call('POST', `${sp}/bids`, {
          token,
          body: { price, proposal: '投标方案（内部）' },
        }),
        201,
      );
    const before = [
      (await page('/gongkai/tengzhou-2019')).text,
      JSON.stringify(await json('/api/public/programs/tengzhou-2019')),
    ];
    for (const text of before) {
      expect(text).toContain('公共服务中心招标公告');
      for (const secret of [
        '某物流有限公司',
        '鲁南快递有限公司',
        '987,654.32',
        '98765432',
        '投标方案（内部）',
        'contractor1',
        'office1',
      ])
        expect(text).not.toContain(secret);
    }
    await t.at(later(t, 22));
    ok(await t.call('POST', `${sp}/opening`, { token: t.tokens.office, body: {} }));
    ok(
      await t.call('POST', `${sp}/scores`, {
        token: t.tokens.evaluator,
        body: {
          scores: [
            { org: '滕州市邮政分公司', score: 95 },
            { org: '某物流有限公司', score: 90 },
            { org: '鲁南快递有限公司', score: 85 },
          ],
        },
      }),
    );
    ok(
      await t.call('POST', `${sp}/candidate`, {
        token: t.tokens.office,
        body: { org: '滕州市邮政分公司' },
      }),
    );
    const api = await json('/api/public/programs/tengzhou-2019');
    expect(api.publicity).toEqual([
      expect.objectContaining({
        kind: 'candidate',
        seq: 1,
        what: '中标候选人：滕州市邮政分公司',
        daysLeft: 3,
        ended: false,
      }),
    ]);
    expect(api.decisions.map((d: any) => d.what)).toEqual(
      expect.arrayContaining([
        expect.stringContaining('开标（第1轮）：有效投标 3 家'),
        expect.stringContaining('中标候选人公示：滕州市邮政分公司'),
      ]),
    );
    const html = (await page('/gongkai/tengzhou-2019')).text;
    expect(html).toMatch(/公示期剩余 <strong>3<\/strong> 天/);
    expect(html).toContain(PHONE);
    // the disbursement section says plainly that nothing is paid yet
    expect(html).toContain('尚未拨付资金');
  });

  test('notices: filter by kind, search by title and 文号, each with its HTML and PDF', async () => {
    await notifier.runOnce();
    const all = await json('/api/public/programs/tengzhou-2019');
    const kinds = all.notices.items.map((n: any) => n.kind);
    expect(kinds).toEqual(expect.arrayContaining(['tender_announcement', 'candidate_publicity']));
    const tender = all.notices.items.find((n: any) => n.kind === 'tender_announcement');
    const byKind = await json('/api/public/programs/tengzhou-2019?kind=candidate_publicity');
    expect(byKind.notices.items.map((n: any) => n.kind)).toEqual(['candidate_publicity']);
    const byNumber = await json(
      `/api/public/programs/tengzhou-2019?q=${encodeURIComponent(tender.docNumber)}`,
    );
    expect(byNumber.notices.items.map((n: any) => n.id)).toEqual([tender.id]);
    const p = await page(`/gongkai/tengzhou-2019?q=${encodeURIComponent('招标公告')}`);
    expect(p.text).toContain(`href="/api/notices/${tender.id}"`);
    expect(p.text).toContain(`href="/api/notices/${tender.id}/pdf"`);
    expect(p.text).not.toContain('中标候选人公示</td>');
    expect((await page(`/api/notices/${tender.id}/pdf`)).status).toBe(200);
  });

  test('an unknown program and a bad filter are pages in Chinese, not JSON', async () => {
    const missing = await page('/gongkai/no-such-program');
    expect(missing.status).toBe(404);
    expect(missing.text).toContain('没有找到这个综合示范项目');
    const bad = await page('/gongkai/tengzhou-2019?kind=secret');
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('查询条件有误');
    expect(
      (await t.call('GET', '/api/public/programs/tengzhou-2019?kind=secret', { token: null }))
        .status,
    ).toBe(400);
  });
});
