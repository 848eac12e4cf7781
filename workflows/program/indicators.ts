// Targets as data (R-EV-1): each program, and each subproject, may carry measurable indicators —
// what, in which unit, from which baseline to which target by when, and how the figure is measured (from
// the register of what was built, from the contractors' reports, or entered with evidence). Figures are
// exact decimals (at most 2 places), compared as fractions of integers: no floating point. Pure, and
// without zod (the deciders import it; the table's schema is indicator-input.ts).
import type { Violation } from '../errors';

export const COMPARISONS = { '>=': '≥', '<=': '≤', '=': '=' } as const;
export type Comparison = keyof typeof COMPARISONS;

export const MEASURES = {
  register: '由建设台账计算',
  reports: '由承办企业报送数据',
  evidence: '录入数值并附证明材料',
} as const;
export type Measure = keyof typeof MEASURES;

/** What the register gives (measure = register). Coverage metrics are a share of `of` (the county's
 * number of administrative villages, or of poor villages), in %. */
export const METRICS = {
  county_centres: { name: '县级电子商务公共服务中心数', percent: false },
  town_stations: { name: '镇级电子商务服务站数', percent: false },
  towns_covered: { name: '建有镇级服务站的镇（街）数', percent: false },
  village_stations: { name: '村级电商服务点数', percent: false },
  village_coverage: { name: '电商服务覆盖的行政村比例', percent: true },
  poor_village_coverage: { name: '电商服务覆盖的贫困村比例', percent: true },
  training_sessions: { name: '培训场次', percent: false },
  training_trainees: { name: '培训人数', percent: false },
  training_person_times: { name: '培训人次', percent: false },
} as const;
export type Metric = keyof typeof METRICS;

export interface Indicator {
  id: string;
  name: string;
  unit: string;
  /** decimal text, e.g. "0"; null when the plan names none */
  baseline: string | null;
  comparison: Comparison;
  target: string;
  /** the day by which the target is to be reached (Asia/Shanghai); null: by the end of the program */
  due: string | null;
  measure: Measure;
  /** measure = register: which figure of the register */
  metric?: Metric;
  /** coverage metrics: the denominator (行政村总数 / 贫困村总数) */
  of?: number;
  /** shown in the public column */
  public?: boolean;
  /** the subproject it belongs to (set from where the table lists it) */
  seq?: number;
}

// ---- exact fractions --------------------------------------------------------------------------------

/** n / d with d > 0. */
export interface Ratio {
  n: bigint;
  d: bigint;
}
export const ratio = (n: number | bigint, d: number | bigint = 1): Ratio => ({
  n: BigInt(n),
  d: BigInt(d),
});
/** "70" → 70/1, "0.5" → 50/100 (decimal text as the schema allows it). */
export function parseDecimal(s: string): Ratio {
  const [w, f = ''] = s.split('.');
  return { n: BigInt(w + f), d: 10n ** BigInt(f.length) };
}
export const cmp = (a: Ratio, b: Ratio): number => {
  const l = a.n * b.d;
  const r = b.n * a.d;
  return l === r ? 0 : l < r ? -1 : 1;
};
export const add = (a: Ratio, b: Ratio): Ratio => ({ n: a.n * b.d + b.n * a.d, d: a.d * b.d });
export const sub = (a: Ratio, b: Ratio): Ratio => ({ n: a.n * b.d - b.n * a.d, d: a.d * b.d });
export const mul = (a: Ratio, b: Ratio): Ratio => ({ n: a.n * b.n, d: a.d * b.d });
/** Half-up to at most 2 places, trailing zeros dropped: 2/3·100 → "66.67", 70/1 → "70". */
export function decimalText(r: Ratio): string {
  const neg = r.n < 0n;
  const n = neg ? -r.n : r.n;
  const q = (n * 100n * 2n + r.d) / (2n * r.d);
  const whole = (q / 100n).toString();
  const frac = (q % 100n).toString().padStart(2, '0').replace(/0+$/, '');
  return `${neg && q !== 0n ? '-' : ''}${whole}${frac ? `.${frac}` : ''}`;
}
/** A figure as a JSON number for a chart (display only; comparisons never use it). */
export const chartNumber = (r: Ratio): number => Number(decimalText(r));

export const satisfies = (value: Ratio, c: Comparison, target: Ratio): boolean => {
  const k = cmp(value, target);
  return c === '>=' ? k >= 0 : c === '<=' ? k <= 0 : k === 0;
};

// ---- R-EV-1: the indicators of a table are measurable -------------------------------------------------

/** Every indicator of the program and its subprojects, each with where the table lists it. */
export function indicatorsWithField(def: {
  indicators?: Indicator[];
  subprojects: { seq: number; indicators?: Indicator[] }[];
}): { i: Indicator; field: string }[] {
  return [
    ...(def.indicators ?? []).map((i, k) => ({ i, field: `indicators[${k}]` })),
    ...def.subprojects.flatMap((s, si) =>
      (s.indicators ?? []).map((i, k) => ({ i, field: `subprojects[${si}].indicators[${k}]` })),
    ),
  ];
}

/** R-EV-1: each target measurable — a register metric when measured from the register (and only
 * then), a denominator and the unit % for coverage, a percentage at most 100, ids unique in the program.
 * Every violation with its field, in Chinese and English. */
export function checkIndicators(def: {
  indicators?: Indicator[];
  subprojects: { seq: number; indicators?: Indicator[] }[];
}): Violation[] {
  const out: Violation[] = [];
  const v = (field: string, message: string, message_en: string, id: string) =>
    out.push({ rule: 'R-EV-1', field, message, message_en, figures: { indicator: id } });
  const seen = new Map<string, string>();
  for (const { i, field } of indicatorsWithField(def)) {
    const who = `指标「${i.name}」（${i.id}）`;
    const prior = seen.get(i.id);
    if (prior)
      v(
        `${field}.id`,
        `${who}编号与 ${prior} 重复：指标编号在项目内须唯一`,
        `indicator id ${i.id} repeats ${prior}: ids are unique within a program`,
        i.id,
      );
    seen.set(i.id, field);
    if (i.measure === 'register' && !i.metric)
      v(
        `${field}.metric`,
        `${who}由建设台账计算（measure = register），须给出台账指标 metric（${Object.keys(METRICS).join('、')}）`,
        `indicator ${i.id} is measured from the register but names no metric`,
        i.id,
      );
    if (i.measure !== 'register' && i.metric)
      v(
        `${field}.metric`,
        `${who}不由建设台账计算（measure = ${i.measure}），不能给出台账指标 metric`,
        `indicator ${i.id} names a register metric but is measured by ${i.measure}`,
        i.id,
      );
    const percent = i.metric ? METRICS[i.metric].percent : false;
    if (percent && i.unit !== '%')
      v(
        `${field}.unit`,
        `${who}是覆盖率，单位应为 %（现为「${i.unit}」）`,
        `indicator ${i.id} is a coverage: its unit is % (not ${i.unit})`,
        i.id,
      );
    if (!percent && i.of !== undefined)
      v(
        `${field}.of`,
        `${who}不是覆盖率，不能给出分母 of`,
        `indicator ${i.id} is not a coverage and takes no denominator (of)`,
        i.id,
      );
    if (percent && cmp(parseDecimal(i.target), ratio(100)) > 0)
      v(
        `${field}.target`,
        `${who}目标 ${i.target}% 超过 100%`,
        `indicator ${i.id} targets ${i.target}% > 100%`,
        i.id,
      );
  }
  return out;
}
