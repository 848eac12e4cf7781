// JSON views of domain state for the API: money as integer fen plus 万元 text, Chinese names beside keys.
import { policyAsTable } from '../workflows/program/table';
import { attainment, attainmentHistory } from '../workflows/program/attainment';
import { fundedOf, STATION_LEVELS } from '../workflows/program/register';
import type { ParcelClaim } from '../workflows/parcels/decider';
import { SUBPROJECT_STATUS_NAMES } from '../workflows/subproject/status';
import { formatWan, sumFen, type Fen } from '../workflows/money';
import {
  gateStatuses,
  overdue,
  phaseDates,
  registerOf,
  type ActiveProgram,
  type SubprojectStatus,
} from '../workflows/program/decider';
import {
  DIRECTIONS,
  PROCUREMENTS,
  SOURCE_NAMES,
  SOURCES,
  type Funding,
} from '../workflows/program/types';

export const money = (fen: Fen) => ({ fen, wan: formatWan(fen) });
const fundingView = (f: Funding) => ({
  ...(Object.fromEntries(SOURCES.map((s) => [s, money(f[s])])) as Record<
    (typeof SOURCES)[number],
    ReturnType<typeof money>
  >),
  total: money(sumFen(SOURCES.map((s) => f[s]))),
});

export function programView(
  s: ActiveProgram,
  version: number,
  now: string,
  live: Record<
    number,
    { status: SubprojectStatus; stage: string; contractorOrg: string | null }
  > = {},
) {
  const statuses = Object.fromEntries(
    Object.entries(live).map(([k, v]) => [k, v.status]),
  ) as Record<number, SubprojectStatus>;
  const d = s.def;
  const phase = d.phases[s.phaseIndex] ?? null;
  return {
    code: d.code,
    name: d.name,
    province: d.province,
    county: d.county,
    year: d.year,
    version,
    status: s.status,
    statusName: s.status === 'closed' ? '已结束' : '进行中',
    phase: phase
      ? {
          key: phase.key,
          name: phase.name,
          index: s.phaseIndex,
          start: phase.start,
          end: phase.end,
          enteredAt: s.phaseEnteredAt,
        }
      : null,
    overdue: overdue(s, now),
    phases: phaseDates(s, now).map((p, i) => ({
      ...p,
      name: d.phases[i].name,
      state: i < s.phaseIndex ? 'done' : i === s.phaseIndex ? 'current' : 'pending',
    })),
    gates: gateStatuses(s, statuses).map((g) => ({
      key: g.key,
      name: g.name,
      kind: g.kind,
      open: g.open,
      act: g.act,
      detail: g.detail,
      violations: g.violations,
    })),
    budget: {
      bySource: SOURCES.map((src) => ({
        source: src,
        name: SOURCE_NAMES[src],
        ...money(d.totals[src]),
      })),
      total: money(sumFen(SOURCES.map((src) => d.totals[src]))),
    },
    subprojects: d.subprojects.map((sp) => ({
      seq: sp.seq,
      name: sp.name,
      direction: sp.direction,
      directionName: DIRECTIONS[sp.direction],
      procurement: sp.procurement,
      procurementName: PROCUREMENTS[sp.procurement],
      start: sp.start,
      deadline: sp.deadline,
      goal: sp.goal,
      targets: sp.targets,
      uses: sp.uses,
      status: live[sp.seq]?.status ?? s.subprojects[sp.seq] ?? 'planned',
      statusName:
        SUBPROJECT_STATUS_NAMES[live[sp.seq]?.status ?? s.subprojects[sp.seq] ?? 'planned'],
      stage: live[sp.seq]?.stage ?? 'unprocured',
      contractorOrg: live[sp.seq]?.contractorOrg ?? null,
      funding: fundingView(sp.funding),
    })),
    findings: s.findings,
    /** R-FUND-9: the periods whose fund use has been published */
    fundUse: s.fundUse ?? [],
    /** R-PUB-1: the reporting contacts (the marker prints the phones), as the table gave them */
    disclosure: d.disclosure ?? null,
    /** R-FUND-6: the program subsidises parcels (its claims are on the program page) */
    parcelSubsidy: d.parcelSubsidy && {
      ...d.parcelSubsidy,
      perParcel: money(d.parcelSubsidy.perParcel),
      perBusinessPerYear: money(d.parcelSubsidy.perBusinessPerYear),
      total: money(d.parcelSubsidy.total),
    },
    acts: s.acts,
    policy: policyAsTable(d.policy),
    unitCaps: d.unitCaps.map((c) => ({
      ...c,
      ...(c.maxPerUnit !== undefined ? { maxPerUnit: money(c.maxPerUnit) } : {}),
      ...(c.maxAveragePerUnit !== undefined
        ? { maxAveragePerUnit: money(c.maxAveragePerUnit) }
        : {}),
    })),
    createdAt: s.createdAt,
    closedAt: s.closedAt,
    /** R-EV-1: every target of the program and its subprojects with its figure and status now */
    attainment: attainment(s, now),
    /** how much the register holds (GET …/register lists it) */
    registered: {
      stations: registerOf(s).stations.length,
      trainings: registerOf(s).trainings.length,
      values: registerOf(s).values.length,
      funded: fundedOf(registerOf(s)).length,
    },
  };
}

/** The register of what was built and done (R-EV-1), with the attainment it gives. */
export function programRegisterView(s: ActiveProgram, now: string, withHistory = true) {
  const reg = registerOf(s);
  return {
    code: s.def.code,
    asOf: now,
    stations: reg.stations.map((x) => ({ ...x, levelName: STATION_LEVELS[x.level] })),
    trainings: reg.trainings,
    values: reg.values,
    /** R-FUND-5: supported units, each with the cap of its item */
    funded: fundedOf(reg).map((f) => ({
      ...f,
      amount: money(f.amount),
      capName: s.def.unitCaps.find((c) => c.item === f.item)?.name ?? f.item,
    })),
    attainment: attainment(s, now),
    /** each target's figure and status at every month's end (R-EV-1) */
    history: withHistory ? attainmentHistory(s, now) : null,
  };
}

/** A parcel subsidy claim (R-FUND-6), its review's money as {fen, wan}. */
export const claimView = (c: ParcelClaim) => ({
  ...c,
  review: c.review && {
    ...c.review,
    gross: money(c.review.gross),
    payable: money(c.review.payable),
  },
});
