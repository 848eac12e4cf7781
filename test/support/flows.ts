// Drives the HTTP API through the steps the money tests need, moving the engine's clock as it goes (on
// either engine: support/server.ts).
import { loadTable } from './fixtures';
import type { EngineServer as TestServer } from './server';

export const ok = (r: { status: number; body: any }, status = 200) => {
  if (r.status !== status)
    throw new Error(`expected ${status}, got ${r.status}: ${JSON.stringify(r.body)}`);
  return r.body;
};
const day = 86_400_000;
export const later = (t: TestServer, days: number) =>
  new Date(t.clock.now().getTime() + days * day).toISOString();

/** The office imports a program's table (test/fixtures) over the API: 201 or it throws. */
export const importProgram = async (
  t: TestServer,
  name: Parameters<typeof loadTable>[0] = 'tengzhou-2019',
) =>
  ok(await t.call('POST', '/api/programs', { token: t.tokens.office, body: loadTable(name) }), 201);

/** Tengzhou imported, gates recorded, in 组织实施; three bidder organisations exist. */
export async function tengzhouInImplementation(t: TestServer): Promise<void> {
  await t.at('2019-10-20T02:00:00.000Z');
  await importProgram(t);
  const o = t.tokens.office;
  for (const [gate, title] of [
    ['plan_filed', '实施方案'],
    ['leading_group_established', '领导小组'],
  ])
    ok(
      await t.call('POST', `/api/programs/tengzhou-2019/gates/${gate}`, {
        token: o,
        body: { document: { title } },
      }),
    );
  ok(
    await t.call('POST', '/api/programs/tengzhou-2019/advance', {
      token: o,
      body: { to: 'implement' },
    }),
  );
  if (!t.tokens.contractorC)
    await t.addUserAndLogin('contractorC', 'contractor', '鲁南快递有限公司');
}

export interface ContractPlan {
  milestones: { key: string; title: string; due: string; evidenceRequired?: string[] }[];
  tranches: { key: string; milestone: string; source: string; amount: string }[];
}

/** Tender → 3 bids → opening → scores → candidate → publicity → award → contract; the winner is `contractor1`'s organisation. */
export async function contract(
  t: TestServer,
  code: string,
  seq: number,
  plan: ContractPlan,
): Promise<void> {
  const sp = `/api/programs/${code}/subprojects/${seq}`;
  const post = (path: string, token: string, body: unknown = {}) =>
    t.call('POST', `${sp}${path}`, { token, body });
  ok(
    await post('/tender', t.tokens.office, {
      announcement: { title: `分项目${seq}招标公告` },
      bidDeadline: later(t, 21).slice(0, 10),
    }),
    201,
  );
  for (const token of [t.tokens.contractor, t.tokens.contractorB, t.tokens.contractorC])
    ok(await post('/bids', token, { price: '1000000', proposal: '方案' }), 201);
  await t.at(later(t, 22));
  ok(await post('/opening', t.tokens.office));
  ok(
    await post('/scores', t.tokens.evaluator, {
      scores: [
        { org: '滕州市邮政分公司', score: 95 },
        { org: '某物流有限公司', score: 90 },
        { org: '鲁南快递有限公司', score: 85 },
      ],
    }),
  );
  ok(await post('/candidate', t.tokens.office, { org: '滕州市邮政分公司' }));
  await t.at(later(t, 4));
  ok(await post('/award', t.tokens.office));
  ok(
    await post('/contract', t.tokens.office, { document: { title: '项目承办协议' }, ...plan }),
    201,
  );
}

/** Uploads a small file as the contractor and returns its SHA-256. */
export async function upload(
  t: TestServer,
  token: string,
  name: string,
  content: string,
  type = 'application/pdf',
): Promise<string> {
  const res = await fetch(`${t.base}/api/files`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': type,
      'x-file-name': encodeURIComponent(name),
    },
    body: Buffer.from(content),
  });
  const body = await res.json();
  if (res.status !== 201) throw new Error(`upload ${name}: ${res.status} ${JSON.stringify(body)}`);
  return body.sha256;
}

/** The contractor submits the milestone at `m` (its API path): 201 or it throws. */
export const submitMilestone = async (t: TestServer, m: string, body: Record<string, unknown>) =>
  ok(await t.call('POST', `${m}/submission`, { token: t.tokens.contractor, body }), 201);
/** The evaluator's pre-evaluation of the milestone at `m`: 200 or it throws. */
export const preEvaluate = async (
  t: TestServer,
  m: string,
  body: { opinion: string; recommendation: 'accept' | 'reject'; findings?: string[] },
) => ok(await t.call('POST', `${m}/pre-evaluation`, { token: t.tokens.evaluator, body }));

/** Submit → pre-evaluate → accept → publicity ends (clock moved, timers run). */
export async function acceptMilestone(
  t: TestServer,
  code: string,
  seq: number,
  key: string,
  submission: Record<string, unknown>,
): Promise<void> {
  const m = `/api/programs/${code}/subprojects/${seq}/milestones/${key}`;
  await submitMilestone(t, m, submission);
  await preEvaluate(t, m, { opinion: '资料齐全，建议通过', recommendation: 'accept' });
  ok(
    await t.call('POST', `${m}/decision`, { token: t.tokens.office, body: { decision: 'accept' } }),
  );
  await t.at(later(t, 8));
  await t.runDue();
}

export const release = (
  t: TestServer,
  code: string,
  seq: number,
  tranche: string,
  key: string,
  body: Record<string, unknown> = {},
) =>
  t.call('POST', `/api/programs/${code}/subprojects/${seq}/tranches/${tranche}/release`, {
    token: t.tokens.finance,
    body,
    headers: { 'idempotency-key': key },
  });

/** Tengzhou in 组织实施 with money moved (issue 17's exports): subproject 3 contracted, both milestones
 * accepted, paid 150.000001 central (T1) and 160 local (T3) 万元, not T2; subproject 4 paid 200 central for M1, then
 * terminated when M2's rectification deadline passed, clawed back and 120.5 recovered. */
export async function tengzhouWithMoney(t: TestServer): Promise<void> {
  await tengzhouInImplementation(t);
  await contract(t, 'tengzhou-2019', 3, {
    milestones: [
      { key: 'M1', title: '县级物流仓储配送中心', due: '2020-06-30' },
      { key: 'M2', title: '村级网点48小时配送', due: '2020-12-31' },
    ],
    tranches: [
      { key: 'T1', milestone: 'M1', source: 'central', amount: '150.000001' },
      { key: 'T2', milestone: 'M2', source: 'central', amount: '229.999999' },
      { key: 'T3', milestone: 'M2', source: 'local', amount: '160' },
    ],
  });
  await acceptMilestone(t, 'tengzhou-2019', 3, 'M1', { deliverable: '配送中心投入使用' });
  ok(await release(t, 'tengzhou-2019', 3, 'T1', 'tz3-T1'), 201);
  await acceptMilestone(t, 'tengzhou-2019', 3, 'M2', { deliverable: '配送时效达标' });
  ok(await release(t, 'tengzhou-2019', 3, 'T3', 'tz3-T3'), 201);
  await contract(t, 'tengzhou-2019', 4, {
    milestones: [
      { key: 'M1', title: '区域公共品牌', due: '2020-06-30' },
      { key: 'M2', title: '溯源系统', due: '2020-12-31' },
    ],
    tranches: [
      { key: 'T1', milestone: 'M1', source: 'central', amount: '200' },
      { key: 'T2', milestone: 'M2', source: 'central', amount: '279' },
      { key: 'T3', milestone: 'M2', source: 'local', amount: '120' },
    ],
  });
  await acceptMilestone(t, 'tengzhou-2019', 4, 'M1', { deliverable: '品牌发布' });
  ok(await release(t, 'tengzhou-2019', 4, 'T1', 'tz4-T1'), 201);
  const m = '/api/programs/tengzhou-2019/subprojects/4/milestones/M2';
  await submitMilestone(t, m, { deliverable: '溯源系统上线' });
  await preEvaluate(t, m, { opinion: '未实现一品一码', recommendation: 'reject' });
  ok(
    await t.call('POST', `${m}/decision`, {
      token: t.tokens.office,
      body: {
        decision: 'reject',
        defects: ['未实现“一品一码”'],
        rectificationDeadline: later(t, 15).slice(0, 10),
      },
    }),
  );
  await t.at(later(t, 16));
  await t.runDue();
  ok(
    await t.call('POST', '/api/programs/tengzhou-2019/subprojects/4/recoveries', {
      token: t.tokens.finance,
      body: { source: 'central', amount: '120.5', reference: '收款凭证 2020-001' },
      headers: { 'idempotency-key': 'tz4-recovery-1' },
    }),
    201,
  );
}
