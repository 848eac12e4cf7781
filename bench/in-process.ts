// B2's shifan side, in process like the peer: the same approval path (tender → 3 bids → opening → scores
// → candidate → award → contract → submit → pre-evaluate → accept → publicity end → release) as engine
// commands from this process, persisted to the same PostgreSQL, at the same concurrency. The commands are
// built as the HTTP routes build them (including the program-budget query a release makes), minus HTTP.
import type { Pool } from 'pg';
import { programAggregate, subprojectAggregate, subprojectKey } from '../engine/aggregates';
import type { ManualClock } from '../engine/clock';
import { programRemaining } from '../activities/funds';
import { pool } from './pool';
import { EmbeddedEngine } from '../engine/embedded/engine';
import { TimerScheduler } from '../engine/embedded/scheduler';
import { allocate } from '../workflows/money';
import { programFacts } from '../workflows/program/facts';
import { definitionFromTable, ProgramTable } from '../workflows/program/table';
import { SOURCES, type Actor } from '../workflows/program/types';
import { endOfDayShanghai } from '../workflows/time';
import type { z } from 'zod';

const office: Actor = { username: 'office1', role: 'office', org: null };
const evaluator: Actor = { username: 'ev1', role: 'evaluator', org: 'CPA' };
const finance: Actor = { username: 'fin1', role: 'finance', org: null };
const bidders: Actor[] = ['ORG-A', 'ORG-B', 'ORG-C'].map((org, i) => ({
  username: `c${i + 1}`,
  role: 'contractor',
  org,
}));

export interface InProcessResult {
  subprojects: number;
  transitions: number;
  seconds: number;
  transitionsPerSecond: number;
  cpuMsPerTransition: number;
}

/** `programs` programs of `table` (codes `prefix-0001`…), each publicly tendered subproject through one milestone. */
export async function shifanInProcess(
  db: Pool,
  clock: ManualClock,
  table: z.input<typeof ProgramTable>,
  o: {
    programs: number;
    seqs: number[];
    concurrency: number;
    prefix: string;
    archive: Record<string, { sha256: string; name: string; type: string; size: number }[]>;
  },
): Promise<InProcessResult> {
  const engine = new EmbeddedEngine(db, clock);
  const scheduler = new TimerScheduler(engine);
  const codes = Array.from(
    { length: o.programs },
    (_, i) => `${o.prefix}-${String(i + 1).padStart(4, '0')}`,
  );
  clock.set('2019-10-01T02:00:00.000Z');
  for (const code of codes) {
    // set-up, not timed
    await engine.execute(
      programAggregate,
      code,
      {
        type: 'CreateProgram',
        definition: definitionFromTable(ProgramTable.parse({ ...table, code })),
      },
      { actor: office },
    );
    for (const gate of ['plan_filed', 'leading_group_established'] as const)
      await engine.execute(
        programAggregate,
        code,
        { type: 'RecordGateAct', gate, document: { title: gate } },
        { actor: office },
      );
    await engine.execute(
      programAggregate,
      code,
      { type: 'AdvancePhase', to: 'implement', subprojectStatuses: {} },
      { actor: office },
    );
  }
  const sps = codes.flatMap((code) =>
    o.seqs.map((seq) => ({ code, seq, key: subprojectKey(code, seq) })),
  );
  const programs = new Map(
    await Promise.all(
      codes.map(async (c) => [c, (await engine.read(programAggregate, c)).state] as const),
    ),
  );
  const budget = (code: string, seq: number) => programFacts(programs.get(code)!, seq);
  let transitions = 0;
  let busy = 0;
  let cpu = 0;
  const stage = async (fn: (s: (typeof sps)[number]) => Promise<number>) => {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await pool(sps, o.concurrency, async (s) => {
      const n = await fn(s);
      transitions += n;
    }); // not `+= await`: that reads the sum before the await
    busy += performance.now() - t0;
    const c = process.cpuUsage(c0);
    cpu += c.user + c.system;
  };
  const run = async (s: (typeof sps)[number], actor: Actor, cmd: Record<string, unknown>) =>
    (await engine.execute(subprojectAggregate, s.key, cmd as never, { actor })).events.length > 0
      ? 1
      : 0;
  await stage(async (s) =>
    run(s, office, {
      type: 'OpenTender',
      program: budget(s.code, s.seq),
      bidDeadline: new Date(endOfDayShanghai('2019-10-25')).toISOString(),
      announcement: { title: 't', number: null, qualifications: [], documents: [] },
    }),
  );
  await stage(async (s) => {
    let n = 0;
    for (const b of bidders)
      n += await run(s, b, { type: 'SubmitBid', price: 100_000_000, proposal: 'p', documents: [] });
    return n;
  });
  clock.set('2019-10-26T02:00:00.000Z');
  await stage(async (s) => run(s, office, { type: 'OpenBids', invalid: [] }));
  await stage(async (s) =>
    run(s, evaluator, {
      type: 'ScoreBids',
      scores: bidders.map((b, i) => ({ org: b.org!, score: 9500 - i * 500, comment: null })),
    }),
  );
  await stage(async (s) => run(s, office, { type: 'ProposeCandidate', org: 'ORG-A' }));
  clock.set('2019-10-31T02:00:00.000Z');
  await stage(async (s) => run(s, office, { type: 'Award' }));
  await stage(async (s) => {
    const f = budget(s.code, s.seq).plan.funding;
    const tranches = SOURCES.filter((src) => f[src] > 0).map((src) => ({
      key: `${src[0]}1`,
      milestone: 'M1',
      source: src,
      amount: allocate(f[src], [1])[0],
    }));
    return run(s, office, {
      type: 'SignContract',
      number: null,
      document: { title: 'c' },
      milestones: [
        { key: 'M1', title: 'M1', deliverables: [], due: '2020-12-31', evidenceRequired: [] },
      ],
      tranches,
    });
  });
  clock.set('2019-11-01T02:00:00.000Z');
  await stage(async (s) =>
    run(s, bidders[0], {
      type: 'SubmitMilestone',
      milestone: 'M1',
      deliverable: 'M1',
      counts: s.seq === 2 ? { town_station: 21, village_station: 240 } : { trainees: 100 },
      files: [],
      archive: s.seq === 5 ? o.archive : null,
    }),
  );
  await stage(async (s) =>
    run(s, evaluator, {
      type: 'PreEvaluate',
      milestone: 'M1',
      opinion: 'ok',
      findings: [],
      recommendation: 'accept',
    }),
  );
  await stage(async (s) =>
    run(s, office, {
      type: 'DecideMilestone',
      milestone: 'M1',
      decision: 'accept',
      defects: [],
      rectificationDeadline: null,
    }),
  );
  clock.set('2019-11-10T02:00:00.000Z');
  {
    // publicity ends: the timers fire (transitions persisted like any other)
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    transitions += (await scheduler.runDue()).fired;
    busy += performance.now() - t0;
    const c = process.cpuUsage(c0);
    cpu += c.user + c.system;
  }
  await stage(async (s) => {
    let n = 0;
    for (const src of SOURCES) {
      if (!(budget(s.code, s.seq).plan.funding[src] > 0)) continue;
      const key = `${s.key}-${src}`;
      n += await run(s, finance, {
        type: 'ReleaseTranche',
        tranche: `${src[0]}1`,
        amount: null,
        idempotencyKey: key,
        requestHash: key,
        programRemaining: await programRemaining(db, s.code),
      });
    }
    return n;
  });
  return {
    subprojects: sps.length,
    transitions,
    seconds: Math.round(busy / 100) / 10,
    transitionsPerSecond: Math.round(transitions / (busy / 1000)),
    cpuMsPerTransition: Math.round(cpu / transitions) / 1000,
  };
}
