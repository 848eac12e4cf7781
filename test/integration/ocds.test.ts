// OCDS 1.1 (issue 17): the release and record packages of a program with subprojects in every state
// (planned, tendering with sealed bids, contracted, paid, terminated with a clawback) validate against
// the official 1.1.5 schemas (vendor/ocds-1.1.5, JSON Schema draft-04) and use the codelists' codes;
// sealed bids are not exported before their opening.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv-draft-04';
import { Notifier } from '../../activities/notify/dispatch';
import addFormats from 'ajv-formats';
import { ok, later, tengzhouWithMoney, contract } from '../support/flows';
import { startTestServer, type TestServer } from '../support/server';

jest.setTimeout(90_000);
const VENDOR = path.join(__dirname, '..', '..', 'vendor', 'ocds-1.1.5');
const schema = (f: string) => JSON.parse(readFileSync(path.join(VENDOR, f), 'utf8')) as object;
const codes = (list: string) => {
  const [head, ...rows] = readFileSync(path.join(VENDOR, 'codelists', `${list}.csv`), 'utf8')
    .trim()
    .split('\n');
  const col = head.split(',').indexOf('Code');
  // the code is a plain word; the descriptions after it may hold quoted commas
  return new Set(rows.map((r) => r.split(',')[col]));
};
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(schema('release-schema.json'));
ajv.addSchema(schema('versioned-release-validation-schema.json'));
const validReleasePackage = ajv.compile(schema('release-package-schema.json'));
const validRecordPackage = ajv.compile(schema('record-package-schema.json'));

let t: TestServer;
let releases: any;
let records: any;
beforeAll(async () => {
  t = await startTestServer();
  await tengzhouWithMoney(t); // 3 paid, 4 terminated with a clawback and a partial recovery
  await contract(t, 'tengzhou-2019', 2, {
    milestones: [{ key: 'M1', title: '站点建成', due: '2020-12-31' }],
    tranches: [
      { key: 'T1', milestone: 'M1', source: 'central', amount: '141' },
      { key: 'T2', milestone: 'M1', source: 'local', amount: '120' },
    ],
  });
  // 1 is tendering: a bid is in, sealed until the opening
  const sp = '/api/programs/tengzhou-2019/subprojects/1';
  ok(
    await t.call('POST', `${sp}/tender`, {
      token: t.tokens.office,
      body: {
        announcement: { title: '公共服务中心招标公告' },
        bidDeadline: later(t, 21).slice(0, 10),
      },
    }),
    201,
  );
  ok(
    await t.call('POST', `${sp}/bids`, {
      token: t.tokens.contractorB,
      body: { price: '1234567.89', proposal: 'SEALED-PROPOSAL-TEXT' },
    }),
    201,
  );
  // the outbox issues the notices with their 文号 (no PDF, no mail)
  await new Notifier({
    pool: t.rt.pool,
    mailer: { describe: 'none', send: () => Promise.resolve(), close: () => {} },
    now: () => t.clock.now(),
    font: null,
    from: 'noreply@shifan.local',
  }).runOnce();
  const get = async (kind: string) => {
    const r = await t.call('GET', `/api/public/programs/tengzhou-2019/ocds/${kind}`, {
      token: null,
    });
    expect(r.status).toBe(200);
    return r.body;
  };
  [releases, records] = [await get('releases'), await get('records')];
});
afterAll(async () => {
  await t?.close();
});

const current = (seq: number) =>
  releases.releases.filter((r: any) => r.ocid === `ocds-shifan-tengzhou-2019-${seq}`).pop();

test('both packages validate against the official OCDS 1.1.5 schemas', () => {
  expect(validReleasePackage(releases)).toBe(true);
  expect(validReleasePackage.errors ?? null).toBeNull();
  expect(validRecordPackage(records)).toBe(true);
  expect(validRecordPackage.errors ?? null).toBeNull();
  // a broken package is refused by the same validator (the check is not vacuous)
  const broken = structuredClone(releases);
  delete broken.releases[0].date;
  broken.releases[1].tag = ['finished'];
  expect(validReleasePackage(broken)).toBe(false);
  expect(validReleasePackage.errors!.map((e) => e.instancePath)).toEqual(
    expect.arrayContaining(['/releases/0', '/releases/1/tag/0']),
  );
});

test('every code is from its codelist', () => {
  const all = releases.releases;
  const seen = (list: string, values: unknown[]) => {
    const allowed = codes(list);
    for (const v of values.filter((x) => x !== undefined))
      expect([list, v, allowed.has(v as string)]).toEqual([list, v, true]);
  };
  seen(
    'releaseTag',
    all.flatMap((r: any) => r.tag),
  );
  seen(
    'initiationType',
    all.map((r: any) => r.initiationType),
  );
  seen(
    'tenderStatus',
    all.map((r: any) => r.tender.status),
  );
  seen(
    'method',
    all.map((r: any) => r.tender.procurementMethod),
  );
  seen(
    'procurementCategory',
    all.map((r: any) => r.tender.mainProcurementCategory),
  );
  seen(
    'partyRole',
    all.flatMap((r: any) => r.parties.flatMap((p: any) => p.roles)),
  );
  seen(
    'awardStatus',
    all.flatMap((r: any) => (r.awards ?? []).map((a: any) => a.status)),
  );
  const contracts = all.flatMap((r: any) => r.contracts ?? []);
  seen(
    'contractStatus',
    contracts.map((c: any) => c.status),
  );
  const milestones = contracts.flatMap((c: any) => c.implementation.milestones);
  seen(
    'milestoneStatus',
    milestones.map((m: any) => m.status),
  );
  seen(
    'milestoneType',
    milestones.map((m: any) => m.type),
  );
  const docs = JSON.stringify(releases).match(/"documentType":"[^"]+"/g) ?? [];
  expect(docs.length).toBeGreaterThan(3);
  seen(
    'documentType',
    docs.map((d) => d.slice('"documentType":"'.length, -1)),
  );
  seen(
    'currency',
    [...JSON.stringify(releases).matchAll(/"currency":"([^"]+)"/g)].map((m) => m[1]),
  );
});

test('each subproject is a contracting process in its state, the budget broken down by source', () => {
  expect(new Set(releases.releases.map((r: any) => r.ocid)).size).toBe(7);
  expect(current(7).tag).toEqual(['planning']);
  expect(current(1).tag).toEqual(['tender']);
  expect(current(2).tag).toEqual(['tender', 'award', 'contract']);
  expect(current(3).tag).toEqual(['tender', 'award', 'contract', 'implementation']);
  expect(current(4).tag).toEqual([
    'tender',
    'award',
    'contract',
    'implementation',
    'contractTermination',
  ]);
  expect(current(4).contracts[0].status).toBe('terminated');
  const b = current(3).planning.budget;
  expect(b.amount).toEqual({ amount: 5_400_000, currency: 'CNY' });
  expect(b.budgetBreakdown.map((x: any) => [x.id, x.amount.amount, x.sourceParty.name])).toEqual([
    ['central', 3_800_000, '中央财政资金（财政部、商务部）'],
    ['local', 1_600_000, '滕州市地方财政资金'],
  ]);
});

test('transactions are tied to milestones, to the fen; recoveries flow back', () => {
  const c = current(3).contracts[0];
  expect(c.implementation.milestones.map((m: any) => [m.id, m.status])).toEqual([
    ['M1', 'met'],
    ['M2', 'met'],
  ]);
  expect(
    c.implementation.transactions.map((x: any) => [
      x.value.amount,
      x.relatedImplementationMilestone.id,
    ]),
  ).toEqual([
    [1_500_000.01, 'M1'],
    [1_600_000, 'M2'],
  ]);
  const ids = new Set(c.implementation.milestones.map((m: any) => m.id));
  for (const x of c.implementation.transactions)
    expect(ids.has(x.relatedImplementationMilestone.id)).toBe(true);
  const t4 = current(4).contracts[0].implementation;
  expect(t4.milestones.map((m: any) => m.status)).toEqual(['met', 'notMet']);
  const back = t4.transactions.find((x: any) => x.payee.id === 'tengzhou-2019-finance');
  expect(back.value.amount).toBe(1_205_000);
  expect(back.payer.name).toBe('滕州市邮政分公司');
});

test('sealed bids stay sealed; notices carry their 文号', () => {
  const tender = current(1).tender;
  expect(tender.tenderers).toBeUndefined();
  expect(tender.numberOfTenderers).toBeUndefined();
  const text = JSON.stringify(releases);
  expect(text).not.toContain('SEALED-PROPOSAL-TEXT');
  expect(text).not.toContain('1234567.89');
  // after an opening the tenderers are public: subproject 3's three bidders
  expect(current(3).tender.numberOfTenderers).toBe(3);
  expect(text).toMatch(/"id":"滕商务〔20\d\d〕\d+号"/);
});

test('records: one per process, with its releases and a compiled release; unknown program 404', async () => {
  expect(records.records).toHaveLength(7);
  const r3 = records.records.find((r: any) => r.ocid.endsWith('-3'));
  expect(r3.releases.map((r: any) => r.tag[0])).toEqual(['planning', 'tender']);
  expect(r3.compiledRelease.tag).toEqual(['compiled']);
  expect(r3.compiledRelease.contracts[0].implementation.transactions).toHaveLength(2);
  const r = await t.call('GET', '/api/public/programs/nowhere-1/ocds/releases', { token: null });
  expect(r.status).toBe(404);
});
