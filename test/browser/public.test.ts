// R-PUB-1 in the browser: the public column (综合示范工作专栏) without logging in, on a laptop, on a
// phone, printed on A4 and with JavaScript disabled; a program with money paid and a milestone in
// its acceptance publicity (the countdown), and Shicheng with the two reporting numbers of its plan.
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Notifier } from '../../activities/notify/dispatch';
import { createMailer } from '../../activities/notify/mailer';
import { findCjkFont } from '../../activities/notify/pdf';
import { shot, webConsole } from '../support/browser';
import { contract, ok, release, tengzhouInImplementation } from '../support/flows';
import type { TestServer } from '../support/server';

jest.setTimeout(60_000);
const SP = '/api/programs/tengzhou-2019/subprojects/1';

async function withMoneyAndPublicity(t: TestServer): Promise<void> {
  ok(
    await t.call('POST', '/api/programs', {
      token: t.tokens.office,
      body: JSON.parse(
        readFileSync(path.join(__dirname, '..', '..', 'examples', 'shicheng-2020.json'), 'utf8'),
      ),
    }),
    201,
  );
  await tengzhouInImplementation(t);
  await contract(t, 'tengzhou-2019', 1, {
    milestones: [
      { key: 'M1', title: '公共服务中心装修完成', due: '2020-06-30' },
      { key: 'M2', title: '公共服务中心运营满半年', due: '2020-12-31' },
    ],
    tranches: [
      { key: 'T1', milestone: 'M1', source: 'central', amount: '100' },
      { key: 'T2', milestone: 'M2', source: 'central', amount: '100' },
      { key: 'T3', milestone: 'M2', source: 'local', amount: '100' },
    ],
  });
  for (const key of ['M1', 'M2']) {
    const m = `${SP}/milestones/${key}`;
    ok(
      await t.call('POST', `${m}/submission`, {
        token: t.tokens.contractor,
        body: { deliverable: `${key} 完成` },
      }),
      201,
    );
    ok(
      await t.call('POST', `${m}/pre-evaluation`, {
        token: t.tokens.evaluator,
        body: { opinion: '评估意见（内部）', recommendation: 'accept' },
      }),
    );
    ok(
      await t.call('POST', `${m}/decision`, {
        token: t.tokens.office,
        body: { decision: 'accept' },
      }),
    );
    if (key === 'M1') {
      await t.at(new Date(t.clock.now().getTime() + 8 * 86_400_000).toISOString());
      await t.rt.scheduler.runDue();
      ok(await release(t, 'tengzhou-2019', 1, 'T1', 'pub-t1'), 201);
      await t.at(new Date(t.clock.now().getTime() + 40 * 86_400_000).toISOString());
    }
  }
  await t.at(new Date(t.clock.now().getTime() + 2 * 86_400_000).toISOString());
  // the dispatcher issues the notices the events caused (文号, HTML, PDF)
  await new Notifier({
    pool: t.rt.pool,
    mailer: createMailer({ dataDir: tmpdir() }),
    now: () => t.clock.now(),
    font: findCjkFont(),
    from: 'shifan 示范 <noreply@shifan.local>',
  }).runOnce();
}

const web = webConsole({ now: '2019-10-20T02:00:00.000Z', setup: withMoneyAndPublicity });

test('the column home and a program page, without a log-in, on a laptop and printed on A4', async () => {
  const page = await (await web.newContext()).newPage();
  await page.goto(`${web.t.base}/gongkai`);
  expect(await page.locator('h1').innerText()).toBe('综合示范工作专栏');
  await shot(page, 'public-home');
  await page.click('text=滕州市电子商务进农村综合示范');
  await page.waitForURL(/\/gongkai\/tengzhou-2019$/);
  expect(page.url()).not.toContain('/login');
  expect(await page.locator('.marker-box').innerText()).toContain('全国电子商务进农村综合示范项目');
  expect(await page.locator('#publicity').innerText()).toMatch(/公示期剩余 \d+ 天/);
  expect(await page.locator('#money svg').count()).toBe(1);
  expect(await page.locator('#contents').innerText()).toContain('滕州市邮政分公司');
  const body = await page.locator('body').innerText();
  expect(body).not.toContain('评估意见（内部）');
  await shot(page, 'public-program');
  await page.screenshot({
    path: path.join(__dirname, '..', '..', '.data', 'screenshots', 'public-program-top.png'),
  });
  await page.emulateMedia({ media: 'print' });
  expect(await page.locator('form.filter').isVisible()).toBe(false);
  await shot(page, 'public-program-print');
  await page.pdf({
    path: path.join(__dirname, '..', '..', '.data', 'screenshots', 'public-program.pdf'),
    format: 'A4',
  });
});

test('complete without JavaScript: the notice filter is a plain GET form', async () => {
  const ctx = await web.browser.newContext({ javaScriptEnabled: false, locale: 'zh-CN' });
  const page = await ctx.newPage();
  await page.goto(`${web.t.base}/gongkai/tengzhou-2019`);
  await page.selectOption('select[name=kind]', 'acceptance_publicity');
  await Promise.all([
    page.waitForURL(/kind=acceptance_publicity/),
    page.click('button:has-text("检索")'),
  ]);
  const rows = await page.locator('table.notices tbody tr').allInnerTexts();
  expect(rows.length).toBeGreaterThan(0);
  for (const r of rows) expect(r).toContain('验收结果公示');
  await ctx.close();
});

test("on a phone: Shicheng's page with its reporting numbers", async () => {
  const ctx = await web.browser.newContext({
    locale: 'zh-CN',
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
  });
  const page = await ctx.newPage();
  await page.goto(`${web.t.base}/gongkai/shicheng-2020`);
  const contacts = await page.locator('#contacts').innerText();
  expect(contacts).toContain('江西省商务厅 0791-86246339');
  expect(contacts).toContain('石城县商务局 0797-5792681');
  // nothing wider than the phone but the tables that scroll sideways
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await shot(page, 'public-program-phone');
  await ctx.close();
});
