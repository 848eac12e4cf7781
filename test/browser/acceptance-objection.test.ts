// R-AC-3 in the browser: during a milestone's acceptance publicity the supervisor objects on the
// milestone card, the office sees it in its 待办, a ruling without a reason is refused beside the field
// with the typed decision kept, and the ruling with a reason closes it. The API only sets the stage.
import type { Page } from 'playwright-core';
import { logIn, shot, webConsole } from '../support/browser';
import { contract, ok, tengzhouInImplementation } from '../support/flows';
import type { TestServer } from '../support/server';

jest.setTimeout(30_000);

const SP = '/programs/tengzhou-2019/subprojects/6';

async function inPublicity(t: TestServer): Promise<void> {
  await tengzhouInImplementation(t);
  await contract(t, 'tengzhou-2019', 6, {
    milestones: [{ key: 'M1', title: '一期', due: '2020-06-30' }],
    tranches: [{ key: 'T1', milestone: 'M1', source: 'central', amount: '100' }],
  });
  const m = `/api${SP}/milestones/M1`;
  ok(
    await t.call('POST', `${m}/submission`, {
      token: t.tokens.contractor,
      body: { deliverable: '一期完成', counts: { stations: 1 } },
    }),
    201,
  );
  ok(
    await t.call('POST', `${m}/pre-evaluation`, {
      token: t.tokens.evaluator,
      body: { opinion: '资料齐全，建议通过', recommendation: 'accept' },
    }),
  );
  ok(
    await t.call('POST', `${m}/decision`, { token: t.tokens.office, body: { decision: 'accept' } }),
  );
}

const web = webConsole({ now: '2019-10-20T02:00:00.000Z', setup: inPublicity });

async function open(username: string, url: string): Promise<Page> {
  const page = await (await web.newContext()).newPage();
  await page.goto(`${web.t.base}${url}`);
  await logIn(page, username);
  return page;
}

test('R-AC-3: an objection raised on the milestone card during publicity, ruled by the office with a reason', async () => {
  const supervisor = await open('supervisor1', SP);
  const card = supervisor.locator('#milestone-M1');
  await card.locator('textarea[name=text]').fill('站点实际未开业，照片系借用');
  await Promise.all([
    supervisor.waitForEvent('load'),
    card.locator('button:has-text("提出异议")').click(),
  ]);
  expect(await supervisor.locator('#milestone-M1 .objection').innerText()).toContain(
    '站点实际未开业',
  );
  // only the office rules
  expect(await supervisor.locator('#milestone-M1 select[name=decision]').count()).toBe(0);

  const office = await open('office1', '/');
  await Promise.all([
    office.waitForEvent('load'),
    office.click('a:has-text("处理验收异议：站点实际未开业")'),
  ]);
  const ruling = office.locator('#milestone-M1 .objection form');
  await ruling.locator('select[name=decision]').selectOption('upheld');
  // a ruling needs its reason: the browser's own check removed, the server's answer is shown
  await ruling.locator('input[name=reason]').evaluate((el) => el.removeAttribute('required'));
  await Promise.all([office.waitForEvent('load'), ruling.locator('button').click()]);
  const refused = office.locator('#milestone-M1 .objection form');
  expect(await refused.locator('.field-error').innerText()).toMatch(/理由|reason/);
  expect(await refused.locator('select[name=decision]').inputValue()).toBe('upheld');
  await shot(office, 'acceptance-objection-refused');

  await refused.locator('select[name=decision]').selectOption('dismissed');
  await refused.locator('input[name=reason]').fill('经现场核实站点已开业');
  await Promise.all([office.waitForEvent('load'), refused.locator('button').click()]);
  const text = await office.locator('#milestone-M1 .objection').innerText();
  expect(text).toContain('驳回异议（恢复拨付）');
  expect(text).toContain('经现场核实站点已开业');
  await shot(office, 'acceptance-objection-ruled');

  const view = ok(await web.t.call('GET', `/api${SP}`, { token: web.t.tokens.office }));
  const m1 = view.milestones.find((m: { key: string }) => m.key === 'M1');
  expect(m1.publicity.objections).toHaveLength(1);
  expect(m1.publicity.objections[0].resolution).toMatchObject({
    decision: 'dismissed',
    reason: '经现场核实站点已开业',
  });
});
