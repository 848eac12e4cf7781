// The web console in a real browser (playwright-core driving Debian's chromium): log in as each role
// and do the day's work from the pages alone; forms without their CSRF token are refused.
import { shot, webConsole } from '../support/browser';

const web = webConsole({ now: '2019-10-20T02:00:00.000Z', program: 'tengzhou-2019' });

test('office: the inbox lists the open gates; the program page records one with its form and the audit record shows it', async () => {
  const page = await web.loginAs('office1');
  expect(await page.locator('h1').innerText()).toContain('待办');
  expect(await page.locator('table').innerText()).toContain(
    '登记关口：实施方案经批准并报省商务厅备案',
  );
  await shot(page, 'inbox-office');

  await page.click('text=登记关口：实施方案经批准并报省商务厅备案');
  expect(await page.locator('h1').innerText()).toContain('滕州市');
  const gate = page.locator('#gate-plan_filed form');
  await gate.locator('input[name="document.title"]').fill('滕州市电子商务进农村综合示范实施方案');
  await gate.locator('input[name="document.number"]').fill('滕政办字〔2019〕33号');
  await gate.locator('button').click();
  expect(await page.locator('.flash').innerText()).toContain('已登记关口事项');
  expect(await page.locator('#gate-plan_filed').innerText()).toContain('已完成');
  expect(await page.locator('h2:has-text("流程跟踪") + table').innerText()).toContain(
    '登记关口事项',
  );

  // advancing with a gate still open: the API's problem answer, naming the gate, on the page
  await page.click('#advance button');
  expect(await page.locator('.problem').innerText()).toContain('成立领导小组');
  await shot(page, 'program-office');
});

test('a form posted without its CSRF token is refused and changes nothing', async () => {
  const page = await web.loginAs('office1');
  const before = await web.t.count('event');
  const status = await page.evaluate(async () => {
    const r = await fetch('/programs/tengzhou-2019/gates/leading_group_established', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'document.title=%E9%A2%86%E5%AF%BC%E5%B0%8F%E7%BB%84',
    });
    return r.status;
  });
  expect(status).toBe(403);
  expect(await web.t.count('event')).toBe(before);
});

test('a refused form keeps what was typed and shows the problem beside the field', async () => {
  const page = await web.loginAs('office1');
  await page.goto(`${web.t.base}/programs/tengzhou-2019`);
  const gate = page.locator('#gate-leading_group_established form');
  await gate.locator('input[name="document.title"]').fill('领导小组');
  await gate.locator('input[name="document.number"]').fill('号'.repeat(101)); // a 文号 is at most 100 characters
  await gate.locator('button').click();
  expect(await page.locator('.problem').count()).toBe(1);
  expect(await page.locator('#gate-leading_group_established .field-error').innerText()).toMatch(
    /100/,
  );
  expect(await web.t.count('event')).toBe(2); // the program and the first gate act: nothing stored
  expect(
    await page.locator('#gate-leading_group_established input[name="document.title"]').inputValue(),
  ).toBe('领导小组');
});
