// R-FUND-8: whatever happens to a subproject (acceptances, rejections, missed deadlines, releases with
// repeated keys, recoveries), its ledger reconciles, and the ledger entries the projection writes add
// up to the same figures. A property test over random operation sequences.
import fc from 'fast-check';
import { projectSubproject } from '../../activities/projections/subproject';
import { DomainError } from '../../workflows/errors';
import { sumFen } from '../../workflows/money';
import { DEFAULT_POLICY, SOURCES, type Actor, type Source } from '../../workflows/program/types';
import {
  decideSubproject,
  evolveSubproject,
  initialSubprojectState,
  type SubprojectCommand,
  type SubprojectEvent,
} from '../../workflows/subproject/decider';
import { ledgerOf } from '../../workflows/subproject/delivery';
import type { SubprojectCore, SubprojectState } from '../../workflows/subproject/types';

const office: Actor = { username: 'office1', role: 'office' };
const evaluator: Actor = { username: 'ev1', role: 'evaluator' };
const contractor: Actor = { username: 'c1', role: 'contractor', org: 'ORG' };
const finance: Actor = { username: 'fin1', role: 'finance' };
const budget = { central: 3_000_000, local: 1_000_000, enterprise: 0 };

function contracted(): { state: SubprojectState; now: number } {
  const events: SubprojectEvent[] = [
    {
      type: 'SubprojectRegistered',
      data: {
        programCode: 'p',
        seq: 1,
        name: 'x',
        procurement: 'designated',
        budget,
        policy: DEFAULT_POLICY,
        direction: 'logistics',
        unitCaps: [],
        at: '2020-01-01T00:00:00Z',
      },
    },
    {
      type: 'ContractorAwarded',
      data: {
        org: 'ORG',
        at: '2020-01-01T00:00:00Z',
        by: 'office1',
        designated: true,
        reason: 'r',
        document: null,
      },
    },
    {
      type: 'ContractSigned',
      data: {
        org: 'ORG',
        number: null,
        document: { title: 'c' },
        signedAt: '2020-01-01T00:00:00Z',
        signedBy: 'office1',
        milestones: ['M1', 'M2', 'M3'].map((key) => ({
          key,
          title: key,
          deliverables: [],
          due: '2020-12-31',
          evidenceRequired: [],
        })),
        tranches: [
          { key: 'T1', milestone: 'M1', source: 'central', amount: 1_000_000 },
          { key: 'T2', milestone: 'M2', source: 'central', amount: 2_000_000 },
          { key: 'T3', milestone: 'M2', source: 'local', amount: 600_000 },
          { key: 'T4', milestone: 'M3', source: 'local', amount: 400_000 },
        ],
      },
    },
  ];
  return {
    state: events.reduce(evolveSubproject, initialSubprojectState),
    now: Date.parse('2020-01-02T00:00:00Z'),
  };
}

type Op =
  | { k: 'submit' | 'preEval' | 'accept' | 'reject' | 'deliver' | 'failRound'; m: string }
  | { k: 'tick'; days: number }
  | { k: 'release'; tranche: string; part: number; key: number }
  | { k: 'recover'; source: Source; part: number; key: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constantFrom('submit', 'preEval', 'accept', 'reject'),
      m: fc.constantFrom('M1', 'M2', 'M3'),
    }),
  },
  // whole steps, so that sequences reach acceptance, release and failure often
  {
    weight: 4,
    arbitrary: fc.record({
      k: fc.constant('deliver'),
      m: fc.constantFrom('M1', 'M2', 'M3'),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant('failRound'),
      m: fc.constantFrom('M1', 'M2', 'M3'),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      k: fc.constant('tick'),
      days: fc.oneof(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 25, max: 45 })),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      k: fc.constant('release'),
      tranche: fc.constantFrom('T1', 'T2', 'T3', 'T4'),
      part: fc.integer({ min: 0, max: 3 }),
      key: fc.integer({ min: 0, max: 5 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant('recover'),
      source: fc.constantFrom<Source>('central', 'local'),
      part: fc.integer({ min: 1, max: 3 }),
      key: fc.integer({ min: 0, max: 9 }),
    }),
  },
);

const expand = (o: Op): Op[] => {
  if (o.k === 'deliver')
    return [
      { k: 'submit', m: o.m },
      { k: 'preEval', m: o.m },
      { k: 'accept', m: o.m },
    ];
  if (o.k === 'failRound')
    return [
      { k: 'submit', m: o.m },
      { k: 'preEval', m: o.m },
      { k: 'reject', m: o.m },
    ];
  return [o];
};

function command(o: Op, s: SubprojectCore): [SubprojectCommand, Actor] {
  switch (o.k) {
    case 'deliver':
    case 'failRound':
      throw new Error('expanded before');
    case 'submit':
      return [
        {
          type: 'SubmitMilestone',
          milestone: o.m,
          deliverable: 'd',
          counts: {},
          files: [],
          archive: null,
        },
        contractor,
      ];
    case 'preEval':
      return [
        {
          type: 'PreEvaluate',
          milestone: o.m,
          opinion: 'o',
          findings: [],
          recommendation: 'accept',
        },
        evaluator,
      ];
    case 'accept':
      return [
        {
          type: 'DecideMilestone',
          milestone: o.m,
          decision: 'accept',
          defects: [],
          rectificationDeadline: null,
        },
        office,
      ];
    case 'reject':
      return [
        {
          type: 'DecideMilestone',
          milestone: o.m,
          decision: 'reject',
          defects: ['问题'],
          rectificationDeadline: null,
        },
        office,
      ];
    case 'tick':
      return [{ type: 'Tick' }, { username: 'system', role: 'system' }];
    case 'release': {
      const t = s.contract!.tranches.find((x) => x.key === o.tranche)!;
      const amount = o.part === 0 ? null : Math.max(1, Math.floor((t.amount * o.part) / 4));
      return [
        {
          type: 'ReleaseTranche',
          tranche: o.tranche,
          amount,
          idempotencyKey: `k${o.key}-${o.tranche}`,
          requestHash: `${o.tranche}:${amount}`,
          programRemaining: { central: 1e12, local: 1e12, enterprise: 1e12 },
        },
        finance,
      ];
    }
    case 'recover': {
      const c = s.delivery.clawback;
      const outstanding = c ? c.demanded[o.source] - c.recovered[o.source] : 1000;
      return [
        {
          type: 'RecordRecovery',
          source: o.source,
          amount: Math.max(1, Math.ceil((outstanding * o.part) / 3)),
          reference: null,
          idempotencyKey: `r${o.key}`,
        },
        finance,
      ];
    }
  }
}

test('the ledger reconciles after any sequence of operations', () => {
  const seen = { disbursed: 0, clawback: 0, paidBack: 0, recovered: 0 };
  // half the runs start with a paid milestone, so that later failures have something to claw back
  const paidFirst: Op[] = [
    { k: 'deliver', m: 'M1' },
    { k: 'tick', days: 8 },
    { k: 'release', tranche: 'T1', part: 2, key: 0 },
  ];
  fc.assert(
    fc.property(fc.boolean(), fc.array(op, { minLength: 1, maxLength: 100 }), (prefix, rest) => {
      const ops = prefix ? [...paidFirst, ...rest] : rest;
      let { state, now } = contracted();
      const entries: { kind: string; source: string; amount_fen: number }[] = [];
      let version = 3;
      for (const o of ops.flatMap(expand)) {
        if (o.k === 'tick') now += o.days * 86_400_000;
        const [cmd, actor] = command(o, state as SubprojectCore);
        let events: SubprojectEvent[];
        try {
          events = decideSubproject(state, cmd, {
            now: new Date(now).toISOString(),
            actor,
            reason: 'r',
          });
        } catch (e) {
          if (!(e instanceof DomainError)) throw e;
          continue;
        }
        state = events.reduce(evolveSubproject, state);
        const stored = events.map((e) => ({
          ...e,
          version: ++version,
          actor: actor.username,
          role: actor.role,
          command: cmd.type,
          reason: null,
          at: '',
          prevHash: '',
          hash: '',
        }));
        entries.push(...(projectSubproject(state as SubprojectCore, stored).ledger_entries ?? []));
      }
      const s = state as SubprojectCore;
      const L = ledgerOf(s);
      for (const src of SOURCES) {
        expect(L.disbursed[src]).toBeGreaterThanOrEqual(0);
        expect(L.disbursed[src]).toBeLessThanOrEqual(L.contracted[src]);
        expect(L.contracted[src]).toBeLessThanOrEqual(L.budgeted[src]);
        expect(L.releasable[src]).toBeGreaterThanOrEqual(0);
        expect(L.releasable[src] + L.disbursed[src]).toBeLessThanOrEqual(L.contracted[src]);
        expect(L.recovered[src]).toBeLessThanOrEqual(L.clawbackDemanded[src]);
        expect(L.clawbackDemanded[src]).toBeLessThanOrEqual(L.disbursed[src]);
        expect(L.outstanding[src]).toBe(L.clawbackDemanded[src] - L.recovered[src]);
        const sumOf = (kind: string) =>
          sumFen(
            entries.filter((e) => e.kind === kind && e.source === src).map((e) => e.amount_fen),
          );
        expect(sumOf('disbursement')).toBe(L.disbursed[src]);
        expect(sumOf('recovery')).toBe(L.recovered[src]);
        expect(sumOf('clawback_demand')).toBe(L.clawbackDemanded[src]);
      }
      // each tranche paid at most its amount; each idempotency key at most once
      for (const t of s.contract!.tranches)
        expect(
          sumFen(s.delivery.disbursements.filter((d) => d.tranche === t.key).map((d) => d.amount)),
        ).toBeLessThanOrEqual(t.amount);
      const keys = s.delivery.disbursements.map((d) => d.idempotencyKey);
      expect(new Set(keys).size).toBe(keys.length);
      if (s.delivery.terminated) expect(s.delivery.clawback).not.toBeNull();
      if (s.delivery.disbursements.length) seen.disbursed++;
      if (s.delivery.clawback) seen.clawback++;
      if (s.delivery.clawback && sumFen(SOURCES.map((x) => s.delivery.clawback!.demanded[x])) > 0)
        seen.paidBack++;
      if (s.delivery.clawback?.recoveries.length) seen.recovered++;
    }),
    { numRuns: 400, seed: 20261122 },
  );
  // the generator really reaches money movements, clawbacks and recoveries (not only refusals)
  expect(seen.disbursed).toBeGreaterThan(100);
  expect(seen.clawback).toBeGreaterThan(10);
  expect(seen.paidBack).toBeGreaterThan(5);
  expect(seen.recovered).toBeGreaterThan(0);
});

test('a decision by the user who submitted is refused (R-AC-2)', () => {
  let { state } = contracted();
  const at = '2020-02-01T00:00:00Z';
  const same: Actor = { username: 'c1', role: 'office' }; // the same person under another role
  state = decideSubproject(
    state,
    {
      type: 'SubmitMilestone',
      milestone: 'M1',
      deliverable: 'd',
      counts: {},
      files: [],
      archive: null,
    },
    { now: at, actor: contractor },
  ).reduce(evolveSubproject, state);
  expect(() =>
    decideSubproject(
      state,
      {
        type: 'PreEvaluate',
        milestone: 'M1',
        opinion: 'o',
        findings: [],
        recommendation: 'accept',
      },
      { now: at, actor: { ...same, role: 'evaluator' } },
    ),
  ).toThrow(/提交人不能预评/);
  state = decideSubproject(
    state,
    { type: 'PreEvaluate', milestone: 'M1', opinion: 'o', findings: [], recommendation: 'accept' },
    { now: at, actor: evaluator },
  ).reduce(evolveSubproject, state);
  for (const who of [same, { username: 'ev1', role: 'office' } as Actor]) {
    try {
      decideSubproject(
        state,
        {
          type: 'DecideMilestone',
          milestone: 'M1',
          decision: 'accept',
          defects: [],
          rectificationDeadline: null,
        },
        { now: at, actor: who },
      );
      throw new Error('not refused');
    } catch (e) {
      expect(e).toBeInstanceOf(DomainError);
      expect((e as DomainError).code).toBe('R-AC-2');
      expect((e as DomainError).kind).toBe('forbidden');
    }
  }
});

test('the final rejection after the maximum rounds fails the subproject and demands back what was paid', () => {
  let { state, now } = contracted();
  const ctx = (actor: Actor) => ({ now: new Date(now).toISOString(), actor, reason: 'r' });
  const apply = (c: SubprojectCommand, a: Actor) => {
    state = decideSubproject(state, c, ctx(a)).reduce(evolveSubproject, state);
  };
  apply(
    {
      type: 'SubmitMilestone',
      milestone: 'M1',
      deliverable: 'd',
      counts: {},
      files: [],
      archive: null,
    },
    contractor,
  );
  apply(
    { type: 'PreEvaluate', milestone: 'M1', opinion: 'o', findings: [], recommendation: 'accept' },
    evaluator,
  );
  apply(
    {
      type: 'DecideMilestone',
      milestone: 'M1',
      decision: 'accept',
      defects: [],
      rectificationDeadline: null,
    },
    office,
  );
  now += 8 * 86_400_000;
  apply({ type: 'Tick' }, { username: 'system', role: 'system' });
  apply(
    {
      type: 'ReleaseTranche',
      tranche: 'T1',
      amount: null,
      idempotencyKey: 'k',
      requestHash: 'h',
      programRemaining: { central: 1e12, local: 1e12, enterprise: 0 },
    },
    finance,
  );
  for (let round = 1; round <= 3; round++) {
    apply(
      {
        type: 'SubmitMilestone',
        milestone: 'M2',
        deliverable: 'd',
        counts: {},
        files: [],
        archive: null,
      },
      contractor,
    );
    apply(
      {
        type: 'PreEvaluate',
        milestone: 'M2',
        opinion: 'o',
        findings: [],
        recommendation: 'reject',
      },
      evaluator,
    );
    apply(
      {
        type: 'DecideMilestone',
        milestone: 'M2',
        decision: 'reject',
        defects: ['不合格'],
        rectificationDeadline: null,
      },
      office,
    );
  }
  const s = state as SubprojectCore;
  expect(s.delivery.milestones.M2).toMatchObject({ status: 'failed', rejections: 3 });
  expect(s.delivery.terminated).not.toBeNull();
  expect(s.delivery.clawback!.demanded).toEqual({ central: 1_000_000, local: 0, enterprise: 0 });
});
