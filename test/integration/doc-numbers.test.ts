// 文号 and dead letters (issue 12.5): a notice's number is the issuing office's 机关代字〔年份〕序号号, the
// serial running per (机关代字, year), so two programs never collide; an outbox row that cannot succeed
// is dead-lettered with its error (GET /api/outbox/dead, /healthz) instead of retrying forever and
// stalling nothing else; a mail refused for good is dead at once and the office's retry sends it.
import type { Pool, PoolClient } from 'pg';
import {
  MAX_OUTBOX_ATTEMPTS,
  Notifier,
  isPermanent,
  PermanentError,
} from '../../activities/notify/dispatch';
import type { Mailer, OutgoingMail } from '../../activities/notify/mailer';
import { defaultDocPrefix } from '../../workflows/notices';
import { loadTable } from '../support/fixtures';
import { contract, later, ok } from '../support/flows';
import { startTestServer, type TestServer } from '../support/server';

jest.setTimeout(90_000);
let t: TestServer;
const sent: OutgoingMail[] = [];
let refuseWith: number | null = null; // the SMTP reply code the mailer fails with, or null: accepted
const mailer: Mailer = {
  describe: 'test',
  send: (m) => {
    if (refuseWith !== null)
      return Promise.reject(
        Object.assign(new Error(`${refuseWith} refused`), { responseCode: refuseWith }),
      );
    sent.push(m);
    return Promise.resolve();
  },
  close: () => {},
};
const notifierOn = (pool: Pool) =>
  new Notifier({
    pool,
    mailer,
    now: () => t.clock.now(),
    font: null,
    from: 'noreply@shifan.local',
  });
let notifier: Notifier;

const COUNTIES = [
  { code: 'shiyan-2019', county: '试验县' },
  { code: 'shidian-2019', county: '试点县' },
] as const;

/** A county's program (the Tengzhou table under another code and county), in 组织实施. */
async function countyInImplementation(code: string, county: string, docPrefix?: string) {
  const table = {
    ...loadTable('tengzhou-2019'),
    code,
    county,
    name: `${county}电子商务进农村综合示范`,
  };
  ok(
    await t.call('POST', '/api/programs', {
      token: t.tokens.office,
      body: docPrefix ? { ...table, docPrefix } : table,
    }),
    201,
  );
  for (const [gate, title] of [
    ['plan_filed', '实施方案'],
    ['leading_group_established', '领导小组'],
  ])
    ok(
      await t.call('POST', `/api/programs/${code}/gates/${gate}`, {
        token: t.tokens.office,
        body: { document: { title } },
      }),
    );
  ok(
    await t.call('POST', `/api/programs/${code}/advance`, {
      token: t.tokens.office,
      body: { to: 'implement' },
    }),
  );
}
const PLAN = {
  milestones: [{ key: 'M1', title: '公共服务中心建成运营', due: '2020-12-31' }],
  tranches: [
    { key: 'T1', milestone: 'M1', source: 'central', amount: '200' },
    { key: 'T2', milestone: 'M1', source: 'local', amount: '100' },
  ],
};

const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) =>
  (await t.rt.pool.query(sql, params)).rows as T[];
/** runs the dispatcher `n` times, the clock moved past the longest backoff (1 h) before each */
async function dispatch(n = 1) {
  for (let i = 0; i < n; i++) {
    t.clock.set(later(t, 1 / 12));
    await notifier.runOnce();
  }
}

beforeAll(async () => {
  t = await startTestServer();
  notifier = notifierOn(t.rt.pool);
  for (const [username, email] of [
    ['office1', 'office@sy.gov.cn'],
    ['contractor1', 'post@post.cn'],
    ['finance1', 'czj@sy.gov.cn'],
  ])
    await t.rt.prisma.user.update({ where: { username }, data: { email } });
  await t.at('2019-10-20T02:00:00.000Z');
  await t.addUserAndLogin('contractorC', 'contractor', '鲁南快递有限公司');
});
afterAll(() => t?.close());

test('issue 12.5: the default 机关代字 is the county’s first character + 商务 (滕州市 → 滕商务)', () => {
  expect(defaultDocPrefix('滕州市')).toBe('滕商务');
  expect(defaultDocPrefix('石城县')).toBe('石商务');
  expect(defaultDocPrefix('𠮷县')).toBe('𠮷商务'); // a character beyond the BMP stays whole
});

test('issue 12.5: two counties sharing a first character (试验县, 试点县) both get their 招标公告 and mails', async () => {
  for (const c of COUNTIES) {
    await countyInImplementation(c.code, c.county);
    await contract(t, c.code, 1, PLAN); // tender → candidate → award → contract: four notices each
  }
  await t.relogin();
  const run = await notifier.runOnce();
  expect(run).toMatchObject({ outbox: 10, notices: 8, failed: 0, dead: 0 }); // + 2 PhaseAdvanced
  const notices = await q<{ program_code: string; kind: string; doc_number: string }>(
    'SELECT program_code, kind, doc_number FROM official_notice ORDER BY id',
  );
  const of = (code: string) => notices.filter((n) => n.program_code === code);
  // one office prefix, 试商务, by default for both: the serial runs on across the two programs
  expect(of('shiyan-2019').map((n) => [n.kind, n.doc_number])).toEqual([
    ['tender_announcement', '试商务〔2019〕1号'],
    ['candidate_publicity', '试商务〔2019〕2号'],
    ['award_notice', '试商务〔2019〕3号'],
    ['contract_summary', '试商务〔2019〕4号'],
  ]);
  expect(of('shidian-2019').map((n) => [n.kind, n.doc_number])).toEqual([
    ['tender_announcement', '试商务〔2019〕5号'],
    ['candidate_publicity', '试商务〔2019〕6号'],
    ['award_notice', '试商务〔2019〕7号'],
    ['contract_summary', '试商务〔2019〕8号'],
  ]);
  expect(
    await q('SELECT id FROM outbox WHERE dispatched_at IS NULL OR dead_at IS NOT NULL'),
  ).toEqual([]);
  // both programs' award and contract mails are queued (and sent), each citing its own 文号
  const mails = await q<{ subject: string; recipient: string; status: string }>(
    'SELECT subject, recipient, status FROM mail_message WHERE template = $1 ORDER BY id',
    ['notice_issued'],
  );
  for (const [award, summary] of [
    ['试商务〔2019〕3号', '试商务〔2019〕4号'], // 试验县
    ['试商务〔2019〕7号', '试商务〔2019〕8号'], // 试点县
  ]) {
    const own = mails.filter((m) => m.subject.endsWith(`（${award}）`));
    expect(own.map((m) => m.recipient)).toEqual(['post@post.cn']);
    const sum = mails.filter((m) => m.subject.endsWith(`（${summary}）`));
    expect(sum.map((m) => m.recipient).sort()).toEqual(['czj@sy.gov.cn', 'post@post.cn']);
  }
  expect(mails).toHaveLength(6);
  expect(new Set(mails.map((m) => m.status))).toEqual(new Set(['sent']));
});

test('issue 12.5: a program’s own 机关代字 (docPrefix in the table) numbers its notices from 1; a malformed one is refused', async () => {
  const bad = await t.call('POST', '/api/programs', {
    token: t.tokens.office,
    body: { ...loadTable('tengzhou-2019'), code: 'bad-2019', docPrefix: 'X〔1〕' },
  });
  expect(bad.status).toBe(400);
  expect(JSON.stringify(bad.body)).toContain('docPrefix');
  await countyInImplementation('shiqu-2019', '试区', '试区商务');
  for (const seq of [1, 2])
    ok(
      await t.call('POST', `/api/programs/shiqu-2019/subprojects/${seq}/tender`, {
        token: t.tokens.office,
        body: {
          announcement: { title: `分项目${seq}招标公告` },
          bidDeadline: later(t, 21).slice(0, 10),
        },
      }),
      201,
    );
  await notifier.runOnce();
  const rows = await q<{ doc_number: string; doc_prefix: string }>(
    "SELECT doc_number, doc_prefix FROM official_notice WHERE program_code = 'shiqu-2019' ORDER BY id",
  );
  expect(rows).toEqual(
    [1, 2].map((n) => ({ doc_number: `试区商务〔2019〕${n}号`, doc_prefix: '试区商务' })),
  );
  // the event keeps the prefix the table named; the others (no docPrefix) keep their events as before
  const [created] = await q<{ p: string | null }>(
    "SELECT data #>> '{definition,docPrefix}' AS p FROM event WHERE stream_id = 'program-shiqu-2019' AND version = 1",
  );
  expect(created.p).toBe('试区商务');
  const [plain] = await q<{ p: string | null }>(
    "SELECT data #>> '{definition,docPrefix}' AS p FROM event WHERE stream_id = 'program-shiyan-2019' AND version = 1",
  );
  expect(plain.p).toBeNull();
});

test('issue 12.5: a row that fails permanently is dead-lettered at once with its error; the rows after it still go out', async () => {
  const [{ version }] = await q<{ version: number }>(
    "SELECT version FROM stream WHERE id = 'subproject-shiyan-2019-1'",
  );
  const bad = {
    programCode: 'shiyan-2019',
    seq: 1,
    eventType: 'TenderOpened',
    version: 3_000_000_000, // beyond INTEGER: PostgreSQL 22003 on the notice lookup, every time
    at: t.clock.now().toISOString(),
    notices: [{ kind: 'tender_announcement', title: '招标公告', data: {} }],
    mails: [],
  };
  const unreadable = { programCode: 'shiyan-2019', notices: 'none' };
  const good = {
    programCode: 'shiyan-2019',
    seq: null,
    eventType: 'PhaseAdvanced',
    version: version + 1,
    at: t.clock.now().toISOString(),
    notices: [],
    mails: [
      {
        template: 'phase_advanced',
        subject: '进入阶段',
        to: { roles: ['finance'] },
        data: { from: '启动筹备', to: '组织实施', at: t.clock.now().toISOString(), toEnd: null },
      },
    ],
  };
  const [{ id: from }] = await q<{ id: string }>(
    `INSERT INTO outbox (stream_id, version, kind, payload, created_at, next_attempt_at)
     VALUES ('subproject-shiyan-2019-1', $1, 'notify', $2, $4, $4), ('subproject-shiyan-2019-1', $1, 'notify', $3, $4, $4),
            ('program-shiyan-2019', $1, 'notify', $5, $4, $4) RETURNING id`,
    [version, bad, unreadable, t.clock.now(), good],
  );
  const run = await notifier.runOnce();
  expect(run).toMatchObject({ outbox: 3, dead: 2, failed: 0, mailsQueued: 1 });
  await dispatch(3); // never claimed again
  const rows = await q<{ attempts: number; dead: boolean; done: boolean; last_error: string }>(
    'SELECT attempts, dead_at IS NOT NULL AS dead, dispatched_at IS NOT NULL AS done, last_error FROM outbox WHERE id >= $1 ORDER BY id',
    [from],
  );
  expect(rows.map((r) => [r.attempts, r.dead, r.done])).toEqual([
    [1, true, false],
    [1, true, false],
    [1, false, true],
  ]);
  expect(rows[0].last_error).toMatch(/^\[permanent 22003\] /);
  expect(rows[1].last_error).toBe('[permanent] bad outbox payload: version is not an integer');

  // the office sees them (and only the office); /healthz counts them
  expect((await t.call('GET', '/api/outbox/dead', { token: t.tokens.contractor })).status).toBe(
    403,
  );
  const dead = ok(await t.call('GET', '/api/outbox/dead', { token: t.tokens.office }));
  expect(dead.items).toEqual([
    expect.objectContaining({
      id: Number(from),
      streamId: 'subproject-shiyan-2019-1',
      programCode: 'shiyan-2019',
      eventType: 'TenderOpened',
      notices: ['tender_announcement'],
      attempts: 1,
      lastError: rows[0].last_error,
    }),
    expect.objectContaining({ id: Number(from) + 1, notices: [], attempts: 1 }),
  ]);
  const health = ok(await t.call('GET', '/healthz'));
  expect(health).toMatchObject({ status: 'ok', db: 'up', deadLetters: { outbox: 2, mail: 0 } });
});

test(`issue 12.5: a transient failure is retried with backoff, and dead after ${MAX_OUTBOX_ATTEMPTS} attempts`, async () => {
  // a pool whose connections fail every notice INSERT with a serialization failure (40001)
  const failing = {
    query: (...a: Parameters<Pool['query']>) => t.rt.pool.query(...a),
    connect: async () => {
      const c = await t.rt.pool.connect();
      return {
        query: (sql: unknown, ...rest: unknown[]) =>
          typeof sql === 'string' && sql.includes('INSERT INTO official_notice')
            ? Promise.reject(
                Object.assign(new Error('could not serialize access'), { code: '40001' }),
              )
            : (c.query as (...a: unknown[]) => Promise<unknown>)(sql, ...rest),
        release: (e?: Error | boolean) => c.release(e),
      } as unknown as PoolClient;
    },
  } as unknown as Pool;
  const flaky = notifierOn(failing);
  ok(
    await t.call('POST', '/api/programs/shiyan-2019/subprojects/2/tender', {
      token: t.tokens.office,
      body: { announcement: { title: '分项目2招标公告' }, bidDeadline: later(t, 21).slice(0, 10) },
    }),
    201,
  );
  const row = async () =>
    (
      await q<{ attempts: number; dead: boolean; due: Date; last_error: string | null }>(
        "SELECT attempts, dead_at IS NOT NULL AS dead, next_attempt_at AS due, last_error FROM outbox WHERE stream_id = 'subproject-shiyan-2019-2'",
      )
    )[0];
  const before = t.clock.now().getTime();
  expect(await flaky.runOnce()).toMatchObject({ outbox: 1, failed: 1, dead: 0 });
  expect(await row()).toMatchObject({ attempts: 1, dead: false, due: new Date(before + 2000) });
  expect((await row()).last_error).toBe('[transient 40001] could not serialize access');
  expect(await flaky.runOnce()).toMatchObject({ outbox: 0 }); // not due yet
  for (let i = 2; i <= MAX_OUTBOX_ATTEMPTS; i++) {
    t.clock.set(later(t, 1 / 12));
    expect(await flaky.runOnce()).toMatchObject(
      i < MAX_OUTBOX_ATTEMPTS ? { failed: 1, dead: 0 } : { failed: 0, dead: 1 },
    );
  }
  expect(await row()).toMatchObject({ attempts: MAX_OUTBOX_ATTEMPTS, dead: true });
  await dispatch(2); // the healthy dispatcher leaves a dead row alone
  expect(await row()).toMatchObject({ attempts: MAX_OUTBOX_ATTEMPTS, dead: true });
  const health = ok(await t.call('GET', '/healthz'));
  expect(health.deadLetters).toEqual({ outbox: 3, mail: 0 });
});

test('issue 12.5: the error classes: constraint and data errors are permanent, conflicts and lost connections are not', () => {
  const pg = (code: string) => Object.assign(new Error(code), { code });
  expect(
    ['23505', '23502', '22003', '22P02', '42703', 'SF403'].map((c) => isPermanent(pg(c))),
  ).toEqual([true, true, true, true, true, true]);
  expect(
    ['40001', '40P01', '08006', '57P01', '53100', 'ECONNRESET'].map((c) => isPermanent(pg(c))),
  ).toEqual([false, false, false, false, false, false]);
  expect(isPermanent(new PermanentError('x'))).toBe(true);
  expect(isPermanent(new TypeError('x'))).toBe(true);
  expect(isPermanent(new Error('timeout'))).toBe(false);
});

test('issue 12.5: a mail refused for good (SMTP 550) is dead at once; the office’s retry sends it', async () => {
  await t.relogin();
  ok(
    await t.call('POST', '/api/programs/shidian-2019/subprojects/2/tender', {
      token: t.tokens.office,
      body: { announcement: { title: '分项目2招标公告' }, bidDeadline: later(t, 21).slice(0, 10) },
    }),
    201,
  );
  await notifier.runOnce(); // what is pending goes out first
  const [{ max }] = await q<{ max: string }>(
    'SELECT COALESCE(MAX(id), 0) AS max FROM mail_message',
  );
  await q(
    `INSERT INTO mail_message (event_key, template, recipient, recipient_name, subject, text, message_id, created_at, next_attempt_at)
     VALUES ('test:550', 'notice_issued', 'nobody@post.cn', '某单位', '测试', '正文', '<t550@shifan.local>', $1, $1)`,
    [t.clock.now()],
  );
  refuseWith = 550;
  const run = await notifier.runOnce();
  expect(run.dead).toBe(1);
  const dead = ok(await t.call('GET', '/api/mail/dead-letters', { token: t.tokens.office }));
  const mail = dead.items.find((m: { id: number }) => m.id > Number(max));
  expect(mail).toMatchObject({ recipient: 'nobody@post.cn', attempts: 1 });
  expect(ok(await t.call('GET', '/healthz')).deadLetters.mail).toBe(1);
  refuseWith = null;
  ok(await t.call('POST', `/api/mail/${mail.id}/retry`, { token: t.tokens.office }));
  sent.length = 0;
  await notifier.runOnce();
  expect(sent.map((m) => m.to)).toContain('nobody@post.cn');
  expect(ok(await t.call('GET', '/healthz')).deadLetters.mail).toBe(0);
  // the tender of the second program was issued meanwhile, after the first one's dead rows
  const [n] = await q<{ doc_number: string }>(
    "SELECT doc_number FROM official_notice WHERE stream_id = 'subproject-shidian-2019-2'",
  );
  expect(n.doc_number).toMatch(/^试商务〔2019〕\d+号$/);
});

test('issue 12.5: the OpenAPI document describes docPrefix and GET /api/outbox/dead', async () => {
  const doc = ok(await t.call('GET', '/openapi.json'));
  const table = JSON.stringify(doc.components.schemas.ProgramTable);
  expect(table).toContain('"docPrefix"');
  expect(table).toContain('机关代字');
  expect(doc.paths['/api/outbox/dead'].get).toBeDefined();
});
