// Milestones, acceptance, publicity, disbursement, rectification, clawback and the ledger
// (R-AC-1..5, R-FUND-5, R-FUND-7, R-FUND-8). Each route translates HTTP to a use case
// (app/delivery.ts, app/queries.ts) and back.
import { z } from 'zod';
import type { AppContext } from '../../app/context';
import * as delivery from '../../app/delivery';
import * as inputs from '../../app/inputs';
import * as queries from '../../app/queries';
import type { Api } from '../http';
import { sendFile } from '../download';
import { XLSX_TYPE } from '../../app/budget-xlsx';
import { taizhangWorkbook } from '../../app/taizhang';
import { ministryReport, ReportQuery } from '../../app/ministry-report';
import {
  AcceptanceObjectionParam,
  IDEMPOTENT_REPLAY,
  IdempotencyHeader,
  MilestoneParam,
  OptionalIdempotencyHeader,
  ProgramCode,
  SubprojectParam,
  TrancheParam,
} from '../schemas';

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
export function deliveryRoutes(api: Api, ctx: AppContext): void {
  const base = '/api/programs/:code/subprojects/:seq';

  api.route(
    {
      method: 'post',
      path: `${base}/milestones/:key/submission`,
      tags: ['delivery'],
      access: ['contractor'],
      params: MilestoneParam,
      body: inputs.SubmissionBody,
      errors: [404, 409, 422],
      status: 201,
      summary: '承办单位提交里程碑（或整改后重新提交）',
      description: '培训类分项目须提交完整培训档案，缺项则 422（R-AC-1）并列出缺少的项目。',
      response: view,
    },
    async ({ params, body, actor }) => delivery.submitMilestone(ctx, actor, params, body),
  );

  api.route(
    {
      method: 'post',
      path: `${base}/milestones/:key/pre-evaluation`,
      tags: ['delivery'],
      access: ['evaluator'],
      params: MilestoneParam,
      body: inputs.PreEvaluationBody,
      errors: [404, 409],
      summary: '第三方预评（R-AC-2）：意见、发现的问题、建议结论',
      response: view,
    },
    async ({ params, body, actor }) => delivery.preEvaluate(ctx, actor, params, body),
  );

  api.route(
    {
      method: 'post',
      path: `${base}/milestones/:key/decision`,
      tags: ['delivery'],
      access: ['office'],
      params: MilestoneParam,
      body: inputs.DecisionBody,
      errors: [404, 409, 422],
      summary: '办公室验收决定：合格 → 公示；不合格 → 整改（超过整改次数则终止、通报并追回）',
      description: '须先有第三方预评（R-AC-2）；决定人不能是提交人或预评人。',
      response: view,
    },
    async ({ params, body, actor }) => delivery.decideMilestone(ctx, actor, params, body),
  );

  api.route(
    {
      method: 'post',
      path: `${base}/milestones/:key/objections`,
      tags: ['delivery'],
      access: ['contractor', 'office', 'supervisor', 'evaluator', 'finance'],
      params: MilestoneParam,
      headers: OptionalIdempotencyHeader,
      body: inputs.AcceptanceObjectionBody,
      errors: [404, 409, 422],
      status: 201,
      alsoSuccess: [IDEMPOTENT_REPLAY],
      summary: '验收结果公示期间提出异议（暂停拨付）',
      description: '可带 Idempotency-Key：重试不会重复登记异议。',
      response: view,
    },
    async ({ params, body, actor, req }) =>
      delivery.raiseAcceptanceObjection(
        ctx,
        actor,
        params,
        body,
        OptionalIdempotencyHeader.parse(req.headers)['idempotency-key'],
      ),
  );

  api.route(
    {
      method: 'post',
      path: `${base}/milestones/:key/objections/:id/resolve`,
      tags: ['delivery'],
      access: ['office'],
      params: AcceptanceObjectionParam,
      body: inputs.AcceptanceResolveBody,
      errors: [404, 409],
      summary: '处理验收公示异议：成立则退回整改，驳回则恢复',
      response: view,
    },
    async ({ params, body, actor }) =>
      delivery.resolveAcceptanceObjection(ctx, actor, params, body),
  );

  api.route(
    {
      method: 'post',
      path: `${base}/tranches/:tranche/release`,
      tags: ['funds'],
      access: ['finance'],
      params: TrancheParam,
      headers: IdempotencyHeader,
      body: inputs.ReleaseBody,
      errors: [404, 409, 422],
      status: 201,
      alsoSuccess: [
        {
          status: 200,
          description:
            '同一 Idempotency-Key 的重复请求：返回首次拨付记录，响应头 Idempotent-Replayed: true，不再拨付',
          headers: IDEMPOTENT_REPLAY.headers,
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
      const out = await delivery.releaseTranche(ctx, actor, params, body, key);
      if (out.replayed) {
        res.locals.status = 200;
        res.setHeader('Idempotent-Replayed', 'true');
      }
      return out;
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
      body: inputs.RecoveryBody,
      errors: [404, 409, 422],
      status: 201,
      alsoSuccess: [IDEMPOTENT_REPLAY],
      summary: '财政局登记追回款（部分或全部）；全部追回后追回结清，须带 Idempotency-Key',
      description:
        '同一 Idempotency-Key 重复请求返回首次结果（200），不重复登记；同一键用于不同请求则 422 IDEMPOTENCY-MISMATCH。',
      response: view,
    },
    async ({ params, body, actor, req }) =>
      delivery.recordRecovery(
        ctx,
        actor,
        params,
        body,
        IdempotencyHeader.parse(req.headers)['idempotency-key'],
      ),
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
    async ({ params, actor }) => queries.subprojectLedger(ctx, actor, params.code, params.seq),
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
    async ({ params }) => queries.programLedger(ctx, params.code),
  );

  api.route(
    {
      method: 'get',
      path: '/api/programs/:code/reports/ministry',
      tags: ['funds'],
      access: ['office', 'finance', 'supervisor'],
      params: ProgramCode,
      query: ReportQuery,
      errors: [404],
      summary:
        '商务部农村电子商务信息系统报送表（R-FUND-9）：每个分项目一行，进度、本期与累计拨付、追回（元，精确到分）',
      description:
        'period 为月份（2020-07）或季度（2020Q3）；format=csv（缺省，UTF-8 带 BOM）或 xlsx。列见 README「The ministry report」。',
      response: {
        description: '报送表（CSV；format=xlsx 时为 Excel 工作簿）',
        contentType: ['text/csv', XLSX_TYPE],
        schema: z.string(),
      },
    },
    async ({ params, query, res }) => {
      const f = await ministryReport(ctx, params.code, query.period, query.format);
      sendFile(res, f.bytes, f.type, f.name);
    },
  );

  api.route(
    {
      method: 'get',
      path: '/api/programs/:code/taizhang.xlsx',
      tags: ['funds'],
      access: ['office', 'finance', 'supervisor'],
      params: ProgramCode,
      errors: [404],
      summary:
        '项目台账（R-PUB-2，Excel）：分项目、里程碑、资金拨付、追回与收回、文件与通知（文号）；合计与资金台账一致到分',
      response: {
        description: '项目台账',
        contentType: XLSX_TYPE,
        schema: z.string().meta({ format: 'binary' }),
      },
    },
    async ({ params, res }) =>
      sendFile(
        res,
        await taizhangWorkbook(ctx, params.code),
        XLSX_TYPE,
        `${params.code}-项目台账.xlsx`,
      ),
  );
}
