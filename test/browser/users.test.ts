// The office's users page in a real browser: add a user with the form (an audited office act); a
// refused form names the field; other roles may not open it.
import { chromium, type Browser, type Page } from 'playwright-core';
import { PASSWORD, startTestServer, type TestServer } from '../support/server';

let t: TestServer;
let browser: Browser;
beforeAll(async () => {
  t = await startTestServer({ now: '2019-10-20T02:00:00.000Z' });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

async function loginAs(username: string): Promise<Page> {
  const page = await (await browser.newContext({ locale: 'zh-CN' })).newPage();
  await page.goto(`${t.base}/login`);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', PASSWORD);
  await Promise.all([page.waitForURL(`${t.base}/`), page.click('button:has-text("登录")')]);
  return page;
}

test('the office adds a contractor from the users page; the act is in the audit record', async () => {
  const page = await loginAs('office1');
  await page.goto(`${t.base}/users`);
  const form = page.locator('#add-user');
  await form.locator('input[name=username]').fill('zhang.san');
  await form.locator('input[name=password]').fill('new-pass-123');
  await form.locator('select[name=role]').selectOption('contractor');
  await form.locator('input[name=org]').fill('滕州市某电商服务公司');
  await form.locator('button').click();
  expect(await page.locator('.flash').innerText()).toContain('已新增用户');
  expect(await page.locator('table').innerText()).toContain('滕州市某电商服务公司');
  const { rows } = await t.rt.pool.query<{ type: string; actor: string }>(
    "SELECT type, actor FROM event WHERE stream_id = 'user-zhang.san'",
  );
  expect(rows).toEqual([{ type: 'UserAdded', actor: 'office1' }]);
});

test('a contractor without an organisation is refused beside the field, the typed name kept', async () => {
  const page = await loginAs('office1');
  await page.goto(`${t.base}/users`);
  const form = page.locator('#add-user');
  await form.locator('input[name=username]').fill('li.si');
  await form.locator('input[name=password]').fill('new-pass-123');
  await form.locator('select[name=role]').selectOption('contractor');
  await form.locator('button').click();
  expect(await page.locator('.problem').innerText()).toContain('组织');
  expect(await page.locator('#add-user .field-error').first().innerText()).toContain('组织');
  expect(await page.locator('#add-user input[name=username]').inputValue()).toBe('li.si');
  expect(await t.count('event')).toBe(1); // zhang.san's only
});

test('other roles may not open the users page', async () => {
  const page = await loginAs('finance1');
  const r = await page.goto(`${t.base}/users`);
  expect(r?.status()).toBe(403);
  expect(await page.locator('.problem').innerText()).toContain('只有领导小组办公室');
});
