// The whole timed lifecycle of one tendered subproject on the time-skipping Temporal server (a worker with
// the real workflows and activities on real PostgreSQL, the API's Temporal engine) and the same journey,
// from the same function, on the embedded engine: every deadline passes by moving the test clock, which
// on Temporal sleeps the server so that the workflow's own timer fires (bidding deadline, candidate
// publicity, acceptance publicity, rectification deadline). Then the two databases are compared: event
// streams, ledger, notices and the effects in the outbox identical apart from ids and times, both hash
// chains intact, and every refusal answered with the same status, rule ids, figures and texts.
import { verifyAudit } from '../../engine/audit';
import type { TemporalRuntime } from '../../engine/runtime';
import {
  later,
  ok,
  preEvaluate,
  submitMilestone,
  tengzhouInImplementation,
} from '../support/flows';
import { startEngineServer, type EngineServer } from '../support/server';
import { temporalSkipReason } from '../support/temporal';

jest.setTimeout(180_000);
const skip = temporalSkipReason('time-skipping', 'the timed lifecycle on the time-skipping server');
if (skip) console.log(skip);
const describeTemporal = skip ? describe.skip : describe;

const CODE = 'tengzhou-2019';
const P = `/api/programs/${CODE}`;
const SP = `${P}/subprojects/4`;
const STREAM = `subproject-${CODE}-4`;
const HOUR = 3_600_000;

interface Refusal {
  step: string;
  status: number;
  body: unknown;
}

/** The subproject's next deadline (stream.wake_at, written with every append on both engines). */
async function wakeAt(t: EngineServer): Promise<string> {
  const { rows } = await t.rt.pool.query<{ wake_at: Date | null }>(
    'SELECT wake_at FROM stream WHERE id = $1',
    [STREAM],
  );
  if (!rows[0]?.wake_at) throw new Error(`${STREAM} has no deadline armed`);
  return rows[0].wake_at.toISOString();
}

/** Moves the clock exactly to the subproject's next deadline; its timer fires once; then an hour on. */
async function passDeadline(t: EngineServer, fired: string[]) {
  const due = await wakeAt(t);
  await t.at(due);
  expect((await t.runDue()).fired).toBe(1);
  expect((await t.runDue()).fired).toBe(0);
  fired.push(due);
  await t.advance(HOUR); // off the day's boundary before people act again
}

/** The journey; returns the refusals met on the way (status and problem body without its request id). */
async function journey(t: EngineServer, deadlines: string[]): Promise<Refusal[]> {
  const refusals: Refusal[] = [];
  const refused = (
    step: string,
    r: { status: number; body: Record<string, unknown> },
    status: number,
  ) => {
    expect({ step, status: r.status }).toEqual({ step, status });
    const { instance: _i, requestId: _r, ...body } = r.body;
    refusals.push({ step, status: r.status, body });
  };
  const post = (
    path: string,
    token: string,
    body: unknown = {},
    headers?: Record<string, string>,
  ) => t.call('POST', `${SP}${path}`, { token, body, headers });

  await tengzhouInImplementation(t);
  ok(
    await post('/tender', t.tokens.office, {
      announcement: { title: '农产品上行体系建设项目招标公告' },
      bidDeadline: later(t, 21).slice(0, 10),
    }),
    201,
  );
  for (const token of [t.tokens.contractor, t.tokens.contractorB, t.tokens.contractorC])
    ok(await post('/bids', token, { price: '1000000', proposal: '建设方案' }), 201);
  refused('opening before the deadline', await post('/opening', t.tokens.office), 409);

  await passDeadline(t, deadlines); // the bidding deadline: BiddingClosed by the timer
  refused(
    'a bid after the deadline',
    await post('/bids', t.tokens.contractor, { price: '900000', proposal: '迟交' }),
    409,
  );
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
  refused('award during the candidate publicity', await post('/award', t.tokens.office), 409);

  await passDeadline(t, deadlines); // the candidate publicity ends
  ok(await post('/award', t.tokens.office));
  ok(
    await post('/contract', t.tokens.office, {
      document: { title: '项目承办协议' },
      milestones: [
        { key: 'M1', title: '区域公共品牌', due: '2020-06-30' },
        { key: 'M2', title: '溯源系统', due: '2020-12-31' },
      ],
      tranches: [
        { key: 'T1', milestone: 'M1', source: 'central', amount: '200' },
        { key: 'T2', milestone: 'M2', source: 'central', amount: '279' },
        { key: 'T3', milestone: 'M2', source: 'local', amount: '120' },
      ],
    }),
    201,
  );

  const m1 = `${SP}/milestones/M1`;
  await submitMilestone(t, m1, { deliverable: '品牌发布' });
  refused(
    'a decision before the pre-evaluation',
    await t.call('POST', `${m1}/decision`, {
      token: t.tokens.office,
      body: { decision: 'accept' },
    }),
    409,
  );
  await preEvaluate(t, m1, { opinion: '品牌已发布', recommendation: 'accept' });
  ok(
    await t.call('POST', `${m1}/decision`, {
      token: t.tokens.office,
      body: { decision: 'accept' },
    }),
  );
  const release = (tranche: string, key: string, body: unknown = {}) =>
    post(`/tranches/${tranche}/release`, t.tokens.finance, body, { 'idempotency-key': key });
  refused('a release during the publicity', await release('T1', 'tz4-T1-early'), 409);

  await passDeadline(t, deadlines); // the acceptance publicity ends: only a timer can do that
  refused(
    'a release above the tranche',
    await release('T1', 'tz4-T1-over', { amount: '200.01' }),
    422,
  );
  const first = await release('T1', 'tz4-T1');
  expect(first.status).toBe(201);
  const again = await release('T1', 'tz4-T1');
  expect(again.status).toBe(200);
  expect(again.body.disbursement).toEqual(first.body.disbursement);
  refused('the same tranche with another key', await release('T1', 'tz4-T1-second'), 409);

  const m2 = `${SP}/milestones/M2`;
  await submitMilestone(t, m2, { deliverable: '溯源系统上线' });
  await preEvaluate(t, m2, {
    opinion: '未实现一品一码',
    findings: ['无一品一码'],
    recommendation: 'reject',
  });
  ok(
    await t.call('POST', `${m2}/decision`, {
      token: t.tokens.office,
      body: {
        decision: 'reject',
        defects: ['未实现“一品一码”'],
        rectificationDeadline: later(t, 15).slice(0, 10),
      },
    }),
  );

  await passDeadline(t, deadlines); // the rectification deadline is missed: termination, naming, clawback
  refused(
    'a resubmission after the deadline',
    await t.call('POST', `${m2}/submission`, {
      token: t.tokens.contractor,
      body: { deliverable: '迟交' },
    }),
    409,
  );
  refused('a release on a terminated subproject', await release('T2', 'tz4-T2'), 409);
  const s = ok(await t.call('GET', SP, { token: t.tokens.office }));
  expect(s.terminated.reason).toContain('整改期限届满');
  expect(s.named.org).toBe('滕州市邮政分公司');
  expect(s.clawback.demanded).toMatchObject({ central: { wan: '200' }, local: { wan: '0' } });

  const recover = (amount: string, key: string) =>
    post(
      '/recoveries',
      t.tokens.finance,
      { source: 'central', amount, reference: key },
      {
        'idempotency-key': key,
      },
    );
  refused('a recovery above what is owed', await recover('200.01', 'rec-too-much'), 422);
  ok(await recover('120', 'rec-1'), 201);
  ok(await recover('120', 'rec-1'), 200); // the same key: recorded once
  ok(await recover('80', 'rec-2'), 201);
  const L = ok(await t.call('GET', `${SP}/ledger`, { token: t.tokens.finance }));
  expect(L.total).toMatchObject({
    disbursed: { wan: '200' },
    clawbackDemanded: { wan: '200' },
    recovered: { wan: '200' },
    outstanding: { wan: '0' },
  });
  expect(ok(await t.call('GET', SP, { token: t.tokens.office })).clawback.settledAt).not.toBeNull();
  return refusals;
}

// Times differ between the engines (the embedded clock stands still between moves, the server's runs):
// ISO instants and the dates and times printed in notices are masked; everything else must be equal.
const ISO = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})/g;
const CN = /\d{4}年\d{1,2}月\d{1,2}日(\s*\d{1,2}[:：]\d{2}(:\d{2})?)?|\d{1,2}:\d{2}(:\d{2})?/g;
const mask = (v: unknown): unknown => {
  if (v instanceof Date) return '<time>';
  if (typeof v === 'string') return v.replace(ISO, '<time>').replace(CN, '<time>');
  if (Array.isArray(v)) return v.map(mask);
  if (v && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mask(x)]));
  return v;
};

/** What the journey left in the database, in a stable order, without ids and times. */
async function record(t: EngineServer) {
  const q = async (sql: string) => mask((await t.rt.pool.query(sql)).rows);
  const mine = "(stream_id LIKE 'program-%' OR stream_id LIKE 'subproject-%')";
  return {
    events: await q(
      `SELECT stream_id, version, type, data, actor, role, command, reason FROM event WHERE ${mine} ORDER BY stream_id, version`,
    ),
    streams: await q(
      "SELECT id, type, version FROM stream WHERE type IN ('program', 'subproject') ORDER BY id",
    ),
    ledger: await q(
      'SELECT program_code, seq, stream_id, version, kind, source, amount_fen::text AS fen, tranche, idempotency_key, org FROM ledger_entry ORDER BY stream_id, version, kind, source',
    ),
    notices: await q(
      'SELECT program_code, seq, kind, title, body, org, stream_id, version FROM notice ORDER BY stream_id, version, kind',
    ),
    outbox: await q(
      `SELECT stream_id, version, kind, payload FROM outbox WHERE ${mine} ORDER BY stream_id, version, kind, payload::text`,
    ),
  };
}

describeTemporal('the timed lifecycle on both engines', () => {
  const runs: Record<'embedded' | 'temporal', EngineServer | undefined> = {
    embedded: undefined,
    temporal: undefined,
  };
  const refusals: Record<string, Refusal[]> = {};
  const deadlines: Record<string, string[]> = { embedded: [], temporal: [] };
  afterAll(async () => {
    for (const t of Object.values(runs)) await t?.close();
  });

  test.each(['embedded', 'temporal'] as const)('the journey on the %s engine', async (engine) => {
    const t = await startEngineServer({ engine, now: '2019-10-01T02:00:00.000Z' });
    runs[engine] = t;
    refusals[engine] = await journey(t, deadlines[engine]);
    expect(refusals[engine].map((r) => [r.status, (r.body as { rules?: string[] }).rules])).toEqual(
      [
        [409, ['R-TD-1']], // opening before the deadline
        [409, ['R-TD-1']], // a bid after it
        [409, ['R-TD-1']], // an award during the candidate publicity
        [409, ['R-AC-2']], // a decision before the pre-evaluation
        [409, ['R-FUND-7']], // a release during the acceptance publicity
        [422, ['R-FUND-7']], // above the tranche
        [409, ['R-FUND-7']], // the tranche again with another key
        [409, ['R-AC-5']], // a resubmission after the rectification deadline
        [409, ['R-AC-5']], // a release on the terminated subproject
        [422, ['R-FUND-8']], // a recovery above what is owed
      ],
    );
    expect((await verifyAudit(t.rt.pool)).ok).toBe(true);
  });

  test('on Temporal the deadlines fired as timers of the workflow, each at its deadline, each once', async () => {
    const t = runs.temporal!;
    const client = (t.rt as TemporalRuntime).engine.client;
    const history = await client.workflow.getHandle(STREAM).fetchHistory();
    const fired = (history.events ?? []).filter((e) => e.timerFiredEventAttributes).length;
    expect(fired).toBeGreaterThanOrEqual(4);
    const { rows } = await t.rt.pool.query<{ type: string; at: Date; actor: string }>(
      "SELECT type, at, actor FROM event WHERE stream_id = $1 AND command = 'Tick' ORDER BY version",
      [STREAM],
    );
    expect(rows.map((r) => r.type)).toEqual([
      'BiddingClosed',
      'CandidatePublicityEnded',
      'AcceptancePublicityEnded',
      expect.any(String),
      ...rows.slice(4).map(() => expect.any(String)),
    ]);
    expect(rows.every((r) => r.actor === 'system')).toBe(true);
    expect(deadlines.temporal).toEqual(deadlines.embedded); // the same deadlines armed on both
    // each timer's events carry the workflow's time when it fired: the deadline itself, not a later poll
    const ticks = [...new Map(rows.map((r) => [r.at.toISOString(), r.at])).values()];
    expect(ticks).toHaveLength(4);
    ticks.forEach((at, i) => {
      const late = at.getTime() - Date.parse(deadlines.temporal[i]);
      expect(late).toBeGreaterThanOrEqual(0);
      expect(late).toBeLessThan(60_000);
    });
    const payments = await t.rt.pool.query(
      "SELECT count(*)::int AS n FROM ledger_entry WHERE kind = 'disbursement'",
    );
    expect(payments.rows[0].n).toBe(1);
  });

  test('streams, ledger, notices and effects are the same on both engines; so are the refusals', async () => {
    const [a, b] = [await record(runs.embedded!), await record(runs.temporal!)];
    expect((a.events as unknown[]).length).toBeGreaterThan(20);
    expect((a.notices as unknown[]).length).toBeGreaterThan(0);
    expect(b.events).toEqual(a.events);
    expect(b.streams).toEqual(a.streams);
    expect(b.ledger).toEqual(a.ledger);
    expect(b.notices).toEqual(a.notices);
    expect(b.outbox).toEqual(a.outbox);
    expect(mask(refusals.temporal)).toEqual(mask(refusals.embedded));
  });
});
