// Milestones, acceptance, publicity, disbursement, rectification, clawback and the ledger
// (R-AC-1..5, R-FUND-5, R-FUND-7, R-FUND-8).
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { z } from 'zod';
import { programAggregate, subprojectAggregate, subprojectKey } from '../../engine/aggregates';
import { DomainError } from '../../workflows/errors';
import { parseMoney, sumFen, type Fen } from '../../workflows/money';
import {
  SOURCES,
  SOURCE_NAMES,
  TRAINING_ARCHIVE_ITEMS,
  type Funding,
} from '../../workflows/program/types';
import { ledgerOf, type SubprojectLedger } from '../../workflows/subproject/delivery';
import type { SubprojectCore, SubprojectState } from '../../workflows/subproject/types';
import type { Api } from '../http';
import { ProgramCode } from '../schemas';
import type { Services } from '../services';
import { ledgerView } from '../subproject-views';
import { money } from '../views';
import { resolveFileFields } from './files';
import { programRemaining } from '../../activities/funds';
import { subprojectCommands } from './subproject-commands';
import { subprojectStatus } from '../../activities/projections/subproject';
import { SubprojectParam } from './subprojects';

const reason = z.string().max(2000).optional().meta({ description: '理由或说明（记入审计记录）' });
const sha = z
  .string()
  .regex(/^[0-9a-f]{64}$/)
  .meta({ description: '已上传文件的 SHA-256（POST /api/files 的返回值）' });
const wan = z
  .string()
  .regex(/^\d[\d,]*(\.\d+)?$/)
  .meta({ description: '金额（万元），精确到分', example: '100' });
const MilestoneParam = SubprojectParam.extend({
  key: z.string().min(1).max(20).meta({ description: '里程碑编号（承办协议中的 key）' }),
});
const TrancheParam = SubprojectParam.extend({
  tranche: z.string().min(1).max(20).meta({ description: '拨付批次编号' }),
});
const IdempotencyHeader = z.object({
  'idempotency-key': z
    .string({ error: '缺少请求头 Idempotency-Key（幂等键，例如一个 UUID）' })
    .min(1)
    .max(200)
    .meta({
      description:
        '幂等键：同一键重复请求返回首次结果（200，带 Idempotent-Replayed: true），不重复拨付',
    }),
});

const SubmissionBody = z
  .object({
    deliverable: z.string().min(1).max(5000).meta({ description: '交付内容说明' }),
    counts: z
      .record(z.string(), z.number().int().nonnegative())
      .default({})
      .meta({ description: '计数成果，如 {"town_station": 21, "trainees": 1200}' }),
    files: z.array(sha).default([]),
    archive: z
      .record(z.string(), z.array(sha).min(1))
      .optional()
      .meta({
        description: `培训类里程碑的培训档案（R-AC-1），每项至少一个文件：${Object.entries(
          TRAINING_ARCHIVE_ITEMS,
        )
          .map(([k, v]) => `${k} ${v}`)
          .join('；')}`,
      }),
  })
  .strict()
  .meta({ id: 'MilestoneSubmission' });
const PreEvaluationBody = z
  .object({
    opinion: z.string().min(1).max(20000),
    findings: z.array(z.string().min(1)).default([]),
    recommendation: z
      .enum(['accept', 'reject'])
      .meta({ description: '建议结论（决定由办公室作出）' }),
  })
  .strict()
  .meta({ id: 'PreEvaluation' });
const DecisionBody = z
  .object({
    decision: z.enum(['accept', 'reject']),
    defects: z
      .array(z.string().min(1))
      .default([])
      .meta({ description: '不合格时列出的问题（整改通知内容）' }),
    rectificationDeadline: z.iso
      .date()
      .optional()
      .meta({ description: '整改期限（缺省为项目参数 rectificationDays 天后）' }),
    reason,
  })
  .strict()
  .meta({ id: 'MilestoneDecision' });
const ObjectionBody = z.object({ text: z.string().min(1).max(5000) }).strict();
const ResolveBody = z
  .object({
    decision: z
      .enum(['upheld', 'dismissed'])
      .meta({ description: 'upheld 异议成立（退回整改）；dismissed 驳回（恢复拨付）' }),
    reason: z.string().min(1).max(2000),
  })
  .strict();
const ObjectionParam = MilestoneParam.extend({ id: z.string().regex(/^O\d+$/) });
const ReleaseBody = z
  .object({
    amount: wan.optional().meta({ description: '本次拨付金额（万元）；缺省为该批次未拨付余额' }),
    reason,
  })
  .strict()
  .meta({ id: 'ReleaseBody' });
const RecoveryBody = z
  .object({
    source: z.enum(SOURCES),
    amount: wan,
    reference: z.string().max(200).optional().meta({ description: '缴款凭证号' }),
    reason,
  })
  .strict()
  .meta({ id: 'RecoveryBody' });

const view = {
  description: '分项目（含里程碑、拨付、追回与台账）',
  schema: z
    .object({
      seq: z.number().int(),
      milestones: z.array(z.object({}).loose()),
      ledger: z.object({}).loose(),
    })
    .loose(),
};
const requestHash = (x: unknown) =>
  createHash('sha256')
    .update(canonicalize(x) ?? '')
    .digest('hex');

export function deliveryRoutes(api: Api, svc: Services): void {
  const { engine, prisma } = svc;
  const { load, guard, command } = subprojectCommands(svc);
  const base = '/api/programs/:code/subprojects/:seq';

  api.route(
    {
      method: 'post',
      path: `${base}/milestones/:key/submission`,
      tags: ['delivery'],
      access: ['contractor'],
      params: MilestoneParam,
      body: SubmissionBody,
      errors: [404, 409, 422],
      status: 201,
      summary: '承办单位提交里程碑（或整改后重新提交）',
      description: '培训类分项目须提交完整培训档案，缺项则 422（R-AC-1）并列出缺少的项目。',
      response: view,
    },
    async ({ params, body, actor }) => {
      let resolved: Awaited<ReturnType<typeof resolveFileFields>>;
      try {
        resolved = await resolveFileFields(
          svc,
          {
            files: body.files,
            ...Object.fromEntries(
              Object.entries(body.archive ?? {}).map(([k, v]) => [`archive.${k}`, v]),
            ),
          },
          actor!,
        );
      } catch (e) {
        const current = await load(params.code, params.seq); // R-TD-3 comes first: another organisation's contractor learns nothing about files
        guard(current.state.status === 'active' ? current.state : null, actor!);
        throw e;
      }
      const { files, ...cited } = resolved; // the command's precheck applies R-TD-3 on the state it decides on
      const archive = body.archive
        ? Object.fromEntries(Object.keys(body.archive).map((k) => [k, cited[`archive.${k}`]]))
        : null;
      return command(
        params.code,
        params.seq,
        {
          type: 'SubmitMilestone',
          milestone: params.key,
          deliverable: body.deliverable,
          counts: body.counts,
          files,
          archive,
        },
        actor!,
      );
    },
  );

  api.route(
    {
      method: 'post',
      path: `${base}/milestones/:key/pre-evaluation`,
      tags: ['delivery'],
      access: ['evaluator'],
      params: MilestoneParam,
      body: PreEvaluationBody,
      errors: [404, 409],
      summary: '第三方预评（R-AC-2）：意见、发现的问题、建议结论',
      response: view,
    },
    async ({ params, body, actor }) =>
      command(
        params.code,
        params.seq,
        {
          type: 'PreEvaluate',
          milestone: params.key,
          opinion: body.opinion,
          findings: body.findings,
          recommendation: body.recommendation,
        },
        actor!,
      ),
  );

  api.route(
    {
      method: 'post',
      path: `${base}/milestones/:key/decision`,
      tags: ['delivery'],
      access: ['office'],
      params: MilestoneParam,
      body: DecisionBody,
      errors: [404, 409, 422],
      summary: '办公室验收决定：合格 → 公示；不合格 → 整改（超过整改次数则终止、通报并追回）',
      description: '须先有第三方预评（R-AC-2）；决定人不能是提交人或预评人。',
      response: view,
    },
    async ({ params, body, actor }) =>
      command(
        params.code,
        params.seq,
        {
          type: 'DecideMilestone',
          milestone: params.key,
          decision: body.decision,
          defects: body.defects,
          rectificationDeadline: body.rectificationDeadline ?? null,
        },
        actor!,
        body.reason,
      ),
  );

  api.route(
    {
      method: 'post',
      path: `${base}/milestones/:key/objections`,
      tags: ['delivery'],
      access: ['contractor', 'office', 'supervisor', 'evaluator', 'finance'],
      params: MilestoneParam,
      body: ObjectionBody,
      errors: [404, 409],
      status: 201,
      summary: '验收结果公示期间提出异议（暂停拨付）',
      response: view,
    },
    async ({ params, body, actor }) =>
      command(
        params.code,
        params.seq,
        { type: 'RaiseAcceptanceObjection', milestone: params.key, text: body.text },
        actor!,
      ),
  );

  api.route(
    {
      method: 'post',
      path: `${base}/milestones/:key/objections/:id/resolve`,
      tags: ['delivery'],
      access: ['office'],
      params: ObjectionParam,
      body: ResolveBody,
      errors: [404, 409],
      summary: '处理验收公示异议：成立则退回整改，驳回则恢复',
      response: view,
    },
    async ({ params, body, actor }) =>
      command(
        params.code,
        params.seq,
        {
          type: 'ResolveAcceptanceObjection',
          milestone: params.key,
          objectionId: params.id,
          decision: body.decision,
        },
        actor!,
        body.reason,
      ),
  );

  api.route(
    {
      method: 'post',
      path: `${base}/tranches/:tranche/release`,
      tags: ['funds'],
      access: ['finance'],
      params: TrancheParam,
      headers: IdempotencyHeader,
      body: ReleaseBody,
      errors: [404, 409, 422],
      status: 201,
      alsoSuccess: [
        {
          status: 200,
          description:
            '同一 Idempotency-Key 的重复请求：返回首次拨付记录，响应头 Idempotent-Replayed: true，不再拨付',
        },
      ],
      summary: '财政局拨付一个批次（R-FUND-7），须带 Idempotency-Key',
      description:
        '只在里程碑验收合格且公示期满、无未处理异议后可拨付；不超过批次余额、分项目该来源预算和项目该来源预算。同一 Idempotency-Key 重复请求返回首次结果（200），不再拨付。',
      response: {
        description: '拨付记录',
        schema: z
          .object({
            disbursement: z
              .object({
                id: z.string(),
                amount: z.object({ fen: z.number().int(), wan: z.string() }),
              })
              .loose(),
            replayed: z.boolean(),
          })
          .loose(),
      },
    },
    async ({ params, body, actor, req, res }) => {
      const key = IdempotencyHeader.parse(req.headers)['idempotency-key'];
      const amount: Fen | null = body.amount
        ? parseMoney(body.amount, '万元', { field: 'amount' })
        : null;
      const hash = requestHash({ tranche: params.tranche, amount });
      const r = await engine.execute(
        subprojectAggregate,
        subprojectKey(params.code, params.seq),
        {
          type: 'ReleaseTranche',
          tranche: params.tranche,
          amount,
          idempotencyKey: key,
          requestHash: hash,
          programRemaining: await programRemaining(svc.pool, params.code),
        },
        {
          actor: actor!,
          reason: body.reason,
          precheck: (st) =>
            guard(
              (st as SubprojectState).status === 'active' ? (st as SubprojectCore) : null,
              actor!,
            ),
        },
      );
      if (svc.failpoint === 'after-disbursement-commit' && r.events.length)
        process.kill(process.pid, 'SIGKILL'); // crash tests only
      if (r.state.status !== 'active') throw new Error('unreachable');
      const d = r.state.delivery.disbursements.find((x) => x.idempotencyKey === key)!;
      const replayed = r.events.length === 0;
      if (replayed) {
        res.locals.status = 200;
        res.setHeader('Idempotent-Replayed', 'true');
      }
      const L = ledgerOf(r.state);
      return {
        disbursement: { ...d, amount: money(d.amount), sourceName: SOURCE_NAMES[d.source] },
        replayed,
        ledger: ledgerView(L),
      };
    },
  );

  api.route(
    {
      method: 'post',
      path: `${base}/recoveries`,
      tags: ['funds'],
      access: ['finance'],
      params: SubprojectParam,
      headers: IdempotencyHeader,
      body: RecoveryBody,
      errors: [404, 409, 422],
      status: 201,
      alsoSuccess: [{ status: 200, description: '同一 Idempotency-Key 的重复请求：不重复登记' }],
      summary: '财政局登记追回款（部分或全部）；全部追回后追回结清',
      response: view,
    },
    async ({ params, body, actor, req }) => {
      const key = IdempotencyHeader.parse(req.headers)['idempotency-key'];
      return command(
        params.code,
        params.seq,
        {
          type: 'RecordRecovery',
          source: body.source,
          amount: parseMoney(body.amount, '万元', { field: 'amount' }),
          reference: body.reference ?? null,
          idempotencyKey: key,
        },
        actor!,
        body.reason,
      );
    },
  );

  api.route(
    {
      method: 'get',
      path: `${base}/ledger`,
      tags: ['funds'],
      access: ['office', 'finance', 'supervisor', 'contractor'],
      params: SubprojectParam,
      errors: [404],
      summary: '分项目资金台账（R-FUND-8）：预算、合同、可拨付、已拨付、应追回、已追回、未追回',
      response: { description: '台账', schema: z.object({}).loose() },
    },
    async ({ params, actor }) => {
      const { state } = await load(params.code, params.seq);
      if (state.status === 'empty')
        throw new DomainError('NOT-FOUND', 'not_found', '该分项目尚未采购', 'nothing procured yet');
      guard(state, actor!);
      return { programCode: params.code, seq: params.seq, ...ledgerView(ledgerOf(state)) };
    },
  );

  api.route(
    {
      method: 'get',
      path: '/api/programs/:code/ledger',
      tags: ['funds'],
      access: ['office', 'finance', 'supervisor'],
      params: ProgramCode,
      errors: [404],
      summary: '项目资金台账（R-FUND-8）：按分项目、按来源，合计可对账',
      response: { description: '台账', schema: z.object({}).loose() },
    },
    async ({ params }) => {
      const p = await engine.read(programAggregate, params.code);
      if (p.state.status === 'empty')
        throw new DomainError(
          'NOT-FOUND',
          'not_found',
          `综合示范项目 ${params.code} 不存在`,
          `program ${params.code} not found`,
        );
      const states = await Promise.all(
        p.state.def.subprojects.map(async (sp) => ({
          sp,
          s: (await load(params.code, sp.seq)).state,
        })),
      );
      const rows = states.map(({ sp, s }) => {
        const L: SubprojectLedger = s.status === 'active' ? ledgerOf(s) : emptyLedger(sp.funding);
        return {
          seq: sp.seq,
          name: sp.name,
          status: s.status === 'active' ? subprojectStatus(s) : 'planned',
          ...ledgerView(L),
          _L: L,
        };
      });
      const total = rows.reduce<SubprojectLedger>(
        (acc, r) => addLedger(acc, r._L),
        emptyLedger({ central: 0, local: 0, enterprise: 0 }),
      );
      const entries = await prisma.ledgerEntry.count({ where: { programCode: params.code } });
      return {
        programCode: params.code,
        subprojects: rows.map(({ _L, ...r }) => r),
        ...ledgerView(total),
        entries,
      };
    },
  );
}

const zeroF = (): Funding => ({ central: 0, local: 0, enterprise: 0 });
function emptyLedger(budget: Funding): SubprojectLedger {
  return {
    budgeted: { ...budget },
    contracted: zeroF(),
    releasable: zeroF(),
    disbursed: zeroF(),
    clawbackDemanded: zeroF(),
    recovered: zeroF(),
    outstanding: zeroF(),
  };
}
function addLedger(a: SubprojectLedger, b: SubprojectLedger): SubprojectLedger {
  return Object.fromEntries(
    (Object.keys(a) as (keyof SubprojectLedger)[]).map((k) => [
      k,
      Object.fromEntries(SOURCES.map((s) => [s, sumFen([a[k][s], b[k][s]])])),
    ]),
  ) as unknown as SubprojectLedger;
}
