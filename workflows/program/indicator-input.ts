// The budget table's form of a target (R-EV-1), as zod parses it (the deciders never import zod: the
// definition's form and the checks are indicators.ts).
import { z } from 'zod';
import {
  MEASURES,
  METRICS,
  type Comparison,
  type Indicator,
  type Measure,
  type Metric,
} from './indicators';

const DECIMAL = /^\d{1,12}(\.\d{1,2})?$/;
const decimal = z
  .union([z.string().trim(), z.number().nonnegative()])
  .transform((v) => (typeof v === 'number' ? String(v) : v))
  .pipe(z.string().regex(DECIMAL, '应为非负数，最多两位小数，如 "70" 或 "0.5"'));

/** An indicator as the budget table gives it (≥ / ≤ / = or >= / <= / =). */
export const IndicatorInput = z
  .object({
    id: z
      .string()
      .regex(
        /^[a-z][a-z0-9_]{0,39}$/,
        '指标编号：小写字母开头，字母、数字、下划线，如 village_points',
      )
      .meta({ description: '指标编号（项目内唯一）', example: 'village_points' }),
    name: z.string().trim().min(1).max(100).meta({ example: '村级电商服务点' }),
    unit: z.string().trim().min(1).max(20).meta({ description: '单位，如 个、%、人次、小时、天' }),
    baseline: decimal.optional().meta({ description: '基期值' }),
    comparison: z
      .enum(['>=', '<=', '=', '≥', '≤'])
      .transform((c): Comparison => (c === '≥' ? '>=' : c === '≤' ? '<=' : c))
      .meta({ description: '目标比较：≥（>=）不低于；≤（<=）不超过；= 等于' }),
    target: decimal.meta({ description: '目标值', example: '240' }),
    due: z.iso.date().optional().meta({ description: '完成期限（北京时间当日）；缺省为项目结束' }),
    measure: z.enum(Object.keys(MEASURES) as [Measure, ...Measure[]]).meta({
      description: Object.entries(MEASURES)
        .map(([k, v]) => `${k} ${v}`)
        .join('；'),
    }),
    metric: z
      .enum(Object.keys(METRICS) as [Metric, ...Metric[]])
      .optional()
      .meta({
        description: `measure 为 register 时，由台账计算的数字：${Object.entries(METRICS)
          .map(([k, v]) => `${k} ${v.name}`)
          .join('；')}`,
      }),
    of: z
      .number()
      .int()
      .positive()
      .optional()
      .meta({ description: '覆盖率的分母：行政村总数或贫困村总数' }),
    public: z.boolean().optional().meta({ description: '在综合示范工作专栏公开' }),
  })
  .strict()
  .meta({ id: 'Indicator', description: '绩效目标（R-EV-1）' });
export type IndicatorInputParsed = z.output<typeof IndicatorInput>;

/** The definition's form of a parsed indicator: only what the table states (so tables stay comparable). */
export function indicatorFromInput(i: IndicatorInputParsed, seq?: number): Indicator {
  return {
    id: i.id,
    name: i.name,
    unit: i.unit,
    baseline: i.baseline ?? null,
    comparison: i.comparison,
    target: i.target,
    due: i.due ?? null,
    measure: i.measure,
    ...(i.metric ? { metric: i.metric } : {}),
    ...(i.of !== undefined ? { of: i.of } : {}),
    ...(i.public !== undefined ? { public: i.public } : {}),
    ...(seq !== undefined ? { seq } : {}),
  };
}

/** Back to the table's form (tableFromDefinition: a program's table read back imports again). */
export function indicatorToInput(i: Indicator): IndicatorInputParsed {
  return {
    id: i.id,
    name: i.name,
    unit: i.unit,
    ...(i.baseline !== null ? { baseline: i.baseline } : {}),
    comparison: i.comparison,
    target: i.target,
    ...(i.due !== null ? { due: i.due } : {}),
    measure: i.measure,
    ...(i.metric ? { metric: i.metric } : {}),
    ...(i.of !== undefined ? { of: i.of } : {}),
    ...(i.public !== undefined ? { public: i.public } : {}),
  };
}
