// Issue acceptance for tendering, through the HTTP API on real PostgreSQL with the engine's clock
// moved by hand: a full tender for Tengzhou subproject 3 (物流配送体系), sealed bids, 流标 and
// re-tender, an objection blocking the award, tranches that do not add up, R-TD-3, and a deadline that
// fires exactly once across a restart. On both engines (jest projects `embedded` and `temporal`): on
// Temporal the clock sleeps the time-skipping server and the deadlines fire as the workflows' timers.
import { verifyAudit } from '../../engine/audit';
import { createRuntime } from '../../engine/runtime';
import { loadTable } from '../support/fixtures';
import { engineDescribe, startEngineServer, type EngineServer } from '../support/server';

let t: EngineServer;
const describe = engineDescribe(); // skipped, saying why, on Temporal without its server
const tokC = () => t.tokens.contractorC; // a third bidder organisation
const P = '/api/programs/tengzhou-2019';
const SP3 = `${P}/subprojects/3`;
const ANNOUNCE = '2019-11-05T02:00:00.000Z';

beforeAll(async () => {
  // no workflow cache: a worker restart below (see startWorker)
  t = await startEngineServer({ now: '2019-09-20T02:00:00.000Z', workerCache: false });
  await t.addUserAndLogin('contractorC', 'contractor', '鲁南快递有限公司');
  const o = t.tokens.office;
  expect(
    (await t.call('POST', '/api/programs', { token: o, body: loadTable('tengzhou-2019') })).status,
  ).toBe(201);
  expect(
    (
      await t.call('POST', `${P}/gates/plan_filed`, {
        token: o,
        body: { document: { title: '实施方案' } },
      })
    ).status,
  ).toBe(200);
  expect(
    (
      await t.call('POST', `${P}/gates/leading_group_established`, {
        token: o,
        body: { document: { title: '领导小组' } },
      })
    ).status,
  ).toBe(200);
  await t.at(ANNOUNCE);
});
afterAll(async () => {
  await t?.close();
});

const post = (path: string, token: string, body: unknown = {}) =>
  t.call('POST', path, { token, body });
const tenderBody = (deadline: string) => ({
  announcement: {
    title: '滕州市市、镇、村三级物流配送体系建设项目招标公告',
    number: 'TZSW-2019-03',
    qualifications: ['独立法人', '快递业务经营许可证'],
    documents: [{ title: '招标文件' }],
  },
  bidDeadline: deadline,
});

describe('a full tender for subproject 3 (物流配送体系)', () => {
  test('tendering before the implementation phase is refused', async () => {
    const r = await post(`${SP3}/tender`, t.tokens.office, tenderBody('2019-11-26T09:30:00+08:00'));
    expect(r.status).toBe(409);
    expect(r.body.code).toBe('R-PH-1');
    expect((await post(`${P}/advance`, t.tokens.office, { to: 'implement' })).status).toBe(200);
  });

  test('a bidding period under 20 days is refused (422 R-TD-1); 21 days is announced', async () => {
    let r = await post(`${SP3}/tender`, t.tokens.office, tenderBody('2019-11-20'));
    expect(r.status).toBe(422);
    expect(r.body.rules).toEqual(['R-TD-1']);
    r = await post(`${SP3}/tender`, t.tokens.office, tenderBody('2019-11-26T09:30:00+08:00'));
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      stage: 'bidding',
      tenders: [{ round: 1, bidDeadline: '2019-11-26T01:30:00.000Z', sealed: true, bids: null }],
    });
    const p = await t.call('GET', P, { token: t.tokens.office });
    expect(p.body.subprojects[2]).toMatchObject({ seq: 3, status: 'tendering', stage: 'bidding' });
  });

  test('three organisations bid; one replaces its bid', async () => {
    expect(
      (
        await post(`${SP3}/bids`, t.tokens.contractor, {
          price: '5,300,000.00',
          proposal: '邮政方案',
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await post(`${SP3}/bids`, t.tokens.contractorB, {
          price: '5200000',
          proposal: '物流方案 v1',
        })
      ).status,
    ).toBe(201);
    const r = await post(`${SP3}/bids`, t.tokens.contractorB, {
      price: '5150000.50',
      proposal: '物流方案 v2',
    });
    expect(r.status).toBe(201);
    expect(r.body.tenders[0].myBid).toMatchObject({
      org: '某物流有限公司',
      price: { fen: 515_000_050 },
      proposal: '物流方案 v2',
    });
    expect(
      (await post(`${SP3}/bids`, tokC(), { price: '5400000', proposal: '快递方案' })).status,
    ).toBe(201);
    const over = await post(`${SP3}/bids`, tokC(), { price: '5400000.01', proposal: '超预算' });
    expect(over.status).toBe(422);
  });

  test('bids are sealed before opening: the office, the evaluator and other bidders cannot read them', async () => {
    for (const who of ['office', 'evaluator', 'supervisor', 'finance'] as const) {
      const r = await t.call('GET', `${SP3}/bids`, { token: t.tokens[who] });
      expect(r.status).toBe(403);
      expect(r.body.code).toBe('R-TD-1');
    }
    const mine = await t.call('GET', `${SP3}/bids`, { token: t.tokens.contractorB });
    expect(mine.status).toBe(200);
    expect(mine.body.bids.map((b: { org: string }) => b.org)).toEqual(['某物流有限公司']);
    const view = await t.call('GET', SP3, { token: t.tokens.office });
    expect(view.body.tenders[0].bids).toBeNull();
    expect(JSON.stringify(view.body)).not.toContain('邮政方案');
    const asB = await t.call('GET', SP3, { token: t.tokens.contractorB });
    expect(JSON.stringify(asB.body)).not.toContain('邮政方案');
    expect(asB.body.tenders[0].openingRecord).toBeNull();
    const events = await t.call('GET', `${SP3}/events`, { token: t.tokens.supervisor });
    expect(JSON.stringify(events.body)).not.toContain('邮政方案');
    const bidEvents = events.body.items.filter((e: { type: string }) => e.type === 'BidSubmitted');
    expect(bidEvents.every((e: { data: { sealed: boolean } }) => e.data.sealed)).toBe(true);
    expect(bidEvents.map((e: { actor: string }) => e.actor)).toEqual([
      '（密封）',
      '（密封）',
      '（密封）',
      '（密封）',
    ]); // not even who bid
  });

  test('opening before the deadline is refused; the deadline fires once; opening after it', async () => {
    expect((await post(`${SP3}/opening`, t.tokens.office)).status).toBe(409);
    await t.at('2019-11-26T01:30:00.000Z');
    expect((await post(`${SP3}/bids`, tokC(), { price: '1', proposal: '迟到' })).status).toBe(409);
    const first = await t.runDue();
    const second = await t.runDue();
    expect(first.fired).toBe(1);
    expect(second).toMatchObject({ due: 0, fired: 0 });
    const r = await post(`${SP3}/opening`, t.tokens.office);
    expect(r.status).toBe(200);
    expect(r.body.stage).toBe('opened');
    expect(r.body.tenders[0].opening.validOrgs).toEqual([
      '滕州市邮政分公司',
      '某物流有限公司',
      '鲁南快递有限公司',
    ]);
    const bids = await t.call('GET', `${SP3}/bids`, { token: t.tokens.office });
    expect(bids.body.bids.map((b: { proposal: string }) => b.proposal)).toEqual([
      '邮政方案',
      '物流方案 v2',
      '快递方案',
    ]);
  });

  test('the evaluator scores; the office proposes the candidate; publicity starts', async () => {
    const scores = {
      scores: [
        { org: '滕州市邮政分公司', score: 92.5 },
        { org: '某物流有限公司', score: 88 },
        { org: '鲁南快递有限公司', score: 80.25 },
      ],
    };
    expect((await post(`${SP3}/scores`, t.tokens.evaluator, scores)).status).toBe(200);
    const r = await post(`${SP3}/candidate`, t.tokens.office, { org: '滕州市邮政分公司' });
    expect(r.status).toBe(200);
    expect(r.body.tenders[0].candidate).toMatchObject({
      org: '滕州市邮政分公司',
      publicityEnds: '2019-11-29T15:59:59.999Z',
    });
  });

  test('an objection during publicity blocks the award until the office resolves it', async () => {
    expect(
      (
        await post(`${SP3}/objections`, t.tokens.contractorB, {
          text: '第一候选人物流网点数量与投标文件不符',
        })
      ).status,
    ).toBe(201);
    await t.at('2019-11-30T01:00:00.000Z');
    await t.runDue(); // publicity end fires
    let r = await post(`${SP3}/award`, t.tokens.office);
    expect(r.status).toBe(409);
    expect(r.body.detail).toContain('O1');
    r = await post(`${SP3}/objections/O1/resolve`, t.tokens.office, {
      decision: 'dismissed',
      reason: '经现场核查，网点数量属实',
    });
    expect(r.status).toBe(200);
    r = await post(`${SP3}/award`, t.tokens.office);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      stage: 'awarded',
      award: { org: '滕州市邮政分公司', designated: false },
    });
  });

  const milestones = [
    {
      key: 'M1',
      title: '市级物流仓储配送中心建成',
      deliverables: ['仓储中心'],
      due: '2020-06-30',
      evidenceRequired: ['竣工验收报告'],
    },
    {
      key: 'M2',
      title: '三级配送体系运行',
      deliverables: ['48小时配送'],
      due: '2020-12-31',
      evidenceRequired: ['配送时效统计'],
    },
  ];
  test('tranches summing to 379.99万 central are refused, naming the 0.01万 difference', async () => {
    const r = await post(`${SP3}/contract`, t.tokens.office, {
      document: { title: '项目承办协议' },
      milestones,
      tranches: [
        { key: 'T1', milestone: 'M1', source: 'central', amount: '190' },
        { key: 'T2', milestone: 'M2', source: 'central', amount: '189.99' },
        { key: 'T3', milestone: 'M2', source: 'local', amount: '160' },
      ],
    });
    expect(r.status).toBe(422);
    expect(r.body.rules).toEqual(['R-TD-2']);
    expect(r.body.detail).toContain('0.01万元');
    expect(r.body.violations[0].figures).toMatchObject({
      source: 'central',
      difference: '100.00',
      differenceWan: '0.01万元',
    });
  });

  test('the contract: tranches summing to 380万 central and 160万 local', async () => {
    const r = await post(`${SP3}/contract`, t.tokens.office, {
      number: 'TZXY-2019-03',
      document: { title: '项目承办协议', number: 'TZXY-2019-03' },
      milestones,
      tranches: [
        { key: 'T1', milestone: 'M1', source: 'central', amount: '190' },
        { key: 'T2', milestone: 'M2', source: 'central', amount: '190' },
        { key: 'T3', milestone: 'M2', source: 'local', amount: '160' },
      ],
    });
    expect(r.status).toBe(201);
    expect(r.body.stage).toBe('contracted');
    expect(r.body.contract.tranches.map((x: { amount: { wan: string } }) => x.amount.wan)).toEqual([
      '190',
      '190',
      '160',
    ]);
    const p = await t.call('GET', P, { token: t.tokens.supervisor });
    expect(p.body.subprojects[2]).toMatchObject({
      status: 'contracted',
      contractorOrg: '滕州市邮政分公司',
    });
  });

  test('events and the audit chain record every step with its actor', async () => {
    const r = await t.call('GET', `${SP3}/events`, { token: t.tokens.supervisor });
    expect(
      r.body.items.map((e: { type: string; actor: string }) => `${e.type}:${e.actor}`),
    ).toEqual([
      'SubprojectRegistered:office1',
      'TenderOpened:office1',
      'BidSubmitted:contractor1',
      'BidSubmitted:contractorB',
      'BidSubmitted:contractorB',
      'BidSubmitted:contractorC',
      'BiddingClosed:system',
      'BidsOpened:office1',
      'BidsScored:evaluator1',
      'CandidateProposed:office1',
      'ObjectionRaised:contractorB',
      'CandidatePublicityEnded:system',
      'ObjectionResolved:office1',
      'ContractorAwarded:office1',
      'ContractSigned:office1',
    ]);
    expect(r.body.items.find((e: { type: string }) => e.type === 'ObjectionResolved').reason).toBe(
      '经现场核查，网点数量属实',
    );
    expect((await verifyAudit(t.rt.pool)).ok).toBe(true);
  });

  test('R-TD-3: after award, a contractor of another organisation cannot see or act on it', async () => {
    for (const token of [t.tokens.contractorB, tokC()]) {
      const r = await t.call('GET', SP3, { token });
      expect(r.status).toBe(403);
      expect(r.body.code).toBe('R-TD-3');
      expect((await post(`${SP3}/objections`, token, { text: '再提异议' })).status).toBe(403);
      expect((await t.call('GET', `${SP3}/bids`, { token })).status).toBe(403);
    }
    expect((await t.call('GET', SP3, { token: t.tokens.contractor })).status).toBe(200);
  });
});

describe('流标 and re-tender (subproject 4)', () => {
  const SP4 = `${P}/subprojects/4`;
  test('2 valid bids at opening → 流标; a re-tender then succeeds', async () => {
    const start = t.clock.now().toISOString();
    expect((await post(`${SP4}/tender`, t.tokens.office, tenderBody('2019-12-25'))).status).toBe(
      201,
    );
    expect(
      (await post(`${SP4}/bids`, t.tokens.contractor, { price: '5000000', proposal: 'A' })).status,
    ).toBe(201);
    expect(
      (await post(`${SP4}/bids`, t.tokens.contractorB, { price: '5100000', proposal: 'B' })).status,
    ).toBe(201);
    await t.at('2019-12-26T00:00:00Z');
    let r = await post(`${SP4}/opening`, t.tokens.office);
    expect(r.status).toBe(200);
    expect(r.body.stage).toBe('failed');
    expect(r.body.tenders[0].failed.reason).toContain('有效投标 2 家，少于 3 家，流标');
    r = await post(`${SP4}/tender`, t.tokens.office, tenderBody('2020-01-20'));
    expect(r.status).toBe(201);
    for (const token of [t.tokens.contractor, t.tokens.contractorB, tokC()])
      expect((await post(`${SP4}/bids`, token, { price: '5000000', proposal: 'R2' })).status).toBe(
        201,
      );
    await t.at('2020-01-21T00:00:00Z');
    r = await post(`${SP4}/opening`, t.tokens.office);
    expect(r.body).toMatchObject({
      stage: 'opened',
      tenders: [
        { round: 1 },
        { round: 2, opening: { validOrgs: expect.arrayContaining(['鲁南快递有限公司']) } },
      ],
    });
    expect(start).toBeDefined();
  });
});

describe('designation (subproject 7, direct procurement)', () => {
  test('the office designates with a reason, then the contract follows', async () => {
    const SP7 = `${P}/subprojects/7`;
    expect((await post(`${SP7}/tender`, t.tokens.office, tenderBody('2020-03-01'))).status).toBe(
      409,
    );
    expect(
      (await post(`${SP7}/designation`, t.tokens.office, { org: '不存在的机构', reason: 'x' }))
        .status,
    ).toBe(400);
    let r = await post(`${SP7}/designation`, t.tokens.office, {
      org: '某会计师事务所',
      reason: '资金安排表确定为直接委托第三方机构',
    });
    expect(r.status).toBe(201);
    expect(r.body.award).toMatchObject({ org: '某会计师事务所', designated: true });
    r = await post(`${SP7}/contract`, t.tokens.office, {
      document: { title: '委托协议' },
      milestones: [{ key: 'M1', title: '中期验收预评', due: '2020-12-31' }],
      tranches: [{ key: 'T1', milestone: 'M1', source: 'local', amount: '100' }],
    });
    expect(r.status).toBe(201);
  });
});

describe('a deadline fires exactly once across a restart', () => {
  test('stop after scheduling, move the clock past the deadline, restart', async () => {
    const SP1 = `${P}/subprojects/1`;
    expect((await post(`${SP1}/tender`, t.tokens.office, tenderBody('2020-02-20'))).status).toBe(
      201,
    );
    if (t.engine === 'temporal') {
      // the worker that armed the timer goes away; two new ones poll the queue; the server sleeps past it
      await t.restartWorkers(2);
      await t.at('2020-02-21T00:00:00Z');
      expect((await t.runDue()).fired).toBe(1);
      expect((await t.runDue()).fired).toBe(0);
      const { rows } = await t.rt.pool.query(
        "SELECT count(*)::int AS n FROM event WHERE stream_id = 'subproject-tengzhou-2019-1' AND type = 'BiddingClosed'",
      );
      expect(rows[0].n).toBe(1);
      return;
    }
    const dbUrl = t.db.url;
    await t.stopServer();
    t.clock.set('2020-02-21T00:00:00Z');
    // two processes' worth of runtimes come up at once and both run their schedulers
    const a = createRuntime(dbUrl, { clock: t.clock });
    const b = createRuntime(dbUrl, { clock: t.clock });
    try {
      const [ra, rb] = await Promise.all([a.scheduler.runDue(), b.scheduler.runDue()]);
      expect(ra.fired + rb.fired).toBe(1);
      expect((await a.scheduler.runDue()).due).toBe(0);
      const { rows } = await a.pool.query(
        "SELECT count(*)::int AS n FROM event WHERE stream_id = 'subproject-tengzhou-2019-1' AND type = 'BiddingClosed'",
      );
      expect(rows[0].n).toBe(1);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
