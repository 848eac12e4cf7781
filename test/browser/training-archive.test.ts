// R-AC-1 in the browser: the contractor of the training subproject sees the nine archive items as a
// checklist on the milestone card, each marked 缺 until a file is chosen, with what is still missing
// counted before it submits; the browser does not send an incomplete archive (nothing is stored), and
// the complete one is submitted. The API only sets the stage (tender, award, contract).
import type { Page } from 'playwright-core';
import { logIn, shot, webConsole } from '../support/browser';
import { contract, tengzhouInImplementation } from '../support/flows';

jest.setTimeout(60_000);

const SP = '/programs/tengzhou-2019/subprojects/5'; // 开展农村电子商务培训工作 (direction training)

const web = webConsole({
  now: '2019-10-20T02:00:00.000Z',
  setup: async (t) => {
    await tengzhouInImplementation(t);
    await contract(t, 'tengzhou-2019', 5, {
      milestones: [{ key: 'M1', title: '第一期培训', due: '2020-06-30' }],
      tranches: [{ key: 'T1', milestone: 'M1', source: 'central', amount: '200' }],
    });
  },
});

const pdf = (name: string) => ({
  name: `${name}.pdf`,
  mimeType: 'application/pdf',
  buffer: Buffer.from(`%PDF-1.4\n% ${name}\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n`),
});

test('R-AC-1: the checklist shows which archive items are missing before the contractor submits', async () => {
  const page: Page = await (await web.newContext()).newPage();
  await page.goto(`${web.t.base}${SP}`);
  await logIn(page, 'contractor1');
  const list = page.locator('#milestone-M1 .archive-checklist');
  const items = list.locator('li');
  expect(await items.count()).toBe(9);
  expect(await list.locator('.archive-summary').innerText()).toMatch(
    /尚缺：.*学员花名册.*签到表.*培训照片/,
  );

  await page.locator('#milestone-M1 textarea[name=deliverable]').fill('第一期培训 3 期 520 人次');
  const names = await items.locator('label span').allInnerTexts();
  // seven of nine items chosen: the last two stay marked 缺 and are counted
  for (let i = 0; i < 7; i++) await items.nth(i).locator('input').setInputFiles(pdf(names[i]));
  expect(await items.nth(0).innerText()).toMatch(/培训委托协议\s*✓ 已选$/);
  expect(await items.nth(7).innerText()).toMatch(/签到表\s*缺/);
  expect(await items.nth(8).innerText()).toMatch(/培训照片\s*缺/);
  expect(await list.locator('.archive-summary').innerText()).toMatch(
    /^尚缺：\s*签到表\s*培训照片\s*（补齐后方可提交）$/,
  );
  await shot(page, 'training-archive-missing-contractor');

  // the browser does not send the incomplete archive: no page load, nothing stored
  const events = await web.t.count('event');
  await page.locator('#milestone-M1 button:has-text("提交")').click();
  await page.waitForTimeout(300);
  expect(page.url()).toBe(`${web.t.base}${SP}`);
  expect(await web.t.count('event')).toBe(events);

  for (let i = 7; i < 9; i++) await items.nth(i).locator('input').setInputFiles(pdf(names[i]));
  expect(await list.locator('.archive-summary').innerText()).toContain('九项材料已齐');
  await Promise.all([
    page.waitForEvent('load'),
    page.locator('#milestone-M1 button:has-text("提交")').click(),
  ]);
  expect(await page.locator('.flash').innerText()).toContain('里程碑已提交');
  expect(await page.locator('#milestone-M1').innerText()).toContain('待第三方预评');
  // all nine items arrived with the submission, one file each
  const sp = (await web.t.call('GET', `/api${SP}`, { token: web.t.tokens.office })).body as {
    milestones: { key: string; submissions: { archive: Record<string, unknown[]> | null }[] }[];
  };
  const archive = sp.milestones.find((m) => m.key === 'M1')!.submissions[0].archive!;
  expect(Object.keys(archive)).toHaveLength(9);
  expect(Object.values(archive).every((files) => files.length === 1)).toBe(true);
});
