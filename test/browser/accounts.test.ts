// The users page in the browser (issue 13) and the log-in form under throttling (issue 12.6): a
// contractor locks itself out with wrong passwords and the form says for how long; the office sees the
// lock on the users page, unlocks it, resets its password (a short one refused beside the field), and
// the contractor logs in with the new one.
import type { Page } from 'playwright-core';
import { logIn, shot, webConsole } from '../support/browser';
import { PASSWORD } from '../support/server';

jest.setTimeout(30_000);

const web = webConsole({ now: '2019-10-20T02:00:00.000Z' });

async function tryLogIn(page: Page, username: string, password: string): Promise<void> {
  await page.goto(`${web.t.base}/login`);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', password);
  await Promise.all([page.waitForEvent('load'), page.click('button:has-text("登录")')]);
}

test('issue 12.6 and 13: locked by failed log-ins, unlocked and given a new password on the users page', async () => {
  const contractor = await (await web.newContext()).newPage();
  for (let i = 0; i < 5; i++) await tryLogIn(contractor, 'contractor1', 'wrong-password');
  await tryLogIn(contractor, 'contractor1', PASSWORD);
  expect(await contractor.locator('.problem').innerText()).toContain('登录失败次数过多');
  await shot(contractor, 'login-throttled');

  const office = await (await web.newContext()).newPage();
  await office.goto(`${web.t.base}/users`);
  await logIn(office, 'office1');
  const row = office.locator('#user-contractor1');
  expect(await row.innerText()).toContain('登录失败 5 次');
  expect(await row.innerText()).toContain('已锁定至');
  await Promise.all([office.waitForEvent('load'), row.locator('button:has-text("解锁")').click()]);
  expect(await office.locator('.flash').innerText()).toContain('已解除登录锁定');
  expect(await office.locator('#user-contractor1').innerText()).toContain('正常');

  // a password too short: the server's answer beside the field, the details left open
  await office.locator('#user-contractor1 summary').click();
  const reset = office.locator('#user-contractor1 form[action$="/password"]');
  await reset.locator('input[name=password]').fill('short');
  await reset.locator('input[name=password]').evaluate((el) => el.removeAttribute('required'));
  await Promise.all([office.waitForEvent('load'), reset.locator('button').click()]);
  expect(await office.locator('#user-contractor1 .field-error').innerText()).toContain(
    '密码至少8位',
  );
  await shot(office, 'users-reset-refused');
  await office.locator('#user-contractor1 input[name=password]').fill('new-horse-battery');
  await Promise.all([
    office.waitForEvent('load'),
    office.locator('#user-contractor1 form[action$="/password"] button').click(),
  ]);
  expect(await office.locator('body').innerText()).toContain('已重置密码');
  await shot(office, 'users-office');

  await tryLogIn(contractor, 'contractor1', PASSWORD);
  expect(await contractor.locator('.problem').innerText()).toContain('用户名或密码不正确');
  await tryLogIn(contractor, 'contractor1', 'new-horse-battery');
  expect(new URL(contractor.url()).pathname).toBe('/');
});
