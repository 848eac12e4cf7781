// Request/response schemas shared by routes (the program table schema lives with its decider).
import { z } from 'zod';
import { GATE_KEYS, ROLES, type GateKey } from '../workflows/program/types';

export const ProgramCode = z.object({
  code: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{1,62}$/)
    .meta({ description: '项目代码', example: 'tengzhou-2019' }),
});

export const DocumentRef = z
  .object({
    title: z
      .string()
      .min(1)
      .max(300)
      .meta({ description: '文件名称', example: '滕州市电子商务进农村综合示范实施方案' }),
    number: z
      .string()
      .max(100)
      .optional()
      .meta({ description: '文号', example: '滕商字〔2019〕12号' }),
    date: z.iso.date().optional().meta({ description: '成文日期' }),
    url: z.url().optional(),
  })
  .strict()
  .meta({ id: 'DocumentRef', description: '依据文件' });

const reason = z.string().max(2000).optional().meta({ description: '理由或说明（记入审计记录）' });

export const GateActBody = z
  .object({ document: DocumentRef, reason })
  .strict()
  .meta({ id: 'GateActBody' });
export const GateParam = ProgramCode.extend({
  gate: z.enum(GATE_KEYS as [GateKey, ...GateKey[]]).meta({ description: '关口' }),
});
export const AdvanceBody = z
  .object({
    to: z
      .string()
      .min(1)
      .meta({ description: '下一阶段的键；最后阶段之后为 closed', example: 'implement' }),
    reason,
  })
  .strict()
  .meta({ id: 'AdvanceBody' });
export const FindingBody = z
  .object({
    origin: z
      .enum(['self_check', 'provincial'])
      .meta({ description: 'self_check 自查发现；provincial 省级绩效评价发现' }),
    title: z.string().min(1).max(500),
    due: z.iso.date().optional(),
    reason,
  })
  .strict()
  .meta({ id: 'FindingBody' });
export const FindingParam = ProgramCode.extend({ id: z.string().regex(/^F\d+$/) });
export const CloseFindingBody = z
  .object({ document: DocumentRef, reason })
  .strict()
  .meta({ id: 'CloseFindingBody' });

export const LoginBody = z
  .object({ username: z.string().min(1).max(64), password: z.string().min(1).max(200) })
  .strict()
  .meta({ id: 'LoginBody' });
export const LoginResponse = z
  .object({
    token: z.string(),
    tokenType: z.literal('Bearer'),
    expiresAt: z.string(),
    user: z.object({ username: z.string(), role: z.enum(ROLES), org: z.string().nullable() }),
  })
  .meta({ id: 'LoginResponse' });

export const Money = z
  .object({
    fen: z.number().int().meta({ description: '金额（分）' }),
    wan: z.string().meta({ description: '金额（万元）' }),
  })
  .meta({ id: 'Money' });

// Response shapes are documented loosely (objects); the view builders in api/views.ts are the truth.
export const ProgramViewSchema = z
  .object({
    code: z.string(),
    name: z.string(),
    version: z.number().int(),
    status: z.enum(['active', 'closed']),
    phase: z
      .object({
        key: z.string(),
        name: z.string(),
        index: z.number().int(),
        start: z.string().nullable(),
        end: z.string().nullable(),
        enteredAt: z.string(),
      })
      .nullable(),
    overdue: z
      .object({ phase: z.string(), end: z.string(), days: z.number().int() })
      .nullable()
      .meta({ description: 'R-PH-3 当前阶段超期' }),
    gates: z.array(
      z
        .object({
          key: z.string(),
          name: z.string(),
          kind: z.enum(['act', 'computed']),
          open: z.boolean(),
        })
        .loose(),
    ),
    budget: z.object({
      bySource: z.array(
        z.object({ source: z.string(), name: z.string(), fen: z.number().int(), wan: z.string() }),
      ),
      total: Money,
    }),
    subprojects: z.array(
      z.object({ seq: z.number().int(), name: z.string(), status: z.string() }).loose(),
    ),
  })
  .loose()
  .meta({ id: 'ProgramView' });
