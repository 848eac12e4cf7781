// One whole path through the web console in a real browser (playwright-core driving Debian's
// chromium), every act clicked on the pages by the role that takes it: the office records the two
// gates and enters 组织实施, announces the tender of Tengzhou's subproject 3 (public tender), three
// contractors bid, the bids stay sealed before the opening, the office opens, the evaluator scores,
// the office proposes, publicity runs out, the award, the contract (refused once for a source that
// does not add up, the typed rows kept), a milestone submitted with a file uploaded from the
// browser, pre-evaluated, accepted, acceptance publicity runs out, finance releases with a double
// click (paid once), a second milestone rejected with defects and a deadline lands in the
// contractor's 待办; the contractor of another organisation sees nothing of the awarded subproject.
// The HTTP API and the runtime are used only to assert afterwards.
import type { BrowserContext, Page } from 'playwright-core';
import { logIn, shot, webConsole } from '../support/browser';

jest.setTimeout(30_000);

const CODE = 'tengzhou-2019';
const SP = `/programs/${CODE}/subprojects/3`;
const SP_NAME = '市、镇、村三级物流配送体系';
const POST = '滕州市邮政分公司';
const LOGISTICS = '某物流有限公司';
const EXPRESS = '鲁南快递有限公司';

const web = webConsole({
  now: '2019-10-20T02:00:00.000Z', // 10:00 in Beijing
  program: CODE,
  chineseControls: true,
  setup: (t) => t.addUserAndLogin('contractorC', 'contractor', EXPRESS),
});
const contexts = new Map<string, BrowserContext>();

/**
 * The user's page at `url`. Each user keeps one browser context (its cookies); when the session has
 * ended (moving the engine's clock by days ends every 12-hour session) the log-in form comes first
 * and sends the user back to `url`.
 */
async function as(username: string, url: string): Promise<Page> {
  let context = contexts.get(username);
  if (!context) {
    context = await web.newContext();
    contexts.set(username, context);
  }
  context.setDefaultTimeout(5_000); // a missing element fails fast, naming it
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(`${web.t.base}${url}`);
  if (new URL(page.url()).pathname === '/login') await logIn(page, username);
  return page;
}

/** Clicks a form's button and waits for the page the form answers with. */
async function submit(page: Page, button: string): Promise<void> {
  await Promise.all([page.waitForEvent('load'), page.click(button)]);
}
/** Follows the link whose text has `text` (an inbox task) to its page. */
const follow = (page: Page, text: string) => submit(page, `a:has-text("${text}")`);

/** Moves the engine's clock to `iso` and fires the timers due by then, as the server's poll would. */
async function after(iso: string): Promise<void> {
  await web.t.at(iso);
  await web.t.rt.scheduler.runDue();
}

const flash = (page: Page) => page.locator('.flash').innerText();
const problem = async (page: Page) =>
  (await page.locator('.problem').count()) ? page.locator('.problem').innerText() : '';

/** Fails with what the page says when a form was refused. */
async function expectDone(page: Page, text: string): Promise<void> {
  expect(await problem(page)).toBe('');
  expect(await flash(page)).toContain(text);
}

test('the office records both gates and enters 组织实施 from the program page', async () => {
  const page = await as('office1', `/programs/${CODE}`);
  for (const [gate, title, number] of [
    ['plan_filed', '滕州市电子商务进农村综合示范实施方案', '滕政办字〔2019〕33号'],
    ['leading_group_established', '关于成立电子商务进农村综合示范工作领导小组的通知', ''],
  ]) {
    const form = page.locator(`#gate-${gate} form`);
    await form.locator('input[name="document.title"]').fill(title);
    if (number) await form.locator('input[name="document.number"]').fill(number);
    await submit(page, `#gate-${gate} form button`);
    await expectDone(page, '已登记关口事项');
  }
  await page.fill('#advance input[name=reason]', '实施方案已备案，领导小组已成立');
  await submit(page, '#advance button');
  await expectDone(page, '已进入下一阶段');
  expect(await page.locator('.timeline li.current').innerText()).toContain('组织实施');
  await shot(page, '01-program-implement-office');
});

test('the office announces the tender; three contractors bid; before the opening the office sees no bidder and no price', async () => {
  const office = await as('office1', SP);
  await office.fill('input[name="announcement.title"]', '滕州市三级物流配送体系建设项目招标公告');
  await office.fill('input[name="announcement.number"]', 'TZDS-2019-03');
  await office.fill(
    'textarea[name="announcement.qualifications"]',
    '具有独立法人资格\n具备快递业务经营许可证',
  );
  await office.fill('input[name=bidDeadline]', '2019-11-15');
  await shot(office, '02a-tender-form-office');
  await submit(office, '#announce button');
  await expectDone(office, '已发布招标公告');
  await shot(office, '02b-tender-office');
  expect(await office.locator('main').innerText()).toContain('招标编号 TZDS-2019-03');

  const bids: [string, string, string][] = [
    ['contractor1', '5,300,000.00', '依托邮政网点建设市级仓储配送中心，镇村两级共配'],
    ['contractorB', '5,350,000.00', '自建仓储，干线外包'],
    ['contractorC', '5,380,000.00', '快递进村共同配送'],
  ];
  for (const [user, price, proposal] of bids) {
    const page = await as(user, '/');
    expect(await page.locator('main table').innerText()).toContain('可投标');
    await follow(page, '可投标');
    await page.fill('#bid input[name=price]', price);
    await page.fill('#bid textarea[name=proposal]', proposal);
    await submit(page, '#bid button');
    await expectDone(page, '投标已提交');
    expect(await page.locator('main').innerText()).toContain(`本单位投标：${price}元`);
    if (user === 'contractor1') await shot(page, '03-bid-contractor');
  }

  // R-TD-1 on the office's page: sealed, nobody named, no price; the desk counts the envelopes
  await office.reload();
  const text = await office.locator('main').innerText();
  expect(text).toContain('投标密封');
  for (const secret of [POST, LOGISTICS, EXPRESS, '5,300,000', '5,350,000', '5,380,000'])
    expect(text).not.toContain(secret);
  expect(await office.locator('#sealed-count').innerText()).toBe('3');
  // before the deadline the page says when the opening can be held instead of offering it
  expect(await office.locator('#opening').innerText()).toContain('投标截止');
  expect(await office.locator('#opening button').count()).toBe(0);
  await shot(office, '04-sealed-office');
  // the audit record on the program page does not name the bidders either
  const program = await as('office1', `/programs/${CODE}`);
  const audit = await program.locator('main').innerText();
  for (const org of [POST, LOGISTICS, EXPRESS]) expect(audit).not.toContain(org);
});

test('past the deadline the office opens, the evaluator scores, the office proposes the top score', async () => {
  await after('2019-11-16T01:00:00.000Z');
  const office = await as('office1', '/');
  expect(await office.locator('main table').innerText()).toContain('开标（投标已截止）');
  await follow(office, '开标');
  await office.fill('#opening input[name=reason]', '投标截止，三家投标');
  await submit(office, '#opening button');
  await expectDone(office, '已开标');
  const opened = await office.locator('main').innerText();
  for (const org of [POST, LOGISTICS, EXPRESS]) expect(opened).toContain(org);
  expect(opened).toContain('5,300,000.00元');
  await shot(office, '05-opened-office');

  const evaluator = await as('evaluator1', '/');
  expect(await evaluator.locator('main table').innerText()).toContain('评标打分');
  await follow(evaluator, '评标打分');
  const scores: Record<string, string> = { [POST]: '92.5', [LOGISTICS]: '88', [EXPRESS]: '85' };
  for (const [org, score] of Object.entries(scores))
    await evaluator.locator(`#scores label:has-text("${org}") input[type=number]`).fill(score);
  await shot(evaluator, '06-scores-evaluator');
  await submit(evaluator, '#scores button');
  await expectDone(evaluator, '已记录评标得分');

  const page = await as('office1', SP);
  await page.selectOption('#candidate select[name=org]', POST);
  await submit(page, '#candidate button');
  await expectDone(page, '公示开始');
  expect(await page.locator('main').innerText()).toContain(`中标候选人：${POST}`);
  await shot(page, '07-candidate-office');
});

test('after the candidate publicity the office awards and signs the contract; a contract that does not add up is refused with the difference and the rows kept', async () => {
  await after('2019-11-20T01:00:00.000Z');
  const office = await as('office1', '/');
  await follow(office, '定标');
  await submit(office, '#award button');
  await expectDone(office, '已定标');

  // subproject 3: central 380万, local 160万, enterprise 0 (examples/tengzhou-2019.json)
  const f = office.locator('#contract');
  await f.locator('input[name="document.title"]').fill('滕州市三级物流配送体系建设项目承办协议');
  await f.locator('input[name=number]').fill('TZDS-HT-2019-03');
  const milestones = [
    ['M1', '市级公共物流仓储配送中心建成', '2020-06-30'],
    ['M2', '三级配送体系运营（48小时到村）', '2020-12-15'],
  ];
  for (const [i, [key, title, due]] of milestones.entries()) {
    await f.locator(`input[name="milestones[${i}].key"]`).fill(key);
    await f.locator(`input[name="milestones[${i}].title"]`).fill(title);
    await f.locator(`input[name="milestones[${i}].due"]`).fill(due);
  }
  const tranches = [
    ['T1', 'M1', 'central', '190'],
    ['T2', 'M1', 'local', '80'],
    ['T3', 'M2', 'central', '190'],
    ['T4', 'M2', 'local', '70'], // 10万元 short of the local budget
  ];
  const fillTranches = async () => {
    for (const [i, [key, m, source, amount]] of tranches.entries()) {
      await f.locator(`input[name="tranches[${i}].key"]`).fill(key);
      await f.locator(`input[name="tranches[${i}].milestone"]`).fill(m);
      await f.locator(`select[name="tranches[${i}].source"]`).selectOption(source);
      await f.locator(`input[name="tranches[${i}].amount"]`).fill(amount);
    }
  };
  await fillTranches();
  // as the rows are typed, htmx swaps in the running difference per source (nothing stored)
  const balance = office.locator('#contract-balance');
  /** waits until the swapped-in difference reads `text` */
  const shows = (text: RegExp | string) =>
    office.locator('#contract-balance', { hasText: text }).waitFor();
  await shows(/地方配套资金\s*160万元\s*150万元\s*尚差\s*10万元/);
  expect(await balance.locator('tr.balance-ok').first().innerText()).toContain('中央财政资金');
  await f.locator('input[name="tranches[3].amount"]').fill('7o');
  await shows('第 4 行「金额」“7o”不是有效的万元金额');
  expect(await balance.locator('tr.balance-short').innerText()).toMatch(/尚差\s*80万元/);
  await shot(office, '08a-contract-balance-office');
  await f.locator('input[name="tranches[3].amount"]').fill('70');
  await shows(/尚差\s*10万元/);
  expect(await balance.innerText()).not.toContain('不是有效的');
  await submit(office, '#contract button');
  expect(await problem(office)).toMatch(/地方/);
  expect(await office.locator('#contract').innerText()).toMatch(/10万元|100,000\.00元/);
  // what was typed is kept, the sources too
  expect(await f.locator('input[name="milestones[1].title"]').inputValue()).toBe(milestones[1][1]);
  expect(await f.locator('select[name="tranches[3].source"]').inputValue()).toBe('local');
  expect(await f.locator('input[name="tranches[3].amount"]').inputValue()).toBe('70');
  // the refused page shows the difference without JavaScript too (rendered on the server)
  expect(await balance.locator('tr.balance-short').innerText()).toMatch(/尚差\s*10万元/);
  await shot(office, '08-contract-refused-office');

  await f.locator('input[name="tranches[3].amount"]').fill('80');
  await shows('可以签订');
  await submit(office, '#contract button');
  await expectDone(office, '承办协议已签订');
  const text = await office.locator('main').innerText();
  expect(text).toContain('市级公共物流仓储配送中心建成');
  expect(text).toContain('190万元');
  await shot(office, '09-contract-office');
});

test('the contractor submits M1 with a file from the browser, the evaluator pre-evaluates, the office accepts', async () => {
  const page = await as('contractor1', '/');
  expect(await page.locator('main table').innerText()).toContain(
    '提交里程碑：市级公共物流仓储配送中心建成',
  );
  await follow(page, '提交里程碑：市级');
  const card = page.locator('#milestone-M1');
  const events = await web.t.count('event');
  await card
    .locator('textarea[name=deliverable]')
    .fill('市级公共物流仓储配送中心已建成，面积3200㎡');
  // a file of a type the evidence store refuses: the answer names it beside the field, the text stays
  await card.locator('input[name=files]').setInputFiles({
    name: '配送车辆清单.exe',
    mimeType: 'application/x-msdownload',
    buffer: Buffer.from('MZ not evidence'),
  });
  await submit(page, '#milestone-M1 button');
  expect(await problem(page)).toContain('「配送车辆清单.exe」不接受的文件类型');
  expect(await card.locator('.field-error').innerText()).toMatch(
    /^证明材料：「配送车辆清单\.exe」/,
  );
  expect(await card.locator('textarea[name=deliverable]').inputValue()).toBe(
    '市级公共物流仓储配送中心已建成，面积3200㎡',
  );
  expect(await web.t.count('event')).toBe(events);
  await shot(page, '10a-submission-refused-contractor');
  await card.locator('input[name=files]').setInputFiles({
    name: '仓储配送中心竣工验收报告.pdf',
    mimeType: 'application/pdf',
    buffer: Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n'),
  });
  await submit(page, '#milestone-M1 button');
  await expectDone(page, '里程碑已提交');
  expect(await card.innerText()).toContain('仓储配送中心竣工验收报告.pdf');
  await shot(page, '10b-submission-contractor');
  const files = await web.t.rt.pool.query<{ name: string }>('SELECT name FROM evidence_file');
  expect(files.rows.map((r) => r.name)).toEqual(['仓储配送中心竣工验收报告.pdf']);

  const evaluator = await as('evaluator1', '/');
  await follow(evaluator, '预评里程碑');
  const e = evaluator.locator('#milestone-M1');
  await e.locator('textarea[name=opinion]').fill('现场核验，仓储面积与设备与协议一致，资料齐全');
  await e.locator('select[name=recommendation]').selectOption('accept');
  await submit(evaluator, '#milestone-M1 button');
  await expectDone(evaluator, '预评意见已提交');
  await shot(evaluator, '11-pre-evaluation-evaluator');

  const office = await as('office1', '/');
  await follow(office, '验收决定');
  const o = office.locator('#milestone-M1');
  await o.locator('select[name=decision]').selectOption('accept');
  await o.locator('input[name=reason]').fill('经第三方预评，验收合格');
  await submit(office, '#milestone-M1 button');
  await expectDone(office, '验收决定已记录');
  expect(await o.innerText()).toContain('验收公示至');
  await shot(office, '12-accepted-office');
});

test('after the acceptance publicity finance releases T1 with a double click: paid once', async () => {
  await after('2019-11-28T02:00:00.000Z'); // accepted 11-20, 7 days of publicity
  const page = await as('finance1', '/');
  expect(await page.locator('main table').innerText()).toContain('拨付批次 T1');
  await follow(page, '拨付批次 T1');
  const posts: string[] = [];
  page.on('request', (r) => {
    if (r.method() === 'POST' && r.url().includes('/tranches/T1/release')) posts.push(r.url());
  });
  // Hold the program's funds lock (engine/funds-lock.ts) so that the first click's release waits on
  // the server: the second click then really sends the form again while the first is in flight (a
  // fast server would answer the first before the second click, and chromium folds two clicks within
  // one task into one submission).
  const lock = await web.t.rt.pool.connect();
  await lock.query('SELECT pg_advisory_lock(7001, hashtext($1))', [CODE]);
  try {
    await page.dblclick('#tranche-T1 button', { delay: 60 });
    for (let i = 0; i < 100 && posts.length < 2; i++) await page.waitForTimeout(20);
  } finally {
    await lock.query('SELECT pg_advisory_unlock(7001, hashtext($1))', [CODE]);
    lock.release();
  }
  // the first navigation is cancelled by the second; the page shows the second one's answer
  await page.waitForSelector('.flash, .problem');
  expect(posts).toHaveLength(2); // the form went twice, with the same idempotency key
  // the answer to the second is the first release again (without the key it would be refused: nothing left)
  expect(await problem(page)).toBe('');
  expect(await flash(page)).toContain('已拨付');
  expect(await page.locator('#tranche-T1').innerText()).toContain('190万元');
  await shot(page, '13-released-finance');

  const ledger = await web.t.rt.pool.query<{ tranche: string; amount_fen: string }>(
    "SELECT tranche, amount_fen FROM ledger_entry WHERE kind = 'disbursement'",
  );
  expect(ledger.rows).toEqual([{ tranche: 'T1', amount_fen: String(190 * 1_000_000) }]);
  const events = await web.t.rt.pool.query("SELECT 1 FROM event WHERE type = 'TrancheReleased'");
  expect(events.rowCount).toBe(1);
});

test('M2 is rejected with defects and a deadline; the contractor finds the rectification order in its 待办', async () => {
  const page = await as('contractor1', SP);
  const card = page.locator('#milestone-M2');
  await card.locator('textarea[name=deliverable]').fill('镇村两级配送线路已开通');
  await submit(page, '#milestone-M2 button');
  await expectDone(page, '里程碑已提交');

  const evaluator = await as('evaluator1', SP);
  const e = evaluator.locator('#milestone-M2');
  await e.locator('textarea[name=opinion]').fill('抽查 12 个村级网点，5 个超过 48 小时');
  await e.locator('textarea[name=findings]').fill('部分村级网点配送时效不达标');
  await e.locator('select[name=recommendation]').selectOption('reject');
  await submit(evaluator, '#milestone-M2 button');
  await expectDone(evaluator, '预评意见已提交');

  const office = await as('office1', SP);
  const o = office.locator('#milestone-M2');
  await o.locator('select[name=decision]').selectOption('reject');
  await o
    .locator('textarea[name=defects]')
    .fill('5 个村级网点配送时效超过 48 小时\n未提供配送车辆 GPS 记录');
  await o.locator('input[name=rectificationDeadline]').fill('2019-12-31');
  await o.locator('input[name=reason]').fill('配送时效未达到协议要求');
  await submit(office, '#milestone-M2 button');
  await expectDone(office, '验收决定已记录');
  expect(await o.innerText()).toContain('整改通知：请于 2019年12月31日 前整改并重新提交');
  await shot(office, '14-rejected-office');

  const inbox = await as('contractor1', '/');
  const row = inbox.locator('main tr:has-text("整改后重新提交")');
  expect(await row.count()).toBe(1);
  expect(await row.innerText()).toContain('三级配送体系运营（48小时到村）');
  expect(await row.innerText()).toContain('2019年12月31日');
  await shot(inbox, '15-inbox-rectification-contractor');
  await Promise.all([inbox.waitForEvent('load'), row.locator('a').click()]);
  const text = await inbox.locator('#milestone-M2').innerText();
  expect(text).toContain('5 个村级网点配送时效超过 48 小时');
  expect(text).toContain('未提供配送车辆 GPS 记录');
});

test('the contractor of another organisation sees nothing of the awarded subproject (R-TD-3)', async () => {
  const page = await as('contractorB', '/');
  const inbox = await page.locator('main').innerText();
  expect(inbox).not.toContain(SP_NAME);
  await shot(page, '16-inbox-contractorB');

  const r = await page.goto(`${web.t.base}${SP}`);
  expect(r?.status()).toBe(403);
  const text = await page.locator('main').innerText();
  expect(text).toContain('该分项目已由其他单位承办，本单位无权查看或操作');
  expect(text).toContain('R-TD-3');
  for (const secret of [POST, '5,300,000', '190万元']) expect(text).not.toContain(secret);
  await shot(page, '17-forbidden-contractorB');

  const program = await as('contractorB', `/programs/${CODE}`);
  expect(await program.locator('main').innerText()).not.toContain(SP_NAME);
});
