// R-PUB-1: the program's disclosure data (budget table `disclosure`) and the public column built on it:
// the marker's reporting phones, the column's pages and their JSON twins, nothing internal on them.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Notifier } from '../../activities/notify/dispatch';
import { createMailer } from '../../activities/notify/mailer';
import { findCjkFont } from '../../activities/notify/pdf';
import { loadTable, type Table } from '../support/fixtures';
import { later, ok } from '../support/flows';
import { startTestServer, type TestServer } from '../support/server';
import { tmpdir } from 'node:os';

jest.setTimeout(90_000);
let t: TestServer;
let notifier: Notifier;

const example = (name: string): Table =>
  JSON.parse(
    readFileSync(path.join(__dirname, '..', '..', 'examples', `${name}.json`), 'utf8'),
  ) as Table;
const PHONE = '滕州市商务和投资促进局 0632-0000000'; // a test number, not a real one

beforeAll(async () => {
  t = await startTestServer({ now: '2019-10-20T02:00:00.000Z' });
  notifier = new Notifier({
    pool: t.rt.pool,
    mailer: createMailer({ dataDir: tmpdir() }),
    now: () => t.clock.now(),
    font: findCjkFont(),
    from: 'shifan 示范 <noreply@shifan.local>',
  });
});
afterAll(async () => {
  await t?.close();
});

describe('R-PUB-1 disclosure data in the budget table', () => {
  test('a malformed disclosure is refused with its field, nothing stored', async () => {
    const bad = (disclosure: unknown) => ({
      ...loadTable('tengzhou-2019'),
      code: 'bad-2019',
      disclosure,
    });
    for (const [disclosure, field] of [
      [{ phones: ['电话'] }, 'disclosure.phones[0]'],
      [{ phones: '12312' }, 'disclosure.phones'],
      [{}, 'disclosure.phones'],
      [{ phones: [], fax: '0632-1' }, 'disclosure'],
      [{ phones: [], office: '' }, 'disclosure.office'],
    ] as const) {
      const r = await t.call('POST', '/api/programs', {
        token: t.tokens.office,
        body: bad(disclosure),
      });
      expect(r.status).toBe(400);
      expect(JSON.stringify(r.body.errors)).toContain(field);
    }
    expect(await t.count('program')).toBe(0);
  });

  test("the examples carry the seeds' reporting numbers into the program definition", async () => {
    ok(
      await t.call('POST', '/api/programs', {
        token: t.tokens.office,
        body: example('shicheng-2020'),
      }),
      201,
    );
    const created = await t.rt.prisma.event.findFirst({
      where: { streamId: 'program-shicheng-2020', version: 1 },
    });
    expect((created?.data as any).definition.disclosure).toEqual({
      phones: ['江西省商务厅 0791-86246339', '石城县商务局 0797-5792681'],
      office: '石城县电子商务产业发展领导小组办公室（设在县商务局）',
    });
  });

  test("a notice's marker prints the program's phones; without them the national 12312", async () => {
    const withPhones = { ...loadTable('tengzhou-2019'), disclosure: { phones: [PHONE] } };
    ok(await t.call('POST', '/api/programs', { token: t.tokens.office, body: withPhones }), 201);
    const plain = { ...loadTable('tengzhou-2019'), code: 'plain-2019', docPrefix: '普商务' };
    ok(await t.call('POST', '/api/programs', { token: t.tokens.office, body: plain }), 201);
    for (const code of ['tengzhou-2019', 'plain-2019']) {
      for (const gate of ['plan_filed', 'leading_group_established'])
        ok(
          await t.call('POST', `/api/programs/${code}/gates/${gate}`, {
            token: t.tokens.office,
            body: { document: { title: gate } },
          }),
        );
      ok(
        await t.call('POST', `/api/programs/${code}/advance`, {
          token: t.tokens.office,
          body: { to: 'implement' },
        }),
      );
      ok(
        await t.call('POST', `/api/programs/${code}/subprojects/1/tender`, {
          token: t.tokens.office,
          body: {
            announcement: { title: '公共服务中心招标公告' },
            bidDeadline: later(t, 21).slice(0, 10),
          },
        }),
        201,
      );
    }
    await notifier.runOnce();
    const html = async (code: string) =>
      (await t.rt.prisma.officialNotice.findFirstOrThrow({ where: { programCode: code } })).html;
    const marked = await html('tengzhou-2019');
    expect(marked).toContain('全国电子商务进农村综合示范项目');
    expect(marked).toContain(PHONE);
    expect(marked).not.toContain('12312');
    expect(await html('plain-2019')).toContain('12312（商务部举报电话）');
  });
});
