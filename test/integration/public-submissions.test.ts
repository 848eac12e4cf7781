// R-PUB-1 with R-TD-1 and R-AC-3: objections and reports (举报) from the public, without a log-in. A
// public objection is the logged-in objection's own command: it suspends the award or the release until
// the office resolves it, it lands in the office's 待办, it is an event in the audit chain; each
// submission has a receipt by which its status is read, never with its sender's name or phone; the
// column throttles per address and per publicity item and takes a page of text, not more.
import { countSubmission } from '../../activities/public-throttle';
import { later, ok, release, tengzhouInImplementation } from '../support/flows';
import { startTestServer, type TestServer } from '../support/server';

jest.setTimeout(90_000);
let t: TestServer;
const CODE = 'tengzhou-2019';
const SP1 = `/api/programs/${CODE}/subprojects/1`;
const SP7 = `/api/programs/${CODE}/subprojects/7`;
const PUB = `/api/public/programs/${CODE}`;
const NAME = '张三丰';
const PHONE = '139 0000 1234'; // a test number

const pub = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  t.call('POST', `${PUB}${path}`, { token: null, body, headers });
const officeTasks = async () =>
  ok(await t.call('GET', '/api/me/tasks', { token: t.tokens.office })).tasks as {
    kind: string;
    what: string;
    href: string;
  }[];
/** A new hour: the address's allowance starts again. */
const nextHour = () => t.at(new Date(t.clock.now().getTime() + 3600_000 + 1000).toISOString());

beforeAll(async () => {
  t = await startTestServer();
  await tengzhouInImplementation(t);
  const post = (path: string, token: string, body: unknown = {}) =>
    t.call('POST', `${SP1}${path}`, { token, body });
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
});
afterAll(async () => {
  await t?.close();
});

describe('R-TD-1 a public objection during the candidate publicity', () => {
  let receipt: string;

  test('the column lists the publicity; anyone objects without a log-in and gets a receipt', async () => {
    const page = ok(await t.call('GET', PUB, { token: null }));
    expect(page.publicity).toEqual([
      expect.objectContaining({ kind: 'candidate', seq: 1, milestone: null, openObjections: 0 }),
    ]);
    const r = ok(
      await pub('/objections', {
        seq: 1,
        text: '中标候选人不具备投标资格',
        name: NAME,
        phone: PHONE,
      }),
      201,
    );
    receipt = r.receipt;
    expect(receipt).toMatch(/^YY-[0-9A-HJKMNP-TV-Z]{10}$/);
    expect(r).toMatchObject({
      kind: 'objection',
      subject: expect.stringContaining('分项目1'),
      about: '中标候选人公示',
      status: 'open',
      statusName: expect.stringContaining('暂停定标'),
      answer: null,
    });
    expect(JSON.stringify(r)).not.toContain(NAME);
    expect(JSON.stringify(r)).not.toContain(PHONE);
    expect(ok(await t.call('GET', PUB, { token: null })).publicity[0].openObjections).toBe(1);
  });

  test('it is an event of the audit chain, by the public, with its receipt and contact', async () => {
    const e = await t.rt.prisma.event.findFirstOrThrow({
      where: { streamId: `subproject-${CODE}-1`, type: 'ObjectionRaised' },
    });
    expect(e).toMatchObject({ actor: 'public', role: 'public', command: 'RaiseObjection' });
    expect((e.data as any).sender).toEqual({ receipt, name: NAME, phone: PHONE });
    expect(e.hash).toMatch(/^[0-9a-f]{64}$/);
    const audit = ok(
      await t.call('GET', `${SP1}/events`, { token: t.tokens.supervisor }),
    ).items.find((x: any) => x.type === 'ObjectionRaised');
    expect(audit.roleName).toBe('社会公众');
    expect(audit.data.sender).toEqual({ receipt, name: NAME, phone: PHONE });
    // the finance bureau reads the audit record too, without the sender's personal data
    const finance = ok(
      await t.call('GET', `${SP1}/events`, { token: t.tokens.finance }),
    ).items.find((x: any) => x.type === 'ObjectionRaised');
    expect(finance.data.text).toBe('中标候选人不具备投标资格');
    expect(JSON.stringify(finance)).not.toContain(PHONE);
    expect(JSON.stringify(finance)).not.toContain(receipt);
  });

  test("it lands in the office's 待办; the contractor reads the objection, not who sent it", async () => {
    expect(await officeTasks()).toContainEqual(
      expect.objectContaining({ kind: 'objection', what: '处理异议：中标候选人不具备投标资格' }),
    );
    const office = ok(await t.call('GET', SP1, { token: t.tokens.office }));
    expect(office.tenders[0].objections[0]).toMatchObject({
      by: '社会公众',
      receipt,
      contact: { name: NAME, phone: PHONE },
    });
    const contractor = JSON.stringify(ok(await t.call('GET', SP1, { token: t.tokens.contractor })));
    expect(contractor).toContain('中标候选人不具备投标资格');
    expect(contractor).not.toContain(NAME);
    expect(contractor).not.toContain(PHONE);
    expect(contractor).not.toContain(receipt);
  });

  test('the award is suspended exactly as by a logged-in objection, until the office resolves it', async () => {
    await t.at(later(t, 4)); // publicity over
    const blocked = await t.call('POST', `${SP1}/award`, { token: t.tokens.office, body: {} });
    expect(blocked.status).toBe(409);
    expect(blocked.body.rules).toEqual(['R-TD-1']);
    expect(blocked.body.detail).toContain('暂停定标');
    ok(
      await t.call('POST', `${SP1}/objections/O1/resolve`, {
        token: t.tokens.office,
        body: { decision: 'dismissed', reason: '经核实，候选人资格符合招标文件要求' },
      }),
    );
    const status = ok(await t.call('GET', `/api/public/receipts/${receipt}`, { token: null }));
    expect(status).toMatchObject({
      status: 'dismissed',
      statusName: '异议不成立',
      answer: { text: '经核实，候选人资格符合招标文件要求' },
    });
    // lower case and spaces around it: the same receipt
    expect(
      (await t.call('GET', `/api/public/receipts/${receipt.toLowerCase()}`, { token: null }))
        .status,
    ).toBe(200);
    ok(await t.call('POST', `${SP1}/award`, { token: t.tokens.office, body: {} }));
  });

  test('after the publicity the column refuses an objection (R-TD-1) and stores nothing', async () => {
    const before = await t.count('event');
    const r = await pub('/objections', { seq: 1, text: '定标之后的异议内容' });
    expect(r.status).toBe(409);
    expect(r.body.rules).toEqual(['R-TD-1']);
    expect(await t.count('event')).toBe(before);
  });
});

describe('R-AC-3 a public objection during an acceptance publicity', () => {
  test('suspends the release until dismissed; the receipt reads the decision', async () => {
    await nextHour();
    ok(
      await t.call('POST', `${SP7}/designation`, {
        token: t.tokens.office,
        body: { org: '滕州市邮政分公司', reason: '资金安排表确定为直接委托' },
      }),
      201,
    );
    ok(
      await t.call('POST', `${SP7}/contract`, {
        token: t.tokens.office,
        body: {
          document: { title: '委托协议' },
          milestones: [{ key: 'M1', title: '中期预评', due: '2020-06-30' }],
          tranches: [{ key: 'T1', milestone: 'M1', source: 'local', amount: '100' }],
        },
      }),
      201,
    );
    const m = `${SP7}/milestones/M1`;
    ok(
      await t.call('POST', `${m}/submission`, {
        token: t.tokens.contractor,
        body: { deliverable: '中期报告' },
      }),
      201,
    );
    ok(
      await t.call('POST', `${m}/pre-evaluation`, {
        token: t.tokens.evaluator,
        body: { opinion: '合格', recommendation: 'accept' },
      }),
    );
    ok(
      await t.call('POST', `${m}/decision`, {
        token: t.tokens.office,
        body: { decision: 'accept' },
      }),
    );
    const item = ok(await t.call('GET', PUB, { token: null })).publicity.find(
      (p: any) => p.seq === 7,
    );
    expect(item).toMatchObject({ kind: 'acceptance', milestone: 'M1' });
    // a milestone that is not in publicity
    expect(
      (await pub('/objections', { seq: 7, milestone: 'M9', text: '没有这个里程碑' })).status,
    ).toBe(404);
    const r = ok(
      await pub('/objections', { seq: 7, milestone: 'M1', text: '培训签到表有代签' }),
      201,
    );
    expect(r).toMatchObject({ about: '验收结果公示：中期预评', status: 'open' });
    await t.at(later(t, 8));
    await t.rt.scheduler.runDue();
    const blocked = await release(t, CODE, 7, 'T1', 'pub-tz7-T1');
    expect(blocked.status).toBe(409);
    expect(blocked.body.detail).toContain('未处理的异议');
    ok(
      await t.call('POST', `${m}/objections/O1/resolve`, {
        token: t.tokens.office,
        body: { decision: 'dismissed', reason: '核对原件，签到真实' },
      }),
    );
    expect(
      ok(await t.call('GET', `/api/public/receipts/${r.receipt}`, { token: null })),
    ).toMatchObject({ status: 'dismissed', answer: { text: '核对原件，签到真实' } });
    expect((await release(t, CODE, 7, 'T1', 'pub-tz7-T1')).status).toBe(201);
  });
});

describe('R-PUB-1 reports (举报) at any time', () => {
  test("a report is filed, lands in the office's 待办 and is answered; its sender reads the answer", async () => {
    await nextHour();
    const r = ok(
      await pub('/reports', { seq: 3, text: '村级服务站挂牌后无人值守', phone: PHONE }),
      201,
    );
    expect(r.receipt).toMatch(/^JB-/);
    expect(r).toMatchObject({
      kind: 'report',
      status: 'open',
      subject: expect.stringContaining('分项目3'),
    });
    expect(JSON.stringify(r)).not.toContain(PHONE);
    const task = (await officeTasks()).find((x) => x.kind === 'report');
    expect(task).toMatchObject({
      what: '答复举报（分项目3）：村级服务站挂牌后无人值守',
      href: `/programs/${CODE}#reports`,
    });
    const list = ok(
      await t.call('GET', `/api/programs/${CODE}/reports`, { token: t.tokens.office }),
    );
    expect(list.items).toEqual([
      expect.objectContaining({ id: 'R1', receipt: r.receipt, phone: PHONE, name: null }),
    ]);
    expect(
      (await t.call('GET', `/api/programs/${CODE}/reports`, { token: t.tokens.contractor })).status,
    ).toBe(403);
    const record = JSON.stringify(
      ok(await t.call('GET', `/api/programs/${CODE}/events`, { token: t.tokens.finance })),
    );
    expect(record).toContain('村级服务站挂牌后无人值守');
    expect(record).not.toContain(PHONE);
    ok(
      await t.call('POST', `/api/programs/${CODE}/reports/R1/answer`, {
        token: t.tokens.office,
        body: { text: '已责成承办企业整改，每日 8:00–18:00 有人值守' },
      }),
    );
    expect((await officeTasks()).some((x) => x.kind === 'report')).toBe(false);
    expect(
      ok(await t.call('GET', `/api/public/receipts/${r.receipt}`, { token: null })),
    ).toMatchObject({ status: 'answered', answer: { text: expect.stringContaining('有人值守') } });
    const again = await t.call('POST', `/api/programs/${CODE}/reports/R1/answer`, {
      token: t.tokens.office,
      body: { text: '再次答复' },
    });
    expect(again.status).toBe(409);
  });

  test('bad input is refused beside its field, in Chinese and English; nothing stored', async () => {
    const before = await t.count('event');
    for (const [body, field, zh] of [
      [{ text: '短' }, 'text', '至少 5 个字'],
      [{ text: '足够长的举报内容', phone: '电话号码' }, 'phone', '联系电话'],
      [{ text: 'x'.repeat(2001) }, 'text', '不能超过 2000 字'],
      [{ text: '足够长的举报内容', seq: 0 }, 'seq', ''],
      [{ text: '足够长的举报内容', email: 'a@b' }, '', ''],
    ] as const) {
      const r = await pub('/reports', body);
      expect(r.status).toBe(400);
      expect(r.body.detail_en).toEqual(expect.any(String));
      expect(JSON.stringify(r.body.errors)).toContain(zh);
      if (field) expect(r.body.errors.map((e: any) => e.path)).toContain(field);
    }
    const unknown = await pub('/reports', { seq: 99, text: '没有这个分项目的举报' });
    expect(unknown.status).toBe(404);
    expect(
      (await t.call('GET', '/api/public/receipts/JB-0000000000', { token: null })).status,
    ).toBe(404);
    expect((await t.call('GET', '/api/public/receipts/nonsense', { token: null })).status).toBe(
      400,
    );
    expect(await t.count('event')).toBe(before);
  });

  test('a body over 16 kB is refused (413) before it is read', async () => {
    const r = await pub('/reports', { text: '举'.repeat(6000) });
    expect(r.status).toBe(413);
    expect(r.body.detail).toEqual(expect.any(String));
  });

  test('throttled per address: the 11th submission in an hour answers 429 with Retry-After', async () => {
    await nextHour();
    for (let i = 0; i < 10; i++) ok(await pub('/reports', { text: `第 ${i + 1} 件举报内容` }), 201);
    const r = await pub('/reports', { text: '第 11 件举报内容' });
    expect(r.status).toBe(429);
    expect(r.body).toMatchObject({
      code: 'R-PUB-1',
      detail: expect.stringContaining('提交过于频繁'),
    });
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    await nextHour();
    ok(await pub('/reports', { text: '一小时后的举报内容' }), 201);
  });
});

describe('the throttle (activities/public-throttle.ts)', () => {
  test('per publicity item from every address; a refused address counts nothing against the item', async () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const item = { key: 'item:test/1', max: 2, windowMs: 3600_000 };
    const client = (a: string) => ({ key: `client:${a}`, max: 1, windowMs: 3600_000 });
    expect(await countSubmission(t.rt.pool, [client('a'), item], now)).toBe(0);
    // the address is used up: refused, and the item keeps its count
    expect(await countSubmission(t.rt.pool, [client('a'), item], now)).toBe(3600_000);
    expect(await countSubmission(t.rt.pool, [client('b'), item], now)).toBe(0);
    // the item is used up for every address, until its window ends
    const later = new Date(now.getTime() + 60_000);
    expect(await countSubmission(t.rt.pool, [client('c'), item], later)).toBe(3600_000 - 60_000);
    const next = new Date(now.getTime() + 3600_000);
    expect(await countSubmission(t.rt.pool, [client('d'), item], next)).toBe(0);
  });
});
