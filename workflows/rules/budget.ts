// Budget-table rules R-FUND-1..5 (domain.md). Pure: returns every violation with its figures, in
// Chinese and English; the caller decides whether to refuse. Thresholds come from the program's policy.
import type { Violation } from '../errors';
import {
  percentText,
  shareAtLeast,
  shareAtMost,
  sumFen,
  wanText,
  formatWan,
  type Fen,
} from '../money';
import {
  DIRECTIONS,
  PROHIBITED_USES,
  SOURCE_NAMES,
  SOURCES,
  type ProgramDefinition,
  type SubprojectPlan,
} from '../program/types';

const bpText = (bp: number) => `${bp / 100}%`;
const rowName = (s: SubprojectPlan) => `分项目${s.seq}「${s.name}」`;

/** R-FUND-1: every row adds up, every column sums to the totals row, the totals add up. */
export function checkTableAddsUp(def: ProgramDefinition): Violation[] {
  const out: Violation[] = [];
  def.subprojects.forEach((s, i) => {
    const rowSum = sumFen(SOURCES.map((src) => s.funding[src]));
    if (s.declaredTotal !== null && s.declaredTotal !== rowSum) {
      out.push({
        rule: 'R-FUND-1',
        field: `subprojects[${i}].funding.total`,
        message: `${rowName(s)}合计 ${wanText(s.declaredTotal)} ≠ 各来源之和 ${wanText(rowSum)}`,
        message_en: `row ${s.seq} total ${formatWan(s.declaredTotal)} ≠ sum of sources ${formatWan(rowSum)} (万元)`,
        figures: { row: s.seq, declared: formatWan(s.declaredTotal), sum: formatWan(rowSum) },
      });
    }
  });
  for (const src of SOURCES) {
    const col = sumFen(def.subprojects.map((s) => s.funding[src]));
    if (col !== def.totals[src]) {
      out.push({
        rule: 'R-FUND-1',
        field: `totals.${src}`,
        message: `${SOURCE_NAMES[src]}（${src}）列合计 ${wanText(col)} ≠ 合计行 ${wanText(def.totals[src])}`,
        message_en: `column ${src} sums to ${formatWan(col)} ≠ totals row ${formatWan(def.totals[src])} (万元)`,
        figures: { column: src, sum: formatWan(col), totals: formatWan(def.totals[src]) },
      });
    }
  }
  const grand = sumFen(SOURCES.map((src) => def.totals[src]));
  if (grand !== def.totals.total) {
    out.push({
      rule: 'R-FUND-1',
      field: 'totals.total',
      message: `总计 ${wanText(def.totals.total)} ≠ 各来源合计之和 ${wanText(grand)}`,
      message_en: `grand total ${formatWan(def.totals.total)} ≠ sum of source totals ${formatWan(grand)} (万元)`,
      figures: { declared: formatWan(def.totals.total), sum: formatWan(grand) },
    });
  }
  return out;
}

const centralOf = (def: ProgramDefinition, dirs: readonly string[]): Fen =>
  sumFen(def.subprojects.filter((s) => dirs.includes(s.direction)).map((s) => s.funding.central));
const centralTotal = (def: ProgramDefinition): Fen =>
  sumFen(def.subprojects.map((s) => s.funding.central));

/** R-FUND-2: infrastructure + rural-products upward + logistics ≥ 50% of central funds. */
export function checkUpwardGroupShare(def: ProgramDefinition): Violation[] {
  const total = centralTotal(def);
  if (total === 0) return [];
  const dirs = def.policy.upwardGroupDirections;
  const group = centralOf(def, dirs);
  if (shareAtLeast(group, total, def.policy.upwardGroupMinBp)) return [];
  const pct = percentText(group, total);
  return [
    {
      rule: 'R-FUND-2',
      field: 'subprojects',
      message: `用于${dirs.map((d) => DIRECTIONS[d]).join('、')}的中央资金 ${wanText(group)} 占中央资金 ${wanText(total)} 的 ${pct}% < ${bpText(def.policy.upwardGroupMinBp)}`,
      message_en: `infrastructure/upward/logistics group ${pct}% < ${bpText(def.policy.upwardGroupMinBp)} of central funds (${formatWan(group)} of ${formatWan(total)} 万元)`,
      figures: {
        group: formatWan(group),
        central: formatWan(total),
        percent: pct,
        min: bpText(def.policy.upwardGroupMinBp),
      },
    },
  ];
}

/** R-FUND-3: county public service centre ≤ 15% of central funds (exactly 15.0% passes). */
export function checkCentreShare(def: ProgramDefinition): Violation[] {
  const total = centralTotal(def);
  if (total === 0) return [];
  const centre = centralOf(def, def.policy.centreDirections);
  if (shareAtMost(centre, total, def.policy.centreMaxBp)) return [];
  const pct = percentText(centre, total);
  return [
    {
      rule: 'R-FUND-3',
      field: 'subprojects',
      message: `公共服务中心中央资金 ${wanText(centre)} 占中央资金 ${wanText(total)} 的 ${pct}% > ${bpText(def.policy.centreMaxBp)}`,
      message_en: `centre ${pct}% > ${bpText(def.policy.centreMaxBp)} of central funds (${formatWan(centre)} of ${formatWan(total)} 万元)`,
      figures: {
        centre: formatWan(centre),
        central: formatWan(total),
        percent: pct,
        max: bpText(def.policy.centreMaxBp),
      },
    },
  ];
}

/** R-FUND-4: central funds may not pay for trading platforms, buildings, working expenses, traffic. */
export function checkProhibitedUses(def: ProgramDefinition): Violation[] {
  const out: Violation[] = [];
  def.subprojects.forEach((s, i) => {
    if (s.funding.central === 0) return;
    for (const use of s.uses.filter((u) => def.policy.prohibitedCentralUses.includes(u))) {
      const zh = (PROHIBITED_USES as Record<string, string>)[use] ?? use;
      out.push({
        rule: 'R-FUND-4',
        field: `subprojects[${i}].uses`,
        message: `${rowName(s)}安排中央资金 ${wanText(s.funding.central)}，但申报用途含禁止用途「${zh}」`,
        message_en: `row ${s.seq} uses central funds for a prohibited use: ${use}`,
        figures: { row: s.seq, use, central: formatWan(s.funding.central) },
      });
    }
  });
  return out;
}

/** R-FUND-5: a subproject whose targets are all capped units may not exceed Σ cap × count per source. */
export function checkUnitCaps(def: ProgramDefinition): Violation[] {
  const out: Violation[] = [];
  def.subprojects.forEach((s, i) => {
    const capped = s.targets.map((t) => ({ t, cap: def.unitCaps.find((c) => c.item === t.item) }));
    if (capped.length === 0 || capped.some((x) => !x.cap)) return; // uncapped items: no bound to check
    for (const src of SOURCES) {
      const parts = capped.filter((x) => x.cap!.source === src);
      if (!parts.length) continue;
      const bound = sumFen(
        parts.map(({ t, cap }) => (cap!.maxPerUnit ?? cap!.maxAveragePerUnit!) * t.count),
      );
      if (s.funding[src] <= bound) continue;
      const formula = parts
        .map(({ t, cap }) => `${t.count}×${wanText(cap!.maxPerUnit ?? cap!.maxAveragePerUnit!)}`)
        .join(' + ');
      out.push({
        rule: 'R-FUND-5',
        field: `subprojects[${i}].funding.${src}`,
        message: `${rowName(s)}${SOURCE_NAMES[src]} ${wanText(s.funding[src])} > 单位补助上限合计 ${wanText(bound)}（${formula}）`,
        message_en: `row ${s.seq} ${src} ${formatWan(s.funding[src])} > per-unit caps ${formatWan(bound)} (${formula}) 万元`,
        figures: {
          row: s.seq,
          amount: formatWan(s.funding[src]),
          bound: formatWan(bound),
          formula,
        },
      });
    }
  });
  return out;
}

/** All budget rules; an empty list means the table is valid. */
export function checkBudget(def: ProgramDefinition): Violation[] {
  return [
    ...checkTableAddsUp(def),
    ...checkUpwardGroupShare(def),
    ...checkCentreShare(def),
    ...checkProhibitedUses(def),
    ...checkUnitCaps(def),
  ];
}
