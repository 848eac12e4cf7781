// The budget table as counties publish it (the JSON of examples/*.json): zod schema + conversion to a
// ProgramDefinition in fen. Shape errors are 400s with field paths; rule checks (R-FUND-*) come after.
import { z } from 'zod';
import { DomainError, type Violation } from '../errors';
import { DOC_PREFIX_PATTERN } from '../notices';
import { formatMoney, formatWan, parseMoney, type Fen, type MoneyUnit } from '../money';
import { indicatorFromInput, IndicatorInput, indicatorToInput } from './indicator-input';
import {
  DEFAULT_PHASES,
  DEFAULT_POLICY,
  DIRECTIONS,
  GATE_KEYS,
  PROCUREMENTS,
  SOURCES,
  type Funding,
  type GateKey,
  type Policy,
  type ProgramDefinition,
  type Source,
} from './types';

const date = z.iso.date().meta({ description: '日期 YYYY-MM-DD（北京时间）' });
const amount = z
  .union([
    z.string().regex(/^\s*\d[\d,]*(\.\d+)?\s*$/, '金额应为非负十进制数字，如 "141" 或 "0.5"'),
    z.number().nonnegative(),
  ])
  .meta({ description: '金额，单位见 unit（默认万元），十进制字符串，精确到分', example: '141' });
const percent = z.string().regex(/^\d{1,3}(\.\d{1,2})?$/, '百分比如 "15" 或 "49.9"');

/** A published phone number, optionally after who answers it: "12312", "石城县商务局 0797-5792681". */
const phone = z
  .string()
  .max(60)
  .regex(
    /^(?:\S(?:.{0,38}\S)?\s)?\d[\d-]{3,18}\d$/,
    '举报电话应为号码（可在前面写明受理单位并空一格），如 "石城县商务局 0797-5792681" 或 "12312"',
  )
  .meta({ description: '举报监督电话（可带受理单位）', example: '石城县商务局 0797-5792681' });
const contact = (description: string) => z.string().trim().min(1).max(200).meta({ description });

const capFields = {
  item: z.string().min(1),
  name: z.string().min(1),
  source: z.enum(SOURCES).default('central'),
};

const funding = z
  .object({
    central: amount,
    local: amount,
    enterprise: amount,
    total: amount.optional().meta({ description: '本行合计（可选；给出时校验 R-FUND-1）' }),
  })
  .strict();

export const ProgramTable = z
  .object({
    code: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{1,62}$/, '项目代码：小写字母、数字和连字符，如 tengzhou-2019')
      .meta({ description: '项目代码（唯一）', example: 'tengzhou-2019' }),
    name: z.string().min(1).max(200),
    province: z.string().min(1),
    county: z.string().min(1),
    docPrefix: z
      .string()
      .regex(DOC_PREFIX_PATTERN, '机关代字应为2～12个汉字，如 滕商务')
      .optional()
      .meta({
        description:
          '发文机关代字（文号前缀，文号为「机关代字〔年份〕序号号」，序号按机关代字和年份连续编排）；缺省为县名首字 + 商务，如 滕州市 → 滕商务',
        example: '滕商务',
      }),
    year: z.number().int().min(2000).max(2100),
    disclosure: z
      .object({
        phones: z
          .array(phone)
          .max(6)
          .meta({ description: '举报监督电话，按公布的顺序；为空时使用全国统一的 12312' }),
        mailbox: contact('举报信箱（电子邮箱或通信地址）').optional(),
        address: contact('办公地址').optional(),
        office: contact('受理单位（领导小组办公室及其所在部门）').optional(),
      })
      .strict()
      .optional()
      .meta({
        description:
          '信息公开（R-PUB-1）：综合示范工作专栏和「全国电子商务进农村综合示范项目」标识上的举报电话与联系方式',
      }),
    unit: z.enum(['万元', '元']).default('万元'),
    phases: z
      .array(
        z
          .object({
            key: z.string().regex(/^[a-z][a-z0-9_]*$/, '阶段键：小写字母、数字、下划线'),
            name: z.string().min(1),
            start: date.nullable().optional(),
            end: date.nullable().optional(),
            gates: z.array(z.enum(GATE_KEYS as [GateKey, ...GateKey[]])).optional(),
          })
          .strict(),
      )
      .min(1)
      .optional()
      .meta({ description: '阶段计划（缺省为滕州的四阶段：启动筹备→组织实施→绩效评价→总结提升）' }),
    // a cap is either per unit or on average, never both: two exclusive shapes, so that /openapi.json
    // says so (oneOf) instead of a check it cannot express
    unitCaps: z
      .array(
        z.union(
          [
            z
              .object({ ...capFields, maxPerUnit: amount.meta({ description: '每个单位至多' }) })
              .strict(),
            z
              .object({
                ...capFields,
                maxAveragePerUnit: amount.meta({ description: '平均每个单位至多' }),
              })
              .strict(),
          ],
          { error: 'maxPerUnit 与 maxAveragePerUnit 必须且只能给出一个（且不能有其他字段）' },
        ),
      )
      .default([])
      .meta({
        description:
          '单位补助上限（R-FUND-5）：每项给出 maxPerUnit（每个至多）或 maxAveragePerUnit（平均至多），二者只能给一个',
      }),
    parcelSubsidy: z
      .object({
        perParcelYuan: amount,
        perBusinessPerYear: amount,
        total: amount,
        reviewEvery: z.enum(['quarter', 'month', 'year']).default('quarter'),
        eligible: z.string().default('outbound_rural_products'),
      })
      .strict()
      .optional(),
    subprojects: z
      .array(
        z
          .object({
            seq: z.number().int().positive(),
            name: z.string().min(1),
            direction: z.enum(Object.keys(DIRECTIONS) as [keyof typeof DIRECTIONS]),
            procurement: z.enum(Object.keys(PROCUREMENTS) as [keyof typeof PROCUREMENTS]),
            start: date.optional(),
            deadline: date.optional(),
            goal: z.string().default(''),
            targets: z
              .array(
                z
                  .object({ item: z.string().min(1), count: z.number().int().nonnegative() })
                  .strict(),
              )
              .default([]),
            uses: z
              .array(z.string().min(1))
              .default([])
              .meta({ description: '中央资金的申报用途（R-FUND-4 据此检查禁止用途）' }),
            indicators: z
              .array(IndicatorInput)
              .max(50)
              .optional()
              .meta({ description: '本分项目的绩效目标（R-EV-1），可选' }),
            funding,
          })
          .strict(),
      )
      .min(1),
    totals: z
      .object({ central: amount, local: amount, enterprise: amount, total: amount })
      .strict(),
    indicators: z.array(IndicatorInput).max(100).optional().meta({
      description:
        '绩效目标（R-EV-1）：指标、单位、基期值、目标值（≥ / ≤ / =）、期限与计量方式（建设台账、承办企业报送或录入附证明）；可选',
    }),
    policy: z
      .object({
        upwardGroupDirections: z
          .array(z.enum(Object.keys(DIRECTIONS) as [keyof typeof DIRECTIONS]))
          .min(1)
          .optional(),
        upwardGroupMinPercent: percent.optional(),
        centreDirections: z
          .array(z.enum(Object.keys(DIRECTIONS) as [keyof typeof DIRECTIONS]))
          .min(1)
          .optional(),
        centreMaxPercent: percent.optional(),
        prohibitedCentralUses: z.array(z.string()).optional(),
        minBiddingDays: z.number().int().min(1).optional(),
        minValidBids: z.number().int().min(1).optional(),
        candidatePublicityDays: z.number().int().min(1).optional(),
        acceptancePublicityDays: z.number().int().min(1).optional(),
        maxRectificationRounds: z.number().int().min(0).optional(),
        rectificationDays: z.number().int().min(1).optional(),
        clawbackDays: z.number().int().min(1).optional(),
        trainingArchive: z.array(z.string().min(1)).min(1).optional(),
      })
      .strict()
      .optional()
      .meta({ description: '政策参数（缺省为2019年全国规则）' }),
  })
  .strict() // an unknown field is a mistake (a misspelt `totals`, a field of another version), said so
  .superRefine((t, ctx) => {
    const seqs = new Set<number>();
    t.subprojects.forEach((s, i) => {
      if (seqs.has(s.seq))
        ctx.addIssue({
          code: 'custom',
          path: ['subprojects', i, 'seq'],
          message: `分项目序号 ${s.seq} 重复`,
        });
      seqs.add(s.seq);
    });
    const keys = new Set<string>();
    t.phases?.forEach((p, i) => {
      if (keys.has(p.key))
        ctx.addIssue({
          code: 'custom',
          path: ['phases', i, 'key'],
          message: `阶段键 ${p.key} 重复`,
        });
      keys.add(p.key);
      if (p.start && p.end && p.end < p.start)
        ctx.addIssue({
          code: 'custom',
          path: ['phases', i, 'end'],
          message: '阶段结束日期早于开始日期',
        });
    });
  })
  .meta({
    id: 'ProgramTable',
    description: '综合示范项目资金安排表（与 examples/*.json 相同的格式）',
  });
export type ProgramTableInput = z.input<typeof ProgramTable>;
export type ProgramTableParsed = z.output<typeof ProgramTable>;

const bp = (pct: string) => Math.round(Number(pct) * 100); // "49.9" → 4990 (≤ 2 decimals by the schema)

/** The policy as a budget table states it (the names and units the import takes: percentages as
 * strings), so what the API answers can be sent back as it is (issue 12.8). */
export function policyAsTable(p: Policy) {
  const { upwardGroupMinBp, centreMaxBp, ...rest } = p;
  const percent = (b: number) => String(b / 100); // 4990 → "49.9"
  return {
    ...rest,
    upwardGroupMinPercent: percent(upwardGroupMinBp),
    centreMaxPercent: percent(centreMaxBp),
  };
}

/** A definition as the table gives it: with the 机关代字 when the table names one (the dispatcher
 * otherwise derives it from the county, activities/notify/dispatch.ts), so that tables without it make
 * the same ProgramCreated event as before. */
export type TableDefinition = ProgramDefinition & { docPrefix?: string };

/** Converts a parsed table to fen. Every money format problem is reported at once (400, with fields). */
export function definitionFromTable(t: ProgramTableParsed): TableDefinition {
  const unit: MoneyUnit = t.unit;
  const problems: Violation[] = [];
  const money = (v: string | number, field: string, u: MoneyUnit = unit): Fen => {
    try {
      return parseMoney(v, u, { field });
    } catch (e) {
      if (e instanceof DomainError) {
        problems.push(...e.violations);
        return 0;
      }
      throw e;
    }
  };
  const fund = (f: Record<Source, string | number>, path: string): Funding => ({
    central: money(f.central, `${path}.central`),
    local: money(f.local, `${path}.local`),
    enterprise: money(f.enterprise, `${path}.enterprise`),
  });
  const p = t.policy ?? {};
  const policy: Policy = {
    ...DEFAULT_POLICY,
    ...Object.fromEntries(
      Object.entries(p).filter(([k, v]) => v !== undefined && !k.endsWith('Percent')),
    ),
    ...(p.upwardGroupMinPercent ? { upwardGroupMinBp: bp(p.upwardGroupMinPercent) } : {}),
    ...(p.centreMaxPercent ? { centreMaxBp: bp(p.centreMaxPercent) } : {}),
  };
  const def: TableDefinition = {
    code: t.code,
    name: t.name,
    province: t.province,
    county: t.county,
    ...(t.docPrefix ? { docPrefix: t.docPrefix } : {}),
    year: t.year,
    phases: t.phases
      ? t.phases.map((ph) => ({
          key: ph.key,
          name: ph.name,
          start: ph.start ?? null,
          end: ph.end ?? null,
          ...(ph.gates ? { gates: ph.gates } : {}),
        }))
      : DEFAULT_PHASES,
    unitCaps: t.unitCaps.map((c, i) => ({
      item: c.item,
      name: c.name,
      source: c.source,
      ...('maxPerUnit' in c
        ? { maxPerUnit: money(c.maxPerUnit, `unitCaps[${i}].maxPerUnit`) }
        : { maxAveragePerUnit: money(c.maxAveragePerUnit, `unitCaps[${i}].maxAveragePerUnit`) }),
    })),
    parcelSubsidy: t.parcelSubsidy
      ? {
          perParcel: money(t.parcelSubsidy.perParcelYuan, 'parcelSubsidy.perParcelYuan', '元'),
          perBusinessPerYear: money(
            t.parcelSubsidy.perBusinessPerYear,
            'parcelSubsidy.perBusinessPerYear',
          ),
          total: money(t.parcelSubsidy.total, 'parcelSubsidy.total'),
          reviewEvery: t.parcelSubsidy.reviewEvery,
          eligible: t.parcelSubsidy.eligible,
        }
      : null,
    subprojects: [...t.subprojects]
      .sort((a, b) => a.seq - b.seq)
      .map((s) => {
        const i = t.subprojects.indexOf(s);
        return {
          seq: s.seq,
          name: s.name,
          direction: s.direction,
          procurement: s.procurement,
          start: s.start ?? null,
          deadline: s.deadline ?? null,
          goal: s.goal,
          targets: s.targets,
          uses: s.uses,
          // only when the table states them, so that tables without them make the same event as before
          ...(s.indicators
            ? { indicators: s.indicators.map((x) => indicatorFromInput(x, s.seq)) }
            : {}),
          funding: fund(s.funding, `subprojects[${i}].funding`),
          declaredTotal:
            s.funding.total !== undefined
              ? money(s.funding.total, `subprojects[${i}].funding.total`)
              : null,
        };
      }),
    totals: { ...fund(t.totals, 'totals'), total: money(t.totals.total, 'totals.total') },
    policy,
    ...(t.indicators ? { indicators: t.indicators.map((x) => indicatorFromInput(x)) } : {}),
    // only when the table states it, so that tables without it make the same ProgramCreated event
    ...(t.disclosure
      ? {
          disclosure: {
            phones: t.disclosure.phones,
            ...(t.disclosure.mailbox ? { mailbox: t.disclosure.mailbox } : {}),
            ...(t.disclosure.address ? { address: t.disclosure.address } : {}),
            ...(t.disclosure.office ? { office: t.disclosure.office } : {}),
          },
        }
      : {}),
  };
  if (problems.length) {
    throw new DomainError(
      'MONEY-FORMAT',
      'invalid',
      problems.map((v) => v.message).join('；'),
      problems.map((v) => v.message_en).join('; '),
      { violations: problems },
    );
  }
  return def;
}

const wan = (fen: Fen) => formatWan(fen);

/** The budget table of a definition, in 万元 (the inverse of definitionFromTable): a program's table read
 * back, exported (as JSON or XLSX) and imported again gives the same definition. */
export function tableFromDefinition(d: TableDefinition): ProgramTableParsed {
  const { upwardGroupMinPercent, centreMaxPercent, ...policy } = policyAsTable(d.policy);
  return {
    code: d.code,
    name: d.name,
    province: d.province,
    county: d.county,
    ...(d.docPrefix ? { docPrefix: d.docPrefix } : {}),
    year: d.year,
    ...(d.disclosure ? { disclosure: { ...d.disclosure } } : {}),
    unit: '万元',
    phases: d.phases.map((p) => ({
      key: p.key,
      name: p.name,
      start: p.start,
      end: p.end,
      ...(p.gates ? { gates: [...p.gates] } : {}),
    })),
    unitCaps: d.unitCaps.map((c) => {
      const base = { item: c.item, name: c.name, source: c.source };
      return c.maxPerUnit !== undefined
        ? { ...base, maxPerUnit: wan(c.maxPerUnit) }
        : { ...base, maxAveragePerUnit: wan(c.maxAveragePerUnit ?? 0) };
    }),
    ...(d.parcelSubsidy
      ? {
          parcelSubsidy: {
            perParcelYuan: formatMoney(d.parcelSubsidy.perParcel, '元'),
            perBusinessPerYear: wan(d.parcelSubsidy.perBusinessPerYear),
            total: wan(d.parcelSubsidy.total),
            reviewEvery: d.parcelSubsidy.reviewEvery as 'quarter' | 'month' | 'year',
            eligible: d.parcelSubsidy.eligible,
          },
        }
      : {}),
    subprojects: d.subprojects.map((s) => ({
      seq: s.seq,
      name: s.name,
      direction: s.direction,
      procurement: s.procurement,
      ...(s.start ? { start: s.start } : {}),
      ...(s.deadline ? { deadline: s.deadline } : {}),
      goal: s.goal,
      targets: s.targets.map((t) => ({ ...t })),
      uses: [...s.uses],
      ...(s.indicators?.length ? { indicators: s.indicators.map(indicatorToInput) } : {}),
      funding: {
        central: wan(s.funding.central),
        local: wan(s.funding.local),
        enterprise: wan(s.funding.enterprise),
        ...(s.declaredTotal !== null ? { total: wan(s.declaredTotal) } : {}),
      },
    })),
    totals: {
      central: wan(d.totals.central),
      local: wan(d.totals.local),
      enterprise: wan(d.totals.enterprise),
      total: wan(d.totals.total),
    },
    policy: { ...policy, upwardGroupMinPercent, centreMaxPercent },
    ...(d.indicators?.length ? { indicators: d.indicators.map(indicatorToInput) } : {}),
  };
}
