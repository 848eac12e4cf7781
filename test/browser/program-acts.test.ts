// The program page's acts in the browser (issue 13: every role's daily work without HTTP requests): the
// office imports a budget table from a file (a broken one refused with the rule, nothing stored),
// records a finding and closes it; a contractor claims parcel subsidies with its e-waybill CSV uploaded
// from the browser (R-FUND-6), the office reviews, finance pays with a double click (paid once).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import type { Page } from 'playwright-core';
import { logIn, shot, webConsole } from '../support/browser';

jest.setTimeout(40_000);

const web = webConsole({ now: '2020-04-10T02:00:00.000Z' });
const dir = mkdtempSync(path.join(os.tmpdir(), 'shifan-program-acts-'));
const file = (name: string, content: string) => {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
};
const table = JSON.parse(
  readFileSync(path.join(__dirname, '..', 'fixtures', 'shicheng-2020.json'), 'utf8'),
) as { totals: { central: string }; code: string };

async function open(username: string, url: string): Promise<Page> {
  const page = await (await web.newContext()).newPage();
  page.setDefaultTimeout(5_000);
  await page.goto(`${web.t.base}${url}`);
  await logIn(page, username);
  return page;
}
const submit = (page: Page, selector: string) =>
  Promise.all([page.waitForEvent('load'), page.click(selector)]);

test('the office imports a budget table from a file; a table breaking R-FUND-1 is refused and stores nothing', async () => {
  const office = await open('office1', '/programs');
  const broken = { ...table, totals: { ...table.totals, central: '1' } };
  await office.setInputFiles(
    '#import input[type=file]',
    file('broken.json', JSON.stringify(broken)),
  );
  await submit(office, '#import button');
  expect(await office.locator('.problem').innerText()).toContain('R-FUND-1');
  expect(await web.t.count('program')).toBe(0);
  await shot(office, 'import-refused-office');
  await office.setInputFiles(
    '#import input[type=file]',
    file('shicheng.json', JSON.stringify(table)),
  );
  await submit(office, '#import button');
  expect(await office.locator('.flash').innerText()).toContain('已导入资金安排表');
  expect(await office.locator('main').innerText()).toContain('石城');
});

test('the office imports the county’s Excel workbook: a bad cell is refused naming it, the good one imports, and the program page offers its downloads', async () => {
  const office = await open('office1', '/programs');
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(
    readFileSync(path.join(__dirname, '..', '..', 'examples', 'tengzhou-2019.xlsx')) as never,
  );
  wb.getWorksheet('资金安排表')!.getCell('J6').value = '一百二十';
  const bad = file('bad.xlsx', '');
  writeFileSync(bad, Buffer.from(await wb.xlsx.writeBuffer()));
  await office.setInputFiles('#import input[type=file]', bad);
  await submit(office, '#import button');
  expect(await office.locator('#import').innerText()).toContain('资金安排表!J6: MONEY-FORMAT');
  expect(await web.t.count('program')).toBe(1);
  await office.setInputFiles(
    '#import input[type=file]',
    path.join(__dirname, '..', '..', 'examples', 'tengzhou-2019.xlsx'),
  );
  await submit(office, '#import button');
  expect(await office.locator('.flash').innerText()).toContain('已导入资金安排表');
  await office.goto(`${web.t.base}/programs/tengzhou-2019`);
  const links = office.locator('p.downloads a');
  expect(await links.allInnerTexts()).toEqual(['资金安排表（Excel）', '项目台账（Excel）']);
  for (const href of await links.evaluateAll((as) => as.map((a) => a.getAttribute('href')))) {
    const r = await office.request.get(`${web.t.base}${href}`);
    expect([r.status(), r.headers()['content-type']]).toEqual([
      200,
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    ]);
  }
  const tpl = await office.request.get(`${web.t.base}/programs/template.xlsx`);
  expect(tpl.status()).toBe(200);
});

test('the office records a finding and closes it with its document', async () => {
  const office = await open('office1', `/programs/${table.code}`);
  await office.fill('form[action$="/findings"] input[name=title]', '村级站点台账不完整');
  await office.fill('form[action$="/findings"] input[name=due]', '2020-06-30');
  await submit(office, 'form[action$="/findings"] button');
  expect(await office.locator('#findings + table').innerText()).toContain('村级站点台账不完整');
  await office.fill('#finding-F1 input[name="document.title"]', '整改报告');
  await submit(office, '#finding-F1 button');
  expect(await office.locator('#finding-F1').innerText()).toContain('已销号（整改报告');
});

test('R-FUND-6: a contractor claims with its CSV, the office approves, finance pays once for a double click', async () => {
  const waybills =
    '运单号,寄件地,品名\n' +
    Array.from({ length: 400 }, (_, i) => `YT${String(i + 1).padStart(9, '0')},石城县,白莲`).join(
      '\n',
    );
  const contractor = await open('contractor1', `/programs/${table.code}`);
  await contractor.fill('input[name=quarter]', '2020Q1');
  await contractor.setInputFiles(
    'form[action$="/parcel-claims"] input[type=file]',
    file('q1.csv', waybills),
  );
  await submit(contractor, 'form[action$="/parcel-claims"] button');
  expect(await contractor.locator('.flash').innerText()).toContain('已提交');
  expect(await contractor.locator('#claim-C1').innerText()).toContain('待审核');

  const office = await open('office1', '/');
  await submit(office, 'a:has-text("审核快递补贴申报 C1")');
  await submit(office, '#claim-C1 button:has-text("审核")');
  expect(await office.locator('#claim-C1').innerText()).toContain('已核定，待拨付');

  const finance = await open('finance1', `/programs/${table.code}`);
  const pay = finance.locator('#claim-C1 button:has-text("拨付")');
  await Promise.all([finance.waitForEvent('load'), pay.dblclick()]);
  expect(await finance.locator('#claim-C1').innerText()).toContain('已拨付');
  await shot(finance, 'parcels-paid-finance');
  const { rows } = await web.t.rt.pool.query<{ n: number; fen: string }>(
    `SELECT count(*)::int AS n, sum(amount_fen) AS fen FROM ledger_entry WHERE kind = 'parcel_subsidy'`,
  );
  expect(rows[0]).toEqual({ n: 1, fen: '20000' }); // 400 parcels × 0.5 元, paid once
  // and the program's money by source counts it as disbursed central funds (as the R-FUND-7 cap does)
  expect(await finance.locator('tr:has(th:has-text("合计"))').first().innerText()).toContain(
    '0.02万元',
  );
});
