// R-PUB-1 with R-TD-1 in the browser, JavaScript disabled: anyone objects to a winning-candidate
// publicity from the column's page (a refusal is shown beside its field, in Chinese), gets a receipt,
// and the award stays suspended until the office resolves the objection in its console; a report (举报)
// is answered from the program page, and its sender reads the answer by the receipt.
import { shot, webConsole } from '../support/browser';
import { later, ok, tengzhouInImplementation } from '../support/flows';
import type { TestServer } from '../support/server';

jest.setTimeout(90_000);
const SP = '/api/programs/tengzhou-2019/subprojects/1';

async function candidateInPublicity(t: TestServer): Promise<void> {
  await tengzhouInImplementation(t);
  const post = (path: string, token: string, body: unknown = {}) =>
    t.call('POST', `${SP}${path}`, { token, body });
  ok(
    await post('/tender', t.tokens.office, {
      announcement: { title: '公共服务中心招标公告' },
      bidDeadline: later(t, 21).slice(0, 10),
    }),
    201,
  );
  for (const token of [t.tokens.contractor, t.tokens.contractorB, t.tokens.contractorC])
    ok(await post('/bids', token, { price: '1000000', proposal: '方案' }), 201);
  await t.at(later(t, 22));
  ok(await post('/opening', t.tokens.office));
  ok(
    await post('/scores', t.tokens.evaluator, {
      scores: [
        { org: '滕州市邮政分公司', score: 95 },
        { org: '某物流有限公司', score: 90 },
        { org: '鲁南快递有限公司', score: 85 },
      ],
    }),
  );
  ok(await post('/candidate', t.tokens.office, { org: '滕州市邮政分公司' }));
}

const web = webConsole({ now: '2019-10-20T02:00:00.000Z', setup: candidateInPublicity });
const PHONE = '139 0000 5678'; // a test number

test('without JavaScript: a public objection is refused beside its field, then received; the award waits for the office', async () => {
  const ctx = await web.browser.newContext({ javaScriptEnabled: false, locale: 'zh-CN' });
  const page = await ctx.newPage();
  await page.goto(`${web.t.base}/gongkai/tengzhou-2019`);
  const item = page.locator('#publicity li').first();
  expect(await item.innerText()).toContain('中标候选人：滕州市邮政分公司');
  await item.locator('summary').click(); // <details>: opens without a script
  await item.locator('textarea[name=text]').fill('短');
  await item.locator('input[name=name]').fill('李四');
  await Promise.all([page.waitForEvent('load'), item.locator('button').click()]);
  // the server's answer, beside the field, with what was typed kept and the form open
  const again = page.locator('#publicity li').first();
  expect(await again.locator('.field-error').innerText()).toBe('异议内容至少 5 个字');
  expect(await again.locator('input[name=name]').inputValue()).toBe('李四');
  expect(await again.locator('details').getAttribute('open')).not.toBeNull();
  await shot(page, 'public-objection-refused');
  await again.locator('textarea[name=text]').fill('中标候选人近三年有行贿犯罪记录，不具备投标资格');
  await again.locator('input[name=phone]').fill(PHONE);
  await Promise.all([page.waitForURL(/\/gongkai\/receipts\/YY-/), again.locator('button').click()]);
  expect(await page.locator('.notice-ok').innerText()).toContain('已收到您的异议');
  const receipt = await page.locator('.receipt-no').innerText();
  expect(receipt).toMatch(/^YY-[0-9A-Z]{10}$/);
  const receiptPage = await page.locator('main').innerText();
  expect(receiptPage).toContain('处理前暂停定标');
  expect(receiptPage).not.toContain('李四');
  expect(receiptPage).not.toContain(PHONE);
  await shot(page, 'public-objection-receipt');

  // the office: in its 待办, the objection with the sender's contact; the award is refused meanwhile
  await web.t.at(later(web.t, 4));
  const office = await web.loginAs('office1');
  await Promise.all([
    office.waitForEvent('load'),
    office.click('a:has-text("处理异议：中标候选人近三年有行贿犯罪记录")'),
  ]);
  const card = office.locator('#objections + .card');
  expect(await card.innerText()).toContain(`社会公众（李四 ${PHONE} · 回执 ${receipt}）`);
  const award = await web.t.call('POST', `${SP}/award`, { token: web.t.tokens.office, body: {} });
  expect(award.status).toBe(409);
  expect(award.body.detail).toContain('暂停定标');
  await card.locator('select[name=decision]').selectOption('dismissed');
  await card.locator('input[name=reason]').fill('经查询裁判文书网，无相关记录');
  await Promise.all([office.waitForEvent('load'), card.locator('button').click()]);
  ok(await web.t.call('POST', `${SP}/award`, { token: web.t.tokens.office, body: {} }));

  // the sender checks by the receipt, from the form
  await page.goto(`${web.t.base}/gongkai/receipts`);
  await page.fill('input[name=no]', receipt.toLowerCase());
  await Promise.all([
    page.waitForURL(/\/gongkai\/receipts\/YY-/),
    page.click('button:has-text("查询")'),
  ]);
  const status = await page.locator('main').innerText();
  expect(status).toContain('异议不成立');
  expect(status).toContain('经查询裁判文书网，无相关记录');
  await ctx.close();
});

test('without JavaScript: a report is received, answered by the office, and its answer read by the receipt', async () => {
  const ctx = await web.browser.newContext({ javaScriptEnabled: false, locale: 'zh-CN' });
  const page = await ctx.newPage();
  await page.goto(`${web.t.base}/gongkai/tengzhou-2019#report`);
  const form = page.locator('#report form');
  await form.locator('select[name=seq]').selectOption('3');
  await form.locator('input[name=phone]').fill('电话');
  await form.locator('textarea[name=text]').fill('某村服务站挂牌后从未开门');
  await Promise.all([page.waitForEvent('load'), form.locator('button').click()]);
  const refused = page.locator('#report');
  expect(await refused.locator('.field-error').innerText()).toContain('联系电话只能是');
  expect(await refused.locator('select[name=seq]').inputValue()).toBe('3');
  await refused.locator('input[name=phone]').fill('');
  await Promise.all([
    page.waitForURL(/\/gongkai\/receipts\/JB-/),
    refused.locator('button').click(),
  ]);
  const receipt = await page.locator('.receipt-no').innerText();
  expect(await page.locator('main').innerText()).toContain('待办公室答复');

  const office = await web.loginAs('office1');
  await Promise.all([
    office.waitForEvent('load'),
    office.click('a:has-text("答复举报（分项目3）：某村服务站挂牌后从未开门")'),
  ]);
  const row = office.locator('#report-R1');
  expect(await row.innerText()).toContain('匿名');
  await row.locator('textarea[name=text]').fill('已到现场核查，责成承办企业按时开门营业');
  await Promise.all([office.waitForEvent('load'), row.locator('button').click()]);
  expect(await office.locator('#report-R1').innerText()).toContain('已到现场核查');
  await shot(office, 'console-reports');

  await page.goto(`${web.t.base}/gongkai/receipts/${receipt}`);
  const status = await page.locator('main').innerText();
  expect(status).toContain('已答复');
  expect(status).toContain('已到现场核查，责成承办企业按时开门营业');
  await ctx.close();
});

test("R-FUND-9: the office's button publishes the last quarter's fund use; the column shows its table", async () => {
  const office = await web.loginAs('office1');
  await office.goto(`${web.t.base}/programs/tengzhou-2019#fund-use`);
  const form = office.locator('form[action$="/fund-use"]');
  expect(await form.locator('input[name=period]').inputValue()).toBe('2019-Q3');
  await Promise.all([office.waitForEvent('load'), form.locator('button').click()]);
  expect(await office.locator('body').innerText()).toContain('已公开资金使用情况');
  // the same period again: refused beside the field, R-FUND-9 named
  const again = office.locator('form[action$="/fund-use"]');
  await Promise.all([office.waitForEvent('load'), again.locator('button').click()]);
  expect(await office.locator('form[action$="/fund-use"]').innerText()).toContain('R-FUND-9');

  const ctx = await web.browser.newContext({ javaScriptEnabled: false, locale: 'zh-CN' });
  const page = await ctx.newPage();
  await page.goto(`${web.t.base}/gongkai/tengzhou-2019#fund-use`);
  const section = await page.locator('#fund-use').innerText();
  expect(section).toContain('2019年第三季度中央财政资金使用情况');
  expect(section).toContain('滕州电子商务公共服务中心建设');
  await page.locator('#fund-use').screenshot({
    path: `${process.env.SCREENSHOT_DIR ?? `${__dirname}/../../.data/screenshots`}/public-fund-use.png`,
  });
  await ctx.close();
});
