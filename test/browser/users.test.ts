// The office's users page in a real browser: add a user with the form (an audited office act); a
// refused form names the field; other roles may not open it.
import type { Page } from 'playwright-core';
import { webConsole } from '../support/browser';

const web = webConsole({ now: '2019-10-20T02:00:00.000Z' });

/** Fills the users page's add-user form and sends it. */
async function addUser(
  page: Page,
  user: { username: string; password: string; role: string; org?: string },
): Promise<void> {
  await page.goto(`${web.t.base}/users`);
  const form = page.locator('#add-user');
  await form.locator('input[name=username]').fill(user.username);
  await form.locator('input[name=password]').fill(user.password);
  await form.locator('select[name=role]').selectOption(user.role);
  if (user.org !== undefined) await form.locator('input[name=org]').fill(user.org);
  await form.locator('button').click();
}

test('the office adds a contractor from the users page; the act is in the audit record', async () => {
  const page = await web.loginAs('office1');
  await addUser(page, {
    username: 'zhang.san',
    password: 'new-pass-123',
    role: 'contractor',
    org: '滕州市某电商服务公司',
  });
  expect(await page.locator('.flash').innerText()).toContain('已新增用户');
  expect(await page.locator('table').innerText()).toContain('滕州市某电商服务公司');
  const { rows } = await web.t.rt.pool.query<{ type: string; actor: string }>(
    "SELECT type, actor FROM event WHERE stream_id = 'user-zhang.san'",
  );
  expect(rows).toEqual([{ type: 'UserAdded', actor: 'office1' }]);
});

test('a contractor without an organisation is refused beside the field, the typed name kept', async () => {
  const page = await web.loginAs('office1');
  await addUser(page, { username: 'li.si', password: 'new-pass-123', role: 'contractor' });
  expect(await page.locator('.problem').innerText()).toContain('组织');
  expect(await page.locator('#add-user .field-error').first().innerText()).toContain('组织');
  expect(await page.locator('#add-user input[name=username]').inputValue()).toBe('li.si');
  expect(await web.t.count('event')).toBe(1); // zhang.san's only
});

test('other roles may not open the users page', async () => {
  const page = await web.loginAs('finance1');
  const r = await page.goto(`${web.t.base}/users`);
  expect(r?.status()).toBe(403);
  expect(await page.locator('.problem').innerText()).toContain('只有领导小组办公室');
});
