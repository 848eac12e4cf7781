// R-FUND-7 across subprojects: releases on two subprojects and a parcel subsidy payment of one program,
// sent at the same moment, whose sum exceeds the program's central budget. The program's remaining
// budget is read and spent under its funds lock, so the total paid never exceeds the budget and the
// refused command names R-FUND-7 with its figures.
import { loadTable } from '../support/fixtures';
import { acceptMilestone, later, ok, release, upload } from '../support/flows';
import { startTestServer, type TestServer } from '../support/server';

let t: TestServer;
const CODE = 'funds-race';
const P = `/api/programs/${CODE}`;
const ORG = '滕州市邮政分公司'; // contractor1's organisation

/** Shicheng's table with central funds only on subprojects 4 (400万) and 5 (410万): 810万 central. */
function raceTable() {
  const table = loadTable('shicheng-2020') as Record<string, any>;
  table.code = CODE;
  table.name = '资金竞争测试项目';
  table.unitCaps = [];
  for (const sp of table.subprojects) if (![4, 5].includes(sp.seq)) sp.funding.central = '0';
  table.totals = { central: '810', local: '700', enterprise: '1300', total: '2810' };
  return table;
}

async function contractedAndAccepted(seq: number, funding: Record<string, string>) {
  const sp = `${P}/subprojects/${seq}`;
  ok(
    await t.call('POST', `${sp}/designation`, {
      token: t.tokens.office,
      body: { org: ORG, reason: '定向委托：县邮政分公司承担物流与上行体系建设' },
    }),
    201,
  );
  ok(
    await t.call('POST', `${sp}/contract`, {
      token: t.tokens.office,
      body: {
        document: { title: '承办协议' },
        milestones: [{ key: 'M1', title: '建成并运营', due: later(t, 60).slice(0, 10) }],
        tranches: Object.entries(funding).map(([source, amount]) => ({
          key: `T-${source}`,
          milestone: 'M1',
          source,
          amount,
        })),
      },
    }),
    201,
  );
  const file = await upload(t, t.tokens.contractor, `验收材料${seq}.pdf`, `%PDF-1.4 seq ${seq}`);
  await acceptMilestone(t, CODE, seq, 'M1', { deliverable: '已建成', files: [file] });
}

beforeAll(async () => {
  t = await startTestServer({ now: '2020-04-10T02:00:00.000Z' });
  ok(await t.call('POST', '/api/programs', { token: t.tokens.office, body: raceTable() }), 201);
  for (const gate of ['plan_filed', 'leading_group_established'])
    ok(
      await t.call('POST', `${P}/gates/${gate}`, {
        token: t.tokens.office,
        body: { document: { title: gate } },
      }),
    );
  ok(await t.call('POST', `${P}/advance`, { token: t.tokens.office, body: { to: 'build' } }));
  await contractedAndAccepted(4, { central: '400', local: '200', enterprise: '300' });
  await contractedAndAccepted(5, { central: '410', local: '200', enterprise: '200' });

  // an approved parcel subsidy claim of 7.5万 (150,000 parcels at 0.5元), paid from central funds
  const csv =
    '运单号\n' +
    Array.from({ length: 150_000 }, (_, i) => `SF${String(i).padStart(10, '0')}`).join('\n');
  const file = await upload(t, t.tokens.contractor, '运单.csv', csv, 'text/csv');
  ok(
    await t.call('POST', `${P}/parcel-claims`, {
      token: t.tokens.contractor,
      body: { quarter: '2020Q1', file },
    }),
    201,
  );
  ok(
    await t.call('POST', `${P}/parcel-claims/C1/review`, {
      token: t.tokens.office,
      body: { decision: 'approve' },
    }),
  );
}, 120_000);
afterAll(async () => {
  await t?.close();
});

test('R-FUND-7: two releases and a parcel payment at once never pay more than the program’s central budget', async () => {
  const [a, b, c] = await Promise.all([
    release(t, CODE, 4, 'T-central', 'race-4'),
    release(t, CODE, 5, 'T-central', 'race-5'),
    t.call('POST', `${P}/parcel-claims/C1/pay`, {
      token: t.tokens.finance,
      headers: { 'idempotency-key': 'race-C1' },
    }),
  ]);
  const answers = [a, b, c];
  const paid = answers.filter((r) => r.status === 201);
  const refused = answers.filter((r) => r.status !== 201);
  // 400 + 410 + 7.5 = 817.5万 > 810万: at least one is refused, by R-FUND-7, with its figures
  expect(paid.length).toBeGreaterThanOrEqual(1);
  expect(refused.length).toBeGreaterThanOrEqual(1);
  for (const r of refused) {
    expect(r.status).toBe(422);
    expect(r.body.code).toContain('R-FUND-7');
    expect(r.body.violations[0]).toMatchObject({
      rule: 'R-FUND-7',
      figures: { source: 'central' },
    });
    const f = r.body.violations[0].figures;
    expect(f.requestedFen).toBeGreaterThan(f.remainingFen);
    expect(r.body.detail).toMatch(/中央财政资金.*剩余 [\d,]+\.\d{2} 元/);
  }
  const { rows } = await t.rt.pool.query<{ net: string }>(
    `SELECT COALESCE(SUM(CASE WHEN kind = 'recovery' THEN -amount_fen ELSE amount_fen END), 0) AS net
       FROM ledger_entry WHERE program_code = $1 AND source = 'central' AND kind IN ('disbursement', 'parcel_subsidy', 'recovery')`,
    [CODE],
  );
  expect(Number(rows[0].net)).toBeLessThanOrEqual(810 * 1_000_000); // 810万 in fen
  expect(Number(rows[0].net)).toBeGreaterThan(0);
  // the program ledger agrees with the entries
  const ledger = ok(await t.call('GET', `${P}/ledger`, { token: t.tokens.finance }));
  const central = ledger.bySource.find((s: { source: string }) => s.source === 'central');
  expect(central.disbursed.fen).toBeLessThanOrEqual(810 * 1_000_000);
});

test('R-FUND-7: a refused release answers the same when sent again, and pays nothing', async () => {
  const before = await t.count('event');
  const again = await Promise.all([
    release(t, CODE, 4, 'T-central', 'race-4'),
    release(t, CODE, 5, 'T-central', 'race-5'),
  ]);
  for (const r of again) expect([200, 422]).toContain(r.status);
  const { rows } = await t.rt.pool.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM ledger_entry WHERE program_code = $1 AND kind IN ('disbursement', 'parcel_subsidy')",
    [CODE],
  );
  expect(rows[0].n).toBeLessThanOrEqual(2);
  expect(await t.count('event')).toBe(before);
});
