// R-PUB-1 "nothing internal": crawls every page, JSON answer, feed and notice the public column links to
// (and the JSON twins of each), with programs in many states at once — a tender with sealed bids, one
// scored and in its candidate publicity with objections (logged-in and public), a milestone pre-evaluated
// and in its acceptance publicity with a public objection, money paid, one rejected, named, terminated
// and clawed back in part, reports from the public, a fund-use publication — and
// asserts that nothing marked internal appears: usernames, session tokens, password hashes, e-mail
// addresses, bidders, prices and proposals before the opening, scores' comments, evaluators' opinions,
// the texts of logged-in objections, the names and phones of the public who wrote in, anyone's
// receipt, a recovery's payment reference; and that no JSON answer carries a key of an internal field.
import { tmpdir } from 'node:os';
import { Notifier } from '../../activities/notify/dispatch';
import { createMailer } from '../../activities/notify/mailer';
import { findCjkFont } from '../../activities/notify/pdf';
import { NOTICE_KINDS } from '../../workflows/notices';
import {
  acceptMilestone,
  contract,
  importProgram,
  later,
  ok,
  preEvaluate,
  release,
  submitMilestone,
  tengzhouInImplementation,
} from '../support/flows';
import { startTestServer, type TestServer } from '../support/server';

jest.setTimeout(120_000);
let t: TestServer;
const CODE = 'tengzhou-2019';
const sp = (seq: number) => `/api/programs/${CODE}/subprojects/${seq}`;

// what must never reach the public, planted in the data
const SECRET = {
  sealedBidder: '密封投标测试有限公司',
  sealedProposal: '密封投标方案甲乙丙',
  sealedPrice: '2345678.91',
  scoreComment: '评标委员会内部评语丁戊',
  opinion: '第三方预评内部意见己庚',
  loggedInObjection: '监督人员提出的内部异议辛壬',
  publicName: '王公众',
  publicPhone: '137 0000 4321',
  reporterName: '赵举报',
  reporterPhone: '0632-0004321',
  email: 'office1-secret@example.invalid',
  rejectOpinion: '预评不通过的内部意见癸子',
  recoveryRef: 'JKPZ-内部缴款凭证-0042',
};
const receipts: string[] = [];

beforeAll(async () => {
  t = await startTestServer();
  await tengzhouInImplementation(t);
  await importProgram(t, 'shicheng-2020'); // a program with nothing done yet
  await t.rt.prisma.user.update({ where: { username: 'office1' }, data: { email: SECRET.email } });
  const bidderD = await t.addUserAndLogin('contractorD', 'contractor', SECRET.sealedBidder);
  const post = (seq: number, path: string, token: string, body: unknown = {}) =>
    t.call('POST', `${sp(seq)}${path}`, { token, body });
  // subproject 2: bids sealed until an opening far ahead
  ok(
    await post(2, '/tender', t.tokens.office, {
      announcement: { title: '服务站点招标公告' },
      bidDeadline: later(t, 150).slice(0, 10),
    }),
    201,
  );
  ok(
    await post(2, '/bids', bidderD, {
      price: SECRET.sealedPrice,
      proposal: SECRET.sealedProposal,
    }),
    201,
  );
  // subproject 3: three bids, opened below once the deadline has passed
  ok(
    await post(3, '/tender', t.tokens.office, {
      announcement: { title: '物流配送体系招标公告' },
      bidDeadline: later(t, 21).slice(0, 10),
    }),
    201,
  );
  for (const token of [t.tokens.contractor, t.tokens.contractorB, t.tokens.contractorC])
    ok(await post(3, '/bids', token, { price: '3000000', proposal: '物流方案' }), 201);
  // subproject 1: awarded and contracted (moves the clock 26 days), one milestone paid
  await contract(t, CODE, 1, {
    milestones: [
      { key: 'M1', title: '公共服务中心装修完成', due: '2020-06-30' },
      { key: 'M2', title: '公共服务中心运营满半年', due: '2020-12-31' },
    ],
    tranches: [
      { key: 'T1', milestone: 'M1', source: 'central', amount: '100' },
      { key: 'T2', milestone: 'M2', source: 'central', amount: '100' },
      { key: 'T3', milestone: 'M2', source: 'local', amount: '100' },
    ],
  });
  await acceptMilestone(t, CODE, 1, 'M1', { deliverable: '装修完成' });
  ok(await release(t, CODE, 1, 'T1', 'leak-T1'), 201);
  // subproject 4: paid, then rejected, its rectification deadline missed: named, terminated, clawed back
  await contract(t, CODE, 4, {
    milestones: [
      { key: 'M1', title: '区域公共品牌', due: '2020-06-30' },
      { key: 'M2', title: '溯源系统', due: '2020-12-31' },
    ],
    tranches: [
      { key: 'T1', milestone: 'M1', source: 'central', amount: '200' },
      { key: 'T2', milestone: 'M2', source: 'central', amount: '279' },
      { key: 'T3', milestone: 'M2', source: 'local', amount: '120' },
    ],
  });
  await acceptMilestone(t, CODE, 4, 'M1', { deliverable: '品牌发布' });
  ok(await release(t, CODE, 4, 'T1', 'leak-4-T1'), 201);
  const m4 = `${sp(4)}/milestones/M2`;
  await submitMilestone(t, m4, { deliverable: '溯源系统上线' });
  await preEvaluate(t, m4, { opinion: SECRET.rejectOpinion, recommendation: 'reject' });
  ok(
    await t.call('POST', `${m4}/decision`, {
      token: t.tokens.office,
      body: {
        decision: 'reject',
        defects: ['未实现“一品一码”'],
        rectificationDeadline: later(t, 15).slice(0, 10),
      },
    }),
  );
  await t.at(later(t, 16));
  await t.rt.scheduler.runDue();
  ok(
    await t.call('POST', `${sp(4)}/recoveries`, {
      token: t.tokens.finance,
      body: { source: 'central', amount: '120', reference: SECRET.recoveryRef },
      headers: { 'idempotency-key': 'leak-recovery-1' },
    }),
    201,
  );
  // subproject 3: opened, scored with comments, its candidate in publicity with two objections
  ok(await post(3, '/opening', t.tokens.office));
  ok(
    await post(3, '/scores', t.tokens.evaluator, {
      scores: [
        { org: '滕州市邮政分公司', score: 91, comment: SECRET.scoreComment },
        { org: '某物流有限公司', score: 88 },
        { org: '鲁南快递有限公司', score: 80 },
      ],
    }),
  );
  ok(await post(3, '/candidate', t.tokens.office, { org: '滕州市邮政分公司' }));
  ok(await post(3, '/objections', t.tokens.supervisor, { text: SECRET.loggedInObjection }), 201);
  const pub = (path: string, body: unknown) =>
    t.call('POST', `/api/public/programs/${CODE}${path}`, { token: null, body });
  receipts.push(
    ok(
      await pub('/objections', {
        seq: 3,
        text: '公众对候选人的异议',
        name: SECRET.publicName,
        phone: SECRET.publicPhone,
      }),
      201,
    ).receipt,
  );
  // subproject 1, M2: pre-evaluated with an opinion, accepted, in its publicity, a public objection
  const m2 = `${sp(1)}/milestones/M2`;
  await submitMilestone(t, m2, { deliverable: '运营满半年' });
  await preEvaluate(t, m2, { opinion: SECRET.opinion, recommendation: 'accept' });
  ok(
    await t.call('POST', `${m2}/decision`, {
      token: t.tokens.office,
      body: { decision: 'accept' },
    }),
  );
  receipts.push(
    ok(
      await pub('/objections', {
        seq: 1,
        milestone: 'M2',
        text: '公众对验收结果的异议',
        phone: SECRET.publicPhone,
      }),
      201,
    ).receipt,
  );
  receipts.push(
    ok(
      await pub('/reports', {
        text: '公众举报的内容',
        name: SECRET.reporterName,
        phone: SECRET.reporterPhone,
      }),
      201,
    ).receipt,
  );
  await new Notifier({
    pool: t.rt.pool,
    mailer: createMailer({ dataDir: tmpdir() }),
    now: () => t.clock.now(),
    font: findCjkFont(),
    from: 'shifan 示范 <noreply@shifan.local>',
  }).runOnce();
  // the office publishes a month's fund use (R-FUND-9): its notice is crawled too
  ok(
    await t.call('POST', `/api/programs/${CODE}/fund-use`, {
      token: t.tokens.office,
      body: { period: '2019-12' },
    }),
  );
  await new Notifier({
    pool: t.rt.pool,
    mailer: createMailer({ dataDir: tmpdir() }),
    now: () => t.clock.now(),
    font: findCjkFont(),
    from: 'shifan 示范 <noreply@shifan.local>',
  }).runOnce();
});
afterAll(async () => {
  await t?.close();
});

/** Keys of internal fields: none may appear anywhere in a public JSON answer. */
const INTERNAL_KEYS = new Set([
  'username',
  'password',
  'passwordHash',
  'password_hash',
  'email',
  'token',
  'orgId',
  'org_id',
  'userId',
  'user_id',
  'sender',
  'contact',
  'phone',
  'receipt',
  'bids',
  'price',
  'proposal',
  'scores',
  'comment',
  'opinion',
  'evaluation',
  'submittedBy',
  'actor',
  'prevHash',
  'hash',
  'idempotencyKey',
]);
function internalKeys(v: unknown, at = '$', found: string[] = []): string[] {
  if (Array.isArray(v)) v.forEach((x, i) => internalKeys(x, `${at}[${i}]`, found));
  else if (v && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) {
      if (INTERNAL_KEYS.has(k)) found.push(`${at}.${k}`);
      internalKeys(x, `${at}.${k}`, found);
    }
  return found;
}

test('R-PUB-1: no page, JSON, feed or notice of the column shows anything internal', async () => {
  const { rows: users } = await t.rt.pool.query<{ username: string; password_hash: string }>(
    'SELECT username, password_hash FROM app_user',
  );
  const forbidden = [
    ...Object.values(SECRET),
    ...users.map((u) => u.password_hash),
    ...users.map((u) => u.username),
    ...Object.values(t.tokens),
    '2345678', // the sealed price as figures, in any format
    '234.5678',
    '2,345,678',
  ];
  // the crawl: every same-origin link from the column's home, the JSON twins of each page, the receipts
  const seen = new Map<string, { status: number; type: string; body: string }>();
  const queue = [
    '/gongkai',
    '/api/public/programs',
    ...receipts.map((r) => `/gongkai/receipts/${r}`),
  ];
  const publicPath = (p: string) =>
    /^\/(gongkai|api\/public|api\/notices\/\d+)/.test(p) && !p.startsWith('/api/public/receipts/');
  while (queue.length) {
    const path = queue.shift()!;
    if (seen.has(path)) continue;
    const r = await fetch(`${t.base}${path}`);
    const type = r.headers.get('content-type') ?? '';
    const body = type.includes('pdf') ? '' : await r.text();
    seen.set(path, { status: r.status, type, body });
    const program = /^\/gongkai\/([a-z0-9-]+)$/.exec(path);
    if (program && program[1] !== 'receipts') {
      // its JSON twin, and both filtered by each kind of notice (the filter is a GET form, no link)
      queue.push(`/api/public/programs/${program[1]}`);
      for (const kind of NOTICE_KINDS)
        queue.push(`${path}?kind=${kind}`, `/api/public/programs/${program[1]}?kind=${kind}`);
    }
    for (const [, href] of body.matchAll(/href="([^"#]+)(#[^"]*)?"/g)) {
      const url = new URL(href.replace(/&amp;/g, '&'), `${t.base}${path}`);
      if (url.origin === t.base && publicPath(url.pathname)) queue.push(url.pathname + url.search);
    }
  }
  for (const r of receipts) seen.set(`/api/public/receipts/${r}`, await json(r));
  const paths = [...seen.keys()];
  // the crawl reached what there is to reach
  for (const p of [
    `/gongkai/${CODE}`,
    '/gongkai/shicheng-2020',
    `/api/public/programs/${CODE}`,
    `/api/public/programs/${CODE}/notices.atom`,
    '/gongkai/receipts',
  ])
    expect(paths).toContain(p);
  expect(paths.filter((p) => /^\/api\/notices\/\d+$/.test(p)).length).toBeGreaterThanOrEqual(8);
  expect(paths.some((p) => p.includes('kind='))).toBe(true);

  const leaks: string[] = [];
  for (const [path, r] of seen) {
    expect({ path, status: r.status }).toEqual({ path, status: 200 });
    for (const s of forbidden) if (r.body.includes(s)) leaks.push(`${path}: ${s}`);
    if (r.type.includes('json')) {
      const keys = internalKeys(JSON.parse(r.body));
      // a receipt's own answer names its receipt (the holder typed it in): nothing else of it
      const allowed = path.startsWith('/api/public/receipts/') ? ['$.receipt'] : [];
      leaks.push(...keys.filter((k) => !allowed.includes(k)).map((k) => `${path}: key ${k}`));
    }
  }
  expect(leaks).toEqual([]);
  // while the office's console shows what the public page leaves out (the planted data is real)
  const office = JSON.stringify(ok(await t.call('GET', sp(3), { token: t.tokens.office })));
  expect(office).toContain(SECRET.scoreComment);
  expect(office).toContain(SECRET.publicPhone);
  const page = seen.get(`/gongkai/${CODE}`)!.body;
  expect(page).toContain('收到异议 2 件'); // the candidate's publicity: counted, not shown
  expect(page).toContain('服务站点招标公告'); // the sealed tender itself is public
  expect(page).toContain('通报承办单位'); // the naming of subproject 4 is (R-AC-5)
  expect(page).toContain('2019年12月中央财政资金使用情况');
});

async function json(receipt: string) {
  const r = await fetch(`${t.base}/api/public/receipts/${receipt}`);
  return { status: r.status, type: r.headers.get('content-type') ?? '', body: await r.text() };
}
