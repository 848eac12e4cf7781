// R-FUND-6 acceptance on Shicheng's rule (0.5元 a parcel, ≤ 10万 per business a year, ≤ 100万 in all).
import { importProgram, ok } from '../support/flows';
import { startTestServer, type TestServer } from '../support/server';

let t: TestServer;
const C = '/api/programs/shicheng-2020/parcel-claims';
beforeAll(async () => {
  t = await startTestServer({ now: '2020-04-10T02:00:00.000Z' });
  await importProgram(t, 'shicheng-2020');
});
afterAll(async () => {
  await t?.close();
});

const csv = (prefix: string, from: number, n: number, header = true) =>
  (header ? '运单号,寄件地,品名\n' : '') +
  Array.from(
    { length: n },
    (_, i) => `${prefix}${String(from + i).padStart(9, '0')},石城县,白莲`,
  ).join('\n') +
  '\n';
async function uploadCsv(token: string, name: string, body: string): Promise<string> {
  const res = await fetch(`${t.base}/api/files`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'text/csv',
      'x-file-name': encodeURIComponent(name),
    },
    body,
  });
  expect(res.status).toBe(201);
  return (await res.json()).sha256;
}
const claim = (token: string, quarter: string, file: string) =>
  t.call('POST', C, { token, body: { quarter, file } });

test('Q1: 150,000 parcels for one business pays 7.5万', async () => {
  const file = await uploadCsv(t.tokens.contractor, '2020Q1运单.csv', csv('YT', 1, 150_000));
  const r = ok(await claim(t.tokens.contractor, '2020Q1', file), 201);
  expect(r).toMatchObject({
    id: 'C1',
    business: '滕州市邮政分公司',
    parcels: 150_000,
    status: 'submitted',
  });
  const rev = ok(
    await t.call('POST', `${C}/C1/review`, {
      token: t.tokens.office,
      body: { decision: 'approve' },
    }),
  );
  expect(rev.review).toMatchObject({
    eligibleParcels: 150_000,
    gross: { wan: '7.5' },
    payable: { wan: '7.5' },
    partialReason: null,
  });
  const paid = ok(
    await t.call('POST', `${C}/C1/pay`, {
      token: t.tokens.finance,
      headers: { 'idempotency-key': 'pay-C1' },
    }),
    201,
  );
  expect(paid.status).toBe('paid');
  expect(
    (
      await t.call('POST', `${C}/C1/pay`, {
        token: t.tokens.finance,
        headers: { 'idempotency-key': 'pay-C1' },
      })
    ).status,
  ).toBe(200);
});

test('a waybill number claimed twice is rejected (R-FUND-6), and nothing is stored for that claim', async () => {
  const file = await uploadCsv(t.tokens.contractor, '2020Q2重复.csv', csv('YT', 149_990, 20));
  const r = await claim(t.tokens.contractor, '2020Q2', file);
  expect(r.status).toBe(422);
  expect(r.body.rules).toEqual(['R-FUND-6']);
  expect(r.body.detail).toContain('YT000149990');
  const within = await uploadCsv(
    t.tokens.contractorB,
    '同一文件内重复.csv',
    `${csv('ZT', 1, 3, false)}ZT000000001,石城县,白莲\n`,
  );
  expect((await claim(t.tokens.contractorB, '2020Q2', within)).body.detail).toContain(
    'ZT000000001',
  );
  expect(ok(await t.call('GET', C, { token: t.tokens.office })).items).toHaveLength(1);
});

test('Q2: 100,000 parcels pays only the 2.5万 left under the 10万 yearly cap, with the reason stated', async () => {
  const file = await uploadCsv(t.tokens.contractor, '2020Q2运单.csv', csv('YT', 200_000, 100_000));
  ok(await claim(t.tokens.contractor, '2020Q2', file), 201);
  const rev = ok(
    await t.call('POST', `${C}/C2/review`, {
      token: t.tokens.office,
      body: { decision: 'approve' },
    }),
  );
  expect(rev.review).toMatchObject({ gross: { wan: '5' }, payable: { wan: '2.5' } });
  expect(rev.review.partialReason).toContain('超过单个企业年度补贴上限 10万元');
  expect(rev.review.partialReason).toContain('本次补贴 2.5万元');
  ok(
    await t.call('POST', `${C}/C2/pay`, {
      token: t.tokens.finance,
      headers: { 'idempotency-key': 'pay-C2' },
    }),
    201,
  );
  const { rows } = await t.rt.pool.query(
    "SELECT sum(amount_fen)::bigint AS s, count(*)::int AS n FROM ledger_entry WHERE kind = 'parcel_subsidy'",
  );
  expect(rows[0]).toEqual({ s: '10000000', n: 2 });
  // a contractor sees only its own claims
  expect(ok(await t.call('GET', C, { token: t.tokens.contractorB })).items).toHaveLength(0);
});

test('a program without a parcel subsidy refuses claims', async () => {
  await importProgram(t);
  const file = await uploadCsv(t.tokens.contractor, 'x.csv', csv('QQ', 1, 5));
  const r = await t.call('POST', '/api/programs/tengzhou-2019/parcel-claims', {
    token: t.tokens.contractor,
    body: { quarter: '2020Q1', file },
  });
  expect(r.status).toBe(409);
  expect(r.body.rules).toEqual(['R-FUND-6']);
});
