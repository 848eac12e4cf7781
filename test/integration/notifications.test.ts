// Notices and mail, end to end: events → outbox → official notices with 文号 (HTML + PDF) → mail over
// real SMTP to a server started here (smtp-server), which also refuses for a while: nothing is lost,
// nothing is sent twice, and mails that keep failing are dead-lettered for the office to retry.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';
import { MAX_ATTEMPTS, Notifier } from '../../activities/notify/dispatch';
import { createMailer } from '../../activities/notify/mailer';
import { findCjkFont } from '../../activities/notify/pdf';
import { verifyAudit } from '../../engine/audit';
import {
  contract,
  later,
  ok,
  preEvaluate,
  submitMilestone,
  tengzhouInImplementation,
} from '../support/flows';
import { startTestServer, type TestServer } from '../support/server';
import { asSuperuser } from '../support/tamper';

jest.setTimeout(60_000);
let t: TestServer;
let smtp: SMTPServer;
let port: number;
let notifier: Notifier;
let refuse = false;
let drop = false; // the server hangs up on connect
const received: { to: string[]; raw: string }[] = [];

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onConnect(session, cb) {
      if (drop) cb(Object.assign(new Error('service not available'), { responseCode: 421 }));
      else cb();
    },
    onRcptTo(_addr, _session, cb) {
      if (refuse) cb(Object.assign(new Error('try again later'), { responseCode: 451 }));
      else cb();
    },
    onData(stream, session, cb) {
      let raw = '';
      stream.on('data', (c: Buffer) => {
        raw += c.toString('utf8');
      });
      stream.on('end', () => {
        received.push({ to: session.envelope.rcptTo.map((r) => r.address), raw });
        cb();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
  port = (smtp.server.address() as { port: number }).port;
  t = await startTestServer();
  for (const [username, email] of [
    ['office1', 'office@tz.gov.cn'],
    ['contractor1', 'post@tzpost.cn'],
    ['evaluator1', 'audit@cpa.cn'],
    ['finance1', 'czj@tz.gov.cn'],
  ]) {
    await t.rt.prisma.user.update({ where: { username }, data: { email } });
  }
  notifier = new Notifier({
    pool: t.rt.pool,
    mailer: createMailer({ smtpUrl: `smtp://127.0.0.1:${port}`, dataDir: tmpdir() }),
    now: () => t.clock.now(),
    font: findCjkFont(),
    from: 'shifan 示范 <noreply@shifan.local>',
  });
  await tengzhouInImplementation(t);
  await contract(t, 'tengzhou-2019', 1, {
    milestones: [{ key: 'M1', title: '公共服务中心建成运营', due: '2020-12-31' }],
    tranches: [
      { key: 'T1', milestone: 'M1', source: 'central', amount: '200' },
      { key: 'T2', milestone: 'M1', source: 'local', amount: '100' },
    ],
  });
});
afterAll(async () => {
  await t?.close();
  await new Promise<void>((r) => smtp.close(() => r()));
});

const decodeWords = (s: string) =>
  s.replace(/=\?UTF-8\?B\?([^?]+)\?=\s*/gi, (_m, b) => Buffer.from(b, 'base64').toString('utf8'));
function parse(raw: string) {
  const [head, ...rest] = raw.split(/\r?\n\r?\n/);
  const headers = head.replace(/\r?\n[ \t]+/g, ' ');
  const subject = decodeWords(/^Subject: (.*)$/m.exec(headers)?.[1] ?? '');
  const messageId = /^Message-ID: (.*)$/im.exec(headers)?.[1]?.trim() ?? '';
  const body = Buffer.from(rest.join('\n').replace(/\s+/g, ''), 'base64').toString('utf8');
  return { subject, body, messageId, rawSubject: /^Subject: (.*)$/m.exec(headers)?.[1] ?? '' };
}

test('procurement events issued numbered notices; the award mail reached the contractor', async () => {
  const run = await notifier.runOnce();
  expect(run.notices).toBeGreaterThanOrEqual(4);
  const notices = await t.rt.prisma.officialNotice.findMany({ orderBy: { id: 'asc' } });
  expect(notices.map((n) => n.kind)).toEqual([
    'tender_announcement',
    'candidate_publicity',
    'award_notice',
    'contract_summary',
  ]);
  expect(notices.map((n) => n.docNumber)).toEqual([
    '滕商务〔2019〕1号',
    '滕商务〔2019〕2号',
    '滕商务〔2019〕3号',
    '滕商务〔2019〕4号',
  ]);
  const award = received.find((m) => m.to.includes('post@tzpost.cn'))!;
  expect(award).toBeDefined();
  const mail = parse(award.raw);
  expect(mail.rawSubject).toMatch(/=\?UTF-8\?B\?/i); // encoded, not raw 8-bit
  expect(mail.subject).toBe(
    '中标（承办）通知书：滕州电子商务公共服务中心建设（滕商务〔2019〕3号）',
  );
  expect(mail.body).toContain('确定你单位为');
  expect(mail.body).toContain('滕商务〔2019〕3号');
});

test('rejection → 整改通知书 by mail with the defects, the deadline and the 文号; receipts and pre-evaluation requests', async () => {
  const m = '/api/programs/tengzhou-2019/subprojects/1/milestones/M1';
  await submitMilestone(t, m, { deliverable: '中心建成' });
  await preEvaluate(t, m, { opinion: '面积不足', recommendation: 'reject' });
  const deadline = later(t, 30).slice(0, 10);
  ok(
    await t.call('POST', `${m}/decision`, {
      token: t.tokens.office,
      body: {
        decision: 'reject',
        defects: ['面积不足1500㎡', '培训孵化功能未开展'],
        rectificationDeadline: deadline,
      },
    }),
  );
  received.length = 0;
  await notifier.runOnce();
  const byTo = (addr: string) =>
    received.filter((x) => x.to.includes(addr)).map((x) => parse(x.raw));
  expect(byTo('audit@cpa.cn').map((x) => x.subject)).toEqual([
    '预评请求：滕州电子商务公共服务中心建设 里程碑 M1',
  ]);
  const toContractor = byTo('post@tzpost.cn');
  expect(toContractor.map((x) => x.subject.replace(/（.*）$/, ''))).toEqual([
    '收件回执：滕州电子商务公共服务中心建设 里程碑 M1',
    '整改通知书：滕州电子商务公共服务中心建设 里程碑 M1',
  ]);
  const notice = toContractor[1];
  expect(notice.subject).toContain('滕商务〔2019〕5号');
  expect(notice.body).toContain('面积不足1500㎡');
  expect(notice.body).toContain('培训孵化功能未开展');
  const [y, mo, d] = deadline.split('-').map(Number);
  expect(notice.body).toContain(`${y}年${mo}月${d}日 23:59`);
  expect(notice.body).toContain('滕商务〔2019〕5号');
});

test('the SMTP server refusing: mails retry with backoff; none lost, none duplicated after it recovers', async () => {
  ok(
    await t.call('POST', '/api/programs/tengzhou-2019/subprojects/1/milestones/M1/submission', {
      token: t.tokens.contractor,
      body: { deliverable: '整改后' },
    }),
    201,
  );
  refuse = true;
  received.length = 0;
  const first = await notifier.runOnce();
  expect(first.failed).toBe(2); // receipt + pre-evaluation request
  expect(received).toHaveLength(0);
  expect(await notifier.runOnce()).toMatchObject({ sent: 0, failed: 0 }); // backoff: not yet due again
  refuse = false;
  drop = true; // now it drops connections instead
  t.clock.set(later(t, 0.01));
  expect(await notifier.runOnce()).toMatchObject({ sent: 0, failed: 2 });
  expect(received).toHaveLength(0);
  drop = false;
  t.clock.set(later(t, 0.02)); // later still: the backoff has passed
  const second = await notifier.runOnce();
  expect(second.sent).toBe(2);
  await notifier.runOnce();
  t.clock.set(later(t, 1));
  await notifier.runOnce();
  const ids = received.map((x) => parse(x.raw).messageId);
  expect(ids).toHaveLength(2);
  expect(new Set(ids).size).toBe(2);
  const { rows } = await t.rt.pool.query(
    'SELECT status, count(*)::int AS n FROM mail_message GROUP BY status ORDER BY status',
  );
  expect(rows).toEqual([{ status: 'sent', n: expect.any(Number) }]);
});

test('mails that keep failing are dead-lettered; the office retries them', async () => {
  await t.relogin(); // the clock moved on: sessions last 12 hours
  ok(
    await t.call('POST', '/api/programs/tengzhou-2019/subprojects/1/milestones/M1/pre-evaluation', {
      token: t.tokens.evaluator,
      body: { opinion: '整改到位', recommendation: 'accept' },
    }),
  );
  ok(
    await t.call('POST', '/api/programs/tengzhou-2019/subprojects/1/milestones/M1/decision', {
      token: t.tokens.office,
      body: { decision: 'accept' },
    }),
  );
  await t.at(later(t, 8));
  await t.rt.scheduler.runDue();
  await notifier.runOnce(); // the acceptance publicity's mail goes out while the server still accepts
  const rel = await t.call(
    'POST',
    '/api/programs/tengzhou-2019/subprojects/1/tranches/T1/release',
    { token: t.tokens.finance, body: {}, headers: { 'idempotency-key': 'n-T1' } },
  );
  expect(rel.status).toBe(201);
  refuse = true;
  for (let i = 0; i < MAX_ATTEMPTS; i++) {
    await notifier.runOnce();
    t.clock.set(later(t, 1 / 12));
  }
  await t.relogin();
  const dead = ok(await t.call('GET', '/api/mail/dead-letters', { token: t.tokens.office }));
  expect(dead.items.map((x: { recipient: string }) => x.recipient).sort()).toEqual([
    'czj@tz.gov.cn',
    'post@tzpost.cn',
  ]);
  expect(dead.items[0].lastError).toContain('451');
  refuse = false;
  received.length = 0;
  for (const x of dead.items)
    ok(await t.call('POST', `/api/mail/${x.id}/retry`, { token: t.tokens.office }));
  await notifier.runOnce();
  expect(received.map((x) => parse(x.raw).subject.replace(/（.*）$/, ''))).toEqual([
    '资金拨付通知：滕州电子商务公共服务中心建设 T1',
    '资金拨付通知：滕州电子商务公共服务中心建设 T1',
  ]);
  expect(parse(received[0].raw).body).toContain('200万元（2,000,000.00元）');
});

test('the PDF opens and shows Chinese text; its text layer holds the 文号', async () => {
  expect(findCjkFont()).not.toBeNull(); // .ci/run installs fonts-noto-cjk and poppler-utils
  const n = (
    await t.rt.prisma.officialNotice.findMany({ where: { kind: 'rectification_notice' } })
  )[0];
  const res = await fetch(`${t.base}/api/notices/${n.id}/pdf`);
  expect(res.headers.get('content-type')).toBe('application/pdf');
  const dir = mkdtempSync(path.join(tmpdir(), 'notice-'));
  const file = path.join(dir, 'n.pdf');
  writeFileSync(file, Buffer.from(await res.arrayBuffer()));
  const text = execFileSync('pdftotext', ['-enc', 'UTF-8', file, '-']).toString('utf8');
  expect(text).toContain(n.docNumber);
  expect(text).toContain('整改通知书');
  expect(text).toContain('面积不足1500㎡');
  execFileSync('pdftoppm', ['-png', '-r', '40', '-f', '1', '-l', '1', file, path.join(dir, 'p')]);
  expect(readFileSync(path.join(dir, 'p-1.png')).length).toBeGreaterThan(1000);
  const fonts = execFileSync('pdffonts', [file]).toString();
  expect(fonts).toMatch(/CJK|WenQuanYi/); // a real CJK font is embedded: glyphs, not boxes
});

test('issued notices are immutable; a correction is a new notice; audit verify covers notices', async () => {
  await t.relogin();
  const n = (await t.rt.prisma.officialNotice.findMany({ orderBy: { id: 'asc' }, take: 1 }))[0];
  await expect(
    t.rt.pool.query('UPDATE official_notice SET title = $1 WHERE id = $2', ['改', n.id]),
  ).rejects.toThrow(/immutable/);
  const corr = ok(
    await t.call('POST', `/api/notices/${n.id}/corrections`, {
      token: t.tokens.office,
      body: { text: '投标截止时间更正为2019年11月27日9时30分。' },
    }),
    201,
  );
  expect(corr.title).toContain(n.docNumber);
  const list = ok(await t.call('GET', '/api/notices?program=tengzhou-2019')); // public: no token
  expect(list.items.find((x: { id: number }) => x.id === corr.id).corrects).toBe(Number(n.id));
  expect((await verifyAudit(t.rt.pool)).ok).toBe(true);
  await asSuperuser(
    t.rt.pool,
    "UPDATE official_notice SET html = replace(html, '招标', '采购') WHERE id = $1",
    [n.id],
  );
  const report = await verifyAudit(t.rt.pool);
  expect(report.ok).toBe(false);
  expect(report.broken!.problem).toContain(n.docNumber);
});

test('the office previews any template with sample data', async () => {
  const r = ok(
    await t.call('POST', '/api/templates/rectification_notice/preview', {
      token: t.tokens.office,
      body: {},
    }),
  );
  expect(r.html).toContain('整改通知书');
  const bad = await t.call('POST', '/api/templates/rectification_notice/preview', {
    token: t.tokens.office,
    body: { data: { contractor: undefined, defects: null } },
  });
  expect(bad.status).toBe(200); // sample data fills what is not given
  expect(
    (await t.call('POST', '/api/templates/nope/preview', { token: t.tokens.office, body: {} }))
      .status,
  ).toBe(404);
  expect((await t.call('GET', '/api/templates', { token: t.tokens.contractor })).status).toBe(403);
});
