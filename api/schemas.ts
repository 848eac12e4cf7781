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
    attainment: z
      .array(
        z
          .object({
            id: z.string(),
            targetText: z.string(),
            value: z.string().nullable(),
            status: z.enum(['met', 'on_track', 'at_risk', 'not_met']),
          })
          .loose(),
      )
      .meta({
        description:
          'R-EV-1 各绩效目标的完成情况：met 已达成、on_track 按进度、at_risk 有风险、not_met 未达成（期限已过）',
      }),
  })
  .loose()
  .meta({ id: 'ProgramView' });

/** Marks a path parameter whose refusal is a 404 (the path names nothing), not a 400. */
export const NOT_FOUND_PARAM = 'notFound';

/** Largest value of a 4-byte integer column (subproject seq). */
export const INT4_MAX = 2_147_483_647;

/**
 * A number in a path, e.g. a subproject's seq or a notice id: canonical decimal (`^[1-9][0-9]*$`) within
 * `max` (the column's range; bigint ids within what a JavaScript number holds exactly, far beyond any
 * sequence value). Anything else (`0x1`, `1e0`, `+1`, ` 1`, `1.0`, `0b1`, `01`, 9223372036854775807)
 * addresses nothing and is a 404 naming the parameter; it never reaches a query or a decider.
 */
export function pathNumber(description: string, max: number, prefix = '') {
  const re = new RegExp(`^${prefix}[1-9][0-9]*$`);
  return z
    .string()
    .refine((s) => re.test(s) && Number(s.slice(prefix.length)) <= max, {
      params: { [NOT_FOUND_PARAM]: true },
      error: `应为 ${prefix}1 至 ${prefix}${max} 之间的规范十进制数（如 ${prefix}1，不带前导零、符号、空格或小数点）`,
    })
    .meta({ description, pattern: re.source, example: `${prefix}1` });
}

export const SubprojectParam = ProgramCode.extend({
  seq: pathNumber('分项目序号', INT4_MAX).transform(Number),
});
export const TenderObjectionParam = SubprojectParam.extend({
  id: pathNumber('异议编号', INT4_MAX, 'O'),
});
export const MilestoneParam = SubprojectParam.extend({
  key: z.string().min(1).max(20).meta({ description: '里程碑编号（承办协议中的 key）' }),
});
export const AcceptanceObjectionParam = MilestoneParam.extend({
  id: pathNumber('异议编号', INT4_MAX, 'O'),
});
export const TrancheParam = SubprojectParam.extend({
  tranche: z.string().min(1).max(20).meta({ description: '拨付批次编号' }),
});
export const ClaimParam = ProgramCode.extend({ id: pathNumber('申报编号', INT4_MAX, 'C') });
export const FindingParam = ProgramCode.extend({ id: pathNumber('问题编号', INT4_MAX, 'F') });
export const ReportParam = ProgramCode.extend({ id: pathNumber('举报编号', INT4_MAX, 'R') });
/** A notice or mail id (bigint column). */
export const IdParam = z.object({
  id: pathNumber('编号', Number.MAX_SAFE_INTEGER).transform(Number),
});
export const GateParam = ProgramCode.extend({
  gate: z.enum(GATE_KEYS as [GateKey, ...GateKey[]]).meta({ description: '关口' }),
});

const IDEMPOTENCY_TEXT =
  '幂等键（例如一个 UUID）：同一用户以同一键、同一请求重复提交，返回首次结果（200，响应头 Idempotent-Replayed: true），不重复执行；同一键用于不同请求则 422 IDEMPOTENCY-MISMATCH，且不执行';

/** Required on every money-moving command: the same key answers the first result and moves no money twice. */
export const IdempotencyHeader = z.object({
  'idempotency-key': z
    .string({ error: '缺少请求头 Idempotency-Key（幂等键，例如一个 UUID）' })
    .min(1)
    .max(200)
    .meta({ description: IDEMPOTENCY_TEXT }),
});

/** Optional on the commands that create a record (findings, objections, claims): with a key, a client's
 * retry answers the first result instead of creating the record twice; without one, nothing changes. */
export const OptionalIdempotencyHeader = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(200)
    .optional()
    .meta({
      description: `${IDEMPOTENCY_TEXT}。可选：不带此请求头时每次请求都会新建一条记录`,
    }),
});

/** The 200 answer of a replayed request, documented beside a creating command's 201. */
export const IDEMPOTENT_REPLAY = {
  status: 200,
  description:
    '同一 Idempotency-Key 的重复请求：返回首次结果，响应头 Idempotent-Replayed: true，不重复执行',
  headers: {
    'Idempotent-Replayed': {
      description: '重放首次结果时为 true',
      schema: { type: 'string', enum: ['true'] },
    },
  },
} as const;

export const TasksQuery = z
  .object({
    page: z.coerce
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .default(1)
      .meta({ description: '页码（从 1 起）' }),
  })
  .strict();
export const TasksResponse = z.object({
  total: z.number().int(),
  page: z.number().int(),
  pages: z.number().int(),
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
