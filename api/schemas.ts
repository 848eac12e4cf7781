// Path parameters, headers and response shapes of the HTTP API (the inputs a use case takes are in
// app/inputs.ts; the program table schema lives with its decider).
import { z } from 'zod';
import { GATE_KEYS, ROLES, type GateKey } from '../workflows/program/types';
import { TASK_KINDS, type TaskKind } from '../workflows/tasks';

export const ProgramCode = z.object({
  code: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{1,62}$/)
    .meta({ description: '项目代码', example: 'tengzhou-2019' }),
});

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

export const SubprojectParam = ProgramCode.extend({
  seq: z.coerce.number().int().positive().meta({ description: '分项目序号' }),
});
export const TenderObjectionParam = SubprojectParam.extend({ id: z.string().regex(/^O\d+$/) });
export const MilestoneParam = SubprojectParam.extend({
  key: z.string().min(1).max(20).meta({ description: '里程碑编号（承办协议中的 key）' }),
});
export const AcceptanceObjectionParam = MilestoneParam.extend({ id: z.string().regex(/^O\d+$/) });
export const TrancheParam = SubprojectParam.extend({
  tranche: z.string().min(1).max(20).meta({ description: '拨付批次编号' }),
});
export const ClaimParam = ProgramCode.extend({ id: z.string().regex(/^C\d+$/) });
export const FindingParam = ProgramCode.extend({ id: z.string().regex(/^F\d+$/) });
export const GateParam = ProgramCode.extend({
  gate: z.enum(GATE_KEYS as [GateKey, ...GateKey[]]).meta({ description: '关口' }),
});

/** Required on every money-moving command: the same key answers the first result and moves no money twice. */
export const IdempotencyHeader = z.object({
  'idempotency-key': z
    .string({ error: '缺少请求头 Idempotency-Key（幂等键，例如一个 UUID）' })
    .min(1)
    .max(200)
    .meta({
      description:
        '幂等键：同一键重复请求返回首次结果（200，带 Idempotent-Replayed: true），不重复拨付',
    }),
});

export const TasksResponse = z.object({
  total: z.number().int(),
  tasks: z.array(
    z.object({
      kind: z.enum(Object.keys(TASK_KINDS) as [TaskKind, ...TaskKind[]]),
      what: z.string(),
      programCode: z.string(),
      programName: z.string(),
      seq: z.number().int().nullable(),
      subprojectName: z.string().nullable(),
      since: z.string().nullable(),
      due: z.string().nullable(),
      daysLeft: z.number().int().nullable(),
      overdue: z.boolean(),
      href: z.string(),
    }),
  ),
});
