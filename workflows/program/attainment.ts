// Attainment of each target (R-EV-1): its figure from the register (stations, training sessions) or
// from the values entered with evidence, against its target, and a status by the due date and the
// program's clock. Pure: `now` comes from the caller; every comparison is exact (integer fractions).
import { daysBetween, endOfDayShanghai, shanghaiDay } from '../time';
import type { ActiveProgram } from './decider';
import { registerOf } from './decider';
import {
  add,
  chartNumber,
  cmp,
  COMPARISONS,
  decimalText,
  indicatorsWithField,
  MEASURES,
  METRICS,
  mul,
  parseDecimal,
  ratio,
  satisfies,
  sub,
  type Indicator,
  type Ratio,
} from './indicators';
import type { Register } from './register';

export const ATTAINMENT_STATUSES = {
  met: '已达成',
  on_track: '按进度',
  at_risk: '有风险',
  not_met: '未达成',
} as const;
export type AttainmentStatus = keyof typeof ATTAINMENT_STATUSES;

export interface Attainment {
  id: string;
  name: string;
  unit: string;
  seq: number | null;
  measure: Indicator['measure'];
  measureName: string;
  metric: Indicator['metric'] | null;
  comparison: Indicator['comparison'];
  /** "≥ 240 个" */
  targetText: string;
  target: string;
  baseline: string | null;
  due: string | null;
  /** the figure (as of the due day once it has passed); null: nothing to measure yet */
  value: string | null;
  /** where the figure should be by today on a straight line from baseline to target (≥ targets) */
  expected: string | null;
  status: AttainmentStatus;
  statusName: string;
  /** what the figure counts, or why there is none */
  note: string | null;
  public: boolean;
  /** value / target in % for the chart (display only) */
  percentOfTarget: number | null;
}

/** The register's figure for a metric as of `day` (entries dated that day or before). */
export function registerFigure(
  reg: Register,
  ind: Indicator,
  day: string,
): { value: Ratio | null; note: string | null } {
  const stations = reg.stations.filter((s) => s.openedOn <= day);
  const level = (l: string) => stations.filter((s) => s.level === l);
  const distinct = (xs: string[]) => new Set(xs).size;
  const villages = (poorOnly: boolean) =>
    distinct(
      level('village')
        .filter((s) => !poorOnly || s.poorVillage)
        .map((s) => `${s.town}|${s.village}`),
    );
  const sessions = reg.trainings.filter((t) => t.date <= day);
  const archived = sessions.filter((t) => t.archiveComplete);
  const unarchived = sessions.length - archived.length;
  const trainingNote = (what: string, n: (t: (typeof sessions)[number]) => number) =>
    unarchived
      ? `另有 ${unarchived} 场培训（${sessions.filter((t) => !t.archiveComplete).reduce((a, t) => a + n(t), 0)} ${what}）培训档案不全，不计入（R-AC-1）`
      : null;
  const coverage = (covered: number, of: number | undefined, what: string) =>
    of === undefined
      ? { value: null, note: `缺少${what}总数（of），无法计算覆盖率；已覆盖 ${covered} 个` }
      : { value: ratio(covered * 100, of), note: `${covered} / ${of} 个${what}` };
  switch (ind.metric) {
    case 'county_centres':
      return { value: ratio(level('county').length), note: null };
    case 'town_stations':
      return { value: ratio(level('town').length), note: null };
    case 'towns_covered':
      return { value: ratio(distinct(level('town').map((s) => s.town ?? ''))), note: null };
    case 'village_stations':
      return { value: ratio(level('village').length), note: null };
    case 'village_coverage':
      return coverage(villages(false), ind.of, '行政村');
    case 'poor_village_coverage':
      return coverage(villages(true), ind.of, '贫困村');
    case 'training_sessions':
      return { value: ratio(archived.length), note: trainingNote('场', () => 1) };
    case 'training_trainees':
      return {
        value: ratio(archived.reduce((a, t) => a + t.trainees, 0)),
        note: trainingNote('人', (t) => t.trainees),
      };
    case 'training_person_times':
      return {
        value: ratio(archived.reduce((a, t) => a + t.personTimes, 0)),
        note: trainingNote('人次', (t) => t.personTimes),
      };
    case undefined:
      return { value: null, note: null };
  }
}

/** The latest value entered on or before `day` (by its own date, then by when it was entered). */
function enteredFigure(reg: Register, ind: Indicator, day: string) {
  const v = reg.values
    .filter((x) => x.indicator === ind.id && x.asOf <= day)
    .sort((a, b) => a.asOf.localeCompare(b.asOf) || a.at.localeCompare(b.at))
    .pop();
  return v
    ? {
        value: parseDecimal(v.value),
        note: `${v.asOf} 录入，依据：${v.evidence.title}${v.evidence.number ? `（${v.evidence.number}）` : ''}`,
      }
    : {
        value: null,
        note:
          ind.measure === 'reports'
            ? '尚无数据（待承办企业报送或录入）'
            : '尚无数据（待录入并附证明材料）',
      };
}

/** How far a figure is towards its target, in % (for the chart: 100 = reached; a ≤ target above its
 * bound shows how far it is within reach, target / value). */
function percentOfTarget(
  value: Ratio | null,
  c: Indicator['comparison'],
  target: Ratio,
): number | null {
  if (value === null) return null;
  if (c === '<=')
    return satisfies(value, c, target)
      ? 100
      : chartNumber({ n: target.n * 100n * value.d, d: target.d * value.n });
  if (target.n === 0n) return satisfies(value, c, target) ? 100 : 0;
  return chartNumber({ n: value.n * 100n * target.d, d: value.d * target.n });
}

/** The day a program's targets are counted from: its first phase's start, else the day it was created. */
export const programStartDay = (s: ActiveProgram): string =>
  s.def.phases[0]?.start ?? shanghaiDay(s.createdAt);

/** R-EV-1: every target of the program and its subprojects, as of `now`. */
export function attainment(s: ActiveProgram, now: string): Attainment[] {
  const reg = registerOf(s);
  const today = shanghaiDay(now);
  const start = programStartDay(s);
  return indicatorsWithField(s.def).map(({ i }) => {
    const past = i.due !== null && Date.parse(now) > endOfDayShanghai(i.due);
    const day = past ? i.due! : today;
    const fig = i.measure === 'register' ? registerFigure(reg, i, day) : enteredFigure(reg, i, day);
    const target = parseDecimal(i.target);
    const baseline = i.baseline !== null ? parseDecimal(i.baseline) : ratio(0);
    let expected: Ratio | null = null;
    if (i.comparison === '>=' && i.due !== null && !past) {
      const total = daysBetween(start, i.due);
      const elapsed = Math.min(Math.max(daysBetween(start, today), 0), Math.max(total, 0));
      expected =
        total <= 0 ? target : add(baseline, mul(sub(target, baseline), ratio(elapsed, total)));
    }
    const ok = fig.value !== null && satisfies(fig.value, i.comparison, target);
    const status: AttainmentStatus = ok
      ? 'met'
      : past
        ? 'not_met'
        : fig.value !== null && expected !== null && cmp(fig.value, expected) >= 0
          ? 'on_track'
          : fig.value !== null && i.due === null
            ? 'on_track'
            : 'at_risk';
    return {
      id: i.id,
      name: i.name,
      unit: i.unit,
      seq: i.seq ?? null,
      measure: i.measure,
      measureName: i.metric
        ? `${MEASURES[i.measure]}：${METRICS[i.metric].name}`
        : MEASURES[i.measure],
      metric: i.metric ?? null,
      comparison: i.comparison,
      targetText: `${COMPARISONS[i.comparison]} ${i.target}${i.unit === '%' ? '%' : ` ${i.unit}`}`,
      target: i.target,
      baseline: i.baseline,
      due: i.due,
      value: fig.value && decimalText(fig.value),
      expected: expected && decimalText(expected),
      status,
      statusName: ATTAINMENT_STATUSES[status],
      note: [past ? `按期限 ${i.due} 计` : null, fig.note].filter(Boolean).join('；') || null,
      public: i.public ?? false,
      percentOfTarget: percentOfTarget(fig.value, i.comparison, target),
    };
  });
}

/** The last day of a month "2020-02" → "2020-02-29". */
const monthEnd = (month: string): string => {
  const [y, m] = month.split('-').map(Number);
  return new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
};

/** R-EV-1: each target's figure and status at the end of every month from the program's start to now
 * (the current month as of now), as the register and the entered values date them. At most 120 months. */
export function attainmentHistory(s: ActiveProgram, now: string) {
  const months: string[] = [];
  const last = shanghaiDay(now).slice(0, 7);
  for (let m = programStartDay(s).slice(0, 7); m <= last && months.length < 120;) {
    months.push(m);
    const [y, mo] = m.split('-').map(Number);
    m = mo === 12 ? `${y + 1}-01` : `${y}-${String(mo + 1).padStart(2, '0')}`;
  }
  const at = months.map((m) =>
    m === last ? now : new Date(endOfDayShanghai(monthEnd(m))).toISOString(),
  );
  const snapshots = at.map((t) => attainment(s, t));
  return {
    months,
    items: indicatorsWithField(s.def).map(({ i }, k) => ({
      id: i.id,
      name: i.name,
      unit: i.unit,
      values: snapshots.map((snap) => snap[k].value),
      statuses: snapshots.map((snap) => snap[k].status),
    })),
  };
}
