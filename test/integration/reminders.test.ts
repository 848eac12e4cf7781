// Deadline reminders N days ahead, once each; the monthly supervision digest (每月督查) lists what is
// overdue per responsible party. Without SMTP_URL the mails are .eml files under DATA_DIR/mail.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Notifier } from '../../activities/notify/dispatch';
import { openDeadlines } from '../../activities/notify/reminders';
import { loadStates } from '../../activities/store/event-store';
import { subprojectAggregate } from '../../engine/aggregates';
import { createMailer } from '../../activities/notify/mailer';
import { contract, tengzhouInImplementation } from '../support/flows';
import { startTestServer, type TestServer } from '../support/server';

let t: TestServer;
let notifier: Notifier;
let dataDir: string;
beforeAll(async () => {
  t = await startTestServer();
  for (const [username, email] of [
    ['office1', 'office@tz.gov.cn'],
    ['contractor1', 'post@tzpost.cn'],
    ['supervisor1', 'sj@tz.gov.cn'],
  ])
    await t.rt.prisma.user.update({ where: { username }, data: { email } });
  dataDir = mkdtempSync(path.join(tmpdir(), 'shifan-mail-'));
  notifier = new Notifier({
    pool: t.rt.pool,
    mailer: createMailer({ dataDir }),
    now: () => t.clock.now(),
    font: null,
    from: 'noreply@shifan.local',
    reminderDays: 3,
  });
  await tengzhouInImplementation(t);
  await contract(t, 'tengzhou-2019', 6, {
    milestones: [{ key: 'M1', title: '电商扶贫', due: '2020-03-31' }],
    tranches: [{ key: 'T1', milestone: 'M1', source: 'central', amount: '100' }],
  });
  await notifier.runOnce(); // notices and the month's digest so far
});
afterAll(async () => {
  await t?.close();
});

const mails = async (template: string) =>
  await t.rt.prisma.mailMessage.findMany({ where: { template }, orderBy: { id: 'asc' } });

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
  const eml = files
    .map((f) => readFileSync(path.join(dataDir, 'mail', f), 'utf8'))
    .find((x) => x.includes(rem[0].messageId));
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

describe('next_due: the earliest open deadline of each stream, so that these reads fold only what is due', () => {
  const row = async (id: string) =>
    (
      await t.rt.pool.query<{ next_due: string | null }>(
        'SELECT next_due::text AS next_due FROM stream WHERE id = $1',
        [id],
      )
    ).rows[0].next_due;

  test('each append stores it: the milestone due date of a contracted subproject, the phase end of a program', async () => {
    expect(await row('subproject-tengzhou-2019-6')).toBe('2020-03-31 15:59:59.999+00'); // 2020-03-31 23:59:59.999 Beijing
    expect(await row('program-tengzhou-2019')).toBe('2020-12-31 15:59:59.999+00');
  });

  test('only streams due by then are folded; a stream not yet computed (NULL, as after the upgrade) always is', async () => {
    const early = new Date('2020-01-01T00:00:00.000Z');
    expect(
      (await loadStates(t.rt.pool, 'subproject', subprojectAggregate, early)).map((s) => s.id),
    ).toEqual([]);
    expect(await openDeadlines(t.rt.pool, early)).toEqual([]);
    await t.rt.pool.query(
      "UPDATE stream SET next_due = NULL WHERE id = 'subproject-tengzhou-2019-6'",
    );
    expect(
      (await loadStates(t.rt.pool, 'subproject', subprojectAggregate, early)).map((s) => s.id),
    ).toEqual(['subproject-tengzhou-2019-6']);
    expect(await openDeadlines(t.rt.pool, early)).toEqual([]); // folded, and its deadline is later than asked
    const late = await openDeadlines(t.rt.pool, new Date('2020-06-01T00:00:00.000Z'));
    expect(late.map((d) => d.key)).toEqual(['subproject-tengzhou-2019-6:due:M1']);
    expect(await openDeadlines(t.rt.pool)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ key: 'program-tengzhou-2019:phase:implement' }),
      ]),
    );
  });

  test('the overdue list over HTTP shows the late milestone with its days overdue', async () => {
    t.clock.set('2020-04-05T02:00:00.000Z');
    await t.relogin();
    const r = await t.call('GET', '/api/overdue', { token: t.tokens.supervisor });
    expect(r.status).toBe(200);
    expect(r.body.items).toEqual([
      expect.objectContaining({
        what: expect.stringContaining('里程碑 M1「电商扶贫」'),
        daysOverdue: 5,
      }),
    ]);
  });
});
