// R-PUB-1: each program's notices as an Atom feed; the column's pages, its JSON and the notices answer
// with Cache-Control and an ETag, and a conditional GET with that ETag is a 304 without the body.
import { tmpdir } from 'node:os';
import { Notifier } from '../../activities/notify/dispatch';
import { createMailer } from '../../activities/notify/mailer';
import { findCjkFont } from '../../activities/notify/pdf';
import { atomFeed } from '../../api/atom';
import { later, ok, tengzhouInImplementation } from '../support/flows';
import { startTestServer, type TestServer } from '../support/server';

jest.setTimeout(90_000);
let t: TestServer;
const CODE = 'tengzhou-2019';
const get = async (path: string, headers: Record<string, string> = {}) => {
  // (fetch adds `Cache-Control: no-cache` to a conditional request unless it names its own, as a
  // browser's revalidation does)
  const r = await fetch(`${t.base}${path}`, {
    headers: { 'cache-control': 'max-age=0', ...headers },
  });
  return { status: r.status, headers: r.headers, body: Buffer.from(await r.arrayBuffer()) };
};

beforeAll(async () => {
  t = await startTestServer();
  await tengzhouInImplementation(t);
  for (const seq of [1, 2])
    ok(
      await t.call('POST', `/api/programs/${CODE}/subprojects/${seq}/tender`, {
        token: t.tokens.office,
        body: {
          announcement: { title: `分项目${seq}招标公告` },
          bidDeadline: later(t, 21).slice(0, 10),
        },
      }),
      201,
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

test("R-PUB-1: the program's notices as Atom, one entry per public notice with its 文号, HTML and PDF", async () => {
  const r = await get(`/api/public/programs/${CODE}/notices.atom`);
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toBe('application/atom+xml; charset=utf-8');
  expect(r.headers.get('cache-control')).toBe('public, max-age=300');
  const xml = r.body.toString();
  expect(xml).toMatch(
    /^<\?xml version="1.0" encoding="utf-8"\?>\n<feed xmlns="http:\/\/www.w3.org\/2005\/Atom"/,
  );
  const notices = await t.rt.prisma.officialNotice.findMany({ where: { programCode: CODE } });
  expect(notices.length).toBe(2);
  const entries = xml.match(/<entry>[\s\S]*?<\/entry>/g) ?? [];
  expect(entries).toHaveLength(2);
  for (const n of notices) {
    const e = entries.find((x) => x.includes(`<id>urn:shifan:notice:${n.id}:${n.sha256}</id>`));
    expect(e).toBeDefined();
    expect(e).toContain(`<link rel="alternate" type="text/html" href="/api/notices/${n.id}"/>`);
    if (n.pdf) expect(e).toContain(`href="/api/notices/${n.id}/pdf"`);
    expect(e).toContain(n.docNumber);
  }
  // markup in a title is escaped, not injected
  const crafted = atomFeed({
    code: 'x-2019',
    name: '项目 <b>&"\'',
    issuer: '办公室',
    createdAt: '2019-01-01T00:00:00.000Z',
    items: [
      {
        id: 1,
        docNumber: '某〔2019〕1号',
        kind: 'correction',
        kindName: '更正通知',
        title: '关于<script>的通知 & "更正"',
        issuedAt: '2019-01-02T00:00:00.000Z',
        sha256: 'a'.repeat(64),
        html: '/api/notices/1',
        pdf: null,
      },
    ],
  });
  expect(crafted).toContain(
    '<title>某〔2019〕1号 关于&lt;script&gt;的通知 &amp; &quot;更正&quot;</title>',
  );
  expect(crafted).toContain('<title>项目 &lt;b&gt;&amp;&quot;&apos; 通知公告</title>');
  expect(crafted).not.toContain('<script>');
  expect((await get('/api/public/programs/nowhere-2019/notices.atom')).status).toBe(404);
  // the page names its feed
  const page = (await get(`/gongkai/${CODE}`)).body.toString();
  expect(page).toContain(
    `<link rel="alternate" type="application/atom+xml" title="通知公告订阅（Atom）" href="/api/public/programs/${CODE}/notices.atom">`,
  );
});

test('ETag and Cache-Control on the public pages, JSON, feed and notices; If-None-Match answers 304', async () => {
  const n = await t.rt.prisma.officialNotice.findFirstOrThrow({ where: { programCode: CODE } });
  const cases: [string, string][] = [
    ['/gongkai', 'public, max-age=60'],
    [`/gongkai/${CODE}`, 'public, max-age=60'],
    ['/api/public/programs', 'public, max-age=60'],
    [`/api/public/programs/${CODE}`, 'public, max-age=60'],
    [`/api/public/programs/${CODE}/notices.atom`, 'public, max-age=300'],
    [`/api/notices/${n.id}`, 'public, max-age=86400'],
    ...(n.pdf
      ? ([[`/api/notices/${n.id}/pdf`, 'public, max-age=86400']] as [string, string][])
      : []),
  ];
  for (const [path, cache] of cases) {
    const first = await get(path);
    expect({ path, status: first.status, cache: first.headers.get('cache-control') }).toEqual({
      path,
      status: 200,
      cache,
    });
    const etag = first.headers.get('etag');
    expect({ path, etag }).toEqual({ path, etag: expect.stringMatching(/^(W\/)?"/) });
    const again = await get(path, { 'if-none-match': etag! });
    expect({ path, status: again.status, bytes: again.body.length }).toEqual({
      path,
      status: 304,
      bytes: 0,
    });
  }
  // the program's page and JSON: a validator of what they are made of, checked before anything is read;
  // any command on the program (here a report, in the program's stream) or a new minute changes it
  const page = `/gongkai/${CODE}`;
  const api = `/api/public/programs/${CODE}`;
  const before = [(await get(page)).headers.get('etag'), (await get(api)).headers.get('etag')];
  expect(before[0]).not.toBe(before[1]); // one per representation
  expect((await get(`${page}?kind=correction`)).headers.get('etag')).not.toBe(before[0]);
  ok(
    await t.call('POST', `/api/public/programs/${CODE}/reports`, {
      token: null,
      body: { text: '改变版本的举报内容' },
    }),
    201,
  );
  expect((await get(page, { 'if-none-match': before[0]! })).status).toBe(200);
  expect((await get(api, { 'if-none-match': before[1]! })).status).toBe(200);
  const now = (await get(page)).headers.get('etag')!;
  expect((await get(page, { 'if-none-match': now })).status).toBe(304);
  await t.at(new Date(t.clock.now().getTime() + 60_000).toISOString());
  expect((await get(page, { 'if-none-match': now })).status).toBe(200);
  const missing = await get('/gongkai/nowhere-2019');
  expect(missing.status).toBe(404);
  expect(missing.headers.get('etag')).not.toMatch(/^W\/"c-/); // the 404 page's own, not a program's
  // an issued notice's ETag is the SHA-256 of its HTML, the one X-Content-SHA256 names
  expect((await get(`/api/notices/${n.id}`)).headers.get('etag')).toBe(`"${n.sha256}"`);
  // a receipt's status is never cached: it changes when the office decides
  const r = ok(
    await t.call('POST', `/api/public/programs/${CODE}/reports`, {
      token: null,
      body: { text: '缓存测试的举报内容' },
    }),
    201,
  );
  expect((await get(`/api/public/receipts/${r.receipt}`)).headers.get('cache-control')).toBe(
    'no-store',
  );
  expect((await get(`/gongkai/receipts/${r.receipt}`)).headers.get('cache-control')).toBe(
    'no-store',
  );
});
