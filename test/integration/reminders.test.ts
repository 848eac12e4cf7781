// Deadline reminders N days ahead, once each; the monthly supervision digest (每月督查) lists what is
// overdue per responsible party. Without SMTP_URL the mails are .eml files under DATA_DIR/mail.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Notifier } from '../../activities/notify/dispatch';
import { createMailer } from '../../activities/notify/mailer';
import { contract, ok, tengzhouInImplementation } from '../support/flows';
import { startTestServer, type TestServer } from '../support/server';

let t: TestServer; let notifier: Notifier; let dataDir: string;
beforeAll(async () => {
  t = await startTestServer();
  for (const [username, email] of [['office1', 'office@tz.gov.cn'], ['contractor1', 'post@tzpost.cn'], ['supervisor1', 'sj@tz.gov.cn']]) await t.rt.prisma.user.update({ where: { username }, data: { email } });
  dataDir = mkdtempSync(path.join(tmpdir(), 'shifan-mail-'));
  notifier = new Notifier({ pool: t.rt.pool, mailer: createMailer({ dataDir }), now: () => t.clock.now(), font: null, from: 'noreply@shifan.local', reminderDays: 3 });
  await tengzhouInImplementation(t);
  await contract(t, 'tengzhou-2019', 6, { milestones: [{ key: 'M1', title: '电商扶贫', due: '2020-03-31' }], tranches: [{ key: 'T1', milestone: 'M1', source: 'central', amount: '100' }] });
  await notifier.runOnce(); // notices and the month's digest so far
});
afterAll(async () => { await t?.close(); });

const mails = async (template: string) => (await t.rt.prisma.mailMessage.findMany({ where: { template }, orderBy: { id: 'asc' } }));

test('a reminder 3 days before a milestone is due, sent once, as an .eml file', async () => {
  t.clock.set('2020-03-28T02:00:00.000Z');
  const r1 = await notifier.runOnce();
  expect(r1.reminders).toBe(1);
  await notifier.runOnce(); // again: nothing new
  const rem = await mails('deadline_reminder');
  expect(rem.map((m) => [m.recipient, m.status])).toEqual([['post@tzpost.cn', 'sent']]);
  expect(rem[0].subject).toContain('里程碑 M1「电商扶贫」');
  expect(rem[0].text).toContain('2020年3月31日 23:59，还有 3 天');
  const files = readdirSync(path.join(dataDir, 'mail'));
  const eml = files.map((f) => readFileSync(path.join(dataDir, 'mail', f), 'utf8')).find((x) => x.includes(rem[0].messageId));
  expect(eml).toBeDefined();
  expect(eml).toMatch(/^Subject: =\?UTF-8\?B\?/m);
});

test('the monthly digest lists what is overdue, per party, once a month', async () => {
  t.clock.set('2020-04-02T02:00:00.000Z'); // M1 was due 2020-03-31 and nothing was submitted
  await notifier.runOnce();
  await notifier.runOnce();
  const digests = (await mails('monthly_digest')).filter((m) => m.subject.startsWith('2020年4月'));
  expect(digests.map((m) => m.recipient).sort()).toEqual(['office@tz.gov.cn', 'sj@tz.gov.cn']);
  expect(digests[0].text).toContain('【滕州市邮政分公司】');
  expect(digests[0].text).toContain('里程碑 M1「电商扶贫」：期限 2020年3月31日，已逾期 2 天');
  expect(digests[0].text).not.toContain('【领导小组办公室】'); // 组织实施 runs until 2020-12-31: nothing of the office's is late
});
