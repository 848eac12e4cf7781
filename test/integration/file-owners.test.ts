// Issue 12.4: evidence files are owned per organisation. The same bytes uploaded by two organisations are
// two files, each under its uploader's name, each citable by its owner; a file one may not read is
// answered exactly as an unknown one (a 403 told another organisation that the file exists).
import { ok, tengzhouInImplementation, upload } from '../support/flows';
import { startTestServer, type TestServer } from '../support/server';

let t: TestServer;
const SP = '/api/programs/tengzhou-2019/subprojects/7';
const BYTES = '%PDF-1.4 同一份宣传推广总结';

beforeAll(async () => {
  t = await startTestServer();
  await tengzhouInImplementation(t);
  // subproject 7 goes to contractorB's organisation, so A (contractor1) is the other organisation
  ok(
    await t.call('POST', `${SP}/designation`, {
      token: t.tokens.office,
      body: { org: '某物流有限公司', reason: '资金安排表确定为直接委托' },
    }),
    201,
  );
  ok(
    await t.call('POST', `${SP}/contract`, {
      token: t.tokens.office,
      body: {
        document: { title: '委托协议' },
        milestones: [{ key: 'M1', title: '宣传推广', due: '2020-06-30' }],
        tranches: [{ key: 'T1', milestone: 'M1', source: 'local', amount: '100' }],
      },
    }),
    201,
  );
});
afterAll(async () => {
  await t?.close();
});

const get = (sha: string, token: string) =>
  fetch(`${t.base}/api/files/${sha}`, { headers: { authorization: `Bearer ${token}` } });
const nameOf = (r: Response) =>
  decodeURIComponent(
    /filename\*=UTF-8''(.*)$/.exec(r.headers.get('content-disposition') ?? '')?.[1] ?? '',
  );

test("issue 12.4: organisation B uploading the exact bytes of A's file gets its own file under its own name, and can cite it", async () => {
  const a = await upload(t, t.tokens.contractor, 'A的报告.pdf', BYTES);
  const up = await fetch(`${t.base}/api/files`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${t.tokens.contractorB}`,
      'content-type': 'application/pdf',
      'x-file-name': encodeURIComponent('B的报告.pdf'),
    },
    body: Buffer.from(BYTES),
  });
  expect(up.status).toBe(201);
  const b = (await up.json()) as { sha256: string; name: string };
  expect(b).toMatchObject({ sha256: a, name: 'B的报告.pdf' }); // was A's name
  // the same owner uploading its bytes again keeps its first name
  expect(
    await upload(t, t.tokens.contractor, 'A的报告（再传）.pdf', BYTES).then(async (sha) =>
      nameOf(await get(sha, t.tokens.contractor)),
    ),
  ).toBe('A的报告.pdf');

  // each reads its own copy under its own name; the office reads the first uploaded
  const asB = await get(a, t.tokens.contractorB);
  expect(asB.status).toBe(200);
  expect(nameOf(asB)).toBe('B的报告.pdf');
  expect(await asB.text()).toBe(BYTES);
  expect(nameOf(await get(a, t.tokens.contractor))).toBe('A的报告.pdf');
  expect(nameOf(await get(a, t.tokens.office))).toBe('A的报告.pdf');

  // B cites its own upload in its submission, under its own name (was: 400, not uploaded by you)
  const s = ok(
    await t.call('POST', `${SP}/milestones/M1/submission`, {
      token: t.tokens.contractorB,
      body: { deliverable: '宣传推广总结', files: [a] },
    }),
    201,
  );
  const cited = JSON.stringify(s.milestones[0]);
  expect(cited).toContain('B的报告.pdf');
  expect(cited).not.toContain('A的报告.pdf');

  const rows = await t.rt.pool.query<{ owner: string; name: string }>(
    'SELECT owner, name FROM evidence_file WHERE sha256 = $1 ORDER BY owner',
    [a],
  );
  expect(rows.rows).toEqual([
    { owner: 'org:某物流有限公司', name: 'B的报告.pdf' },
    { owner: 'org:滕州市邮政分公司', name: 'A的报告.pdf' },
  ]);
});

test("issue 12.4: reading another organisation's file answers exactly as an unknown file does (404, same body), and it cannot be cited", async () => {
  const onlyA = await upload(t, t.tokens.contractor, 'A独有.pdf', '%PDF-1.4 只有A上传过');
  const unknown = 'f'.repeat(64);
  const theirs = await get(onlyA, t.tokens.contractorB);
  const none = await get(unknown, t.tokens.contractorB);
  expect(theirs.status).toBe(404); // was 403, which told B the file exists
  expect(none.status).toBe(404);
  expect(theirs.headers.get('content-type')).toBe(none.headers.get('content-type'));
  const strip = (b: Record<string, unknown>) => {
    const { instance: _instance, ...rest } = b;
    return rest;
  };
  expect(strip((await theirs.json()) as Record<string, unknown>)).toEqual(
    strip((await none.json()) as Record<string, unknown>),
  );
  // whoever may read every file still reads it
  expect((await get(onlyA, t.tokens.supervisor)).status).toBe(200);
  // and B cannot cite it, as it cannot cite an unknown hash
  const cite = (sha: string) =>
    t.call('POST', `${SP}/milestones/M1/submission`, {
      token: t.tokens.contractorB,
      body: { deliverable: 'x', files: [sha] },
    });
  const [c1, c2] = [await cite(onlyA), await cite(unknown)];
  expect(c1.status).toBe(400);
  expect([c2.status, c2.body.code]).toEqual([c1.status, c1.body.code]);
});
