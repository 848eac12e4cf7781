// Programs: create from a budget table, read, record gate acts, advance phases, findings, audit trail.
// Each route translates HTTP to a use case (app/programs.ts, app/queries.ts) and back.
import { z } from 'zod';
import type { AppContext } from '../../app/context';
import {
  AdvanceBody,
  AnswerReportBody,
  CloseFindingBody,
  FindingBody,
  GateActBody,
} from '../../app/inputs';
import { FundUseBody } from '../../app/fund-use';
import * as programs from '../../app/programs';
import * as queries from '../../app/queries';
import { MAX_XLSX_BYTES, XLSX_TYPE } from '../../app/budget-xlsx';
import { ProgramTable } from '../../workflows/program/table';
import type { Api } from '../http';
import { sendFile } from '../download';
import {
  FindingParam,
  ReportParam,
  GateParam,
  IDEMPOTENT_REPLAY,
  OptionalIdempotencyHeader,
  ProgramCode,
  ProgramViewSchema,
} from '../schemas';

export function programRoutes(api: Api, ctx: AppContext): void {
  api.route(
    {
      method: 'post',
      path: '/api/programs',
      tags: ['programs'],
      access: ['office'],
      status: 201,
      summary: '创建综合示范项目（导入资金安排表）',
      description:
        '请求体即 examples/*.json 的格式（金额为万元字符串）。资金安排表须符合 R-FUND-1～5，否则 422 并列出全部违反的规则与数字，且不保存任何内容。',
      body: ProgramTable,
      errors: [409, 422],
      response: { description: '已创建', schema: ProgramViewSchema },
    },
    async ({ body, actor, res }) => {
      const { code, outcome } = await programs.importProgram(ctx, actor, body);
      res.setHeader('Location', `/api/programs/${code}`);
      return outcome;
    },
  );

  api.route(
    {
      method: 'post',
      path: '/api/programs/xlsx',
      tags: ['programs'],
      access: ['office'],
      status: 201,
      summary: '创建综合示范项目（导入 Excel 资金安排表）',
      description: `请求体为 .xlsx 文件本身（版式见 GET /api/programs/xlsx/template：标题行、合并表头、单位万元、每个分项目一行、合计行；另有「项目信息」等工作表）。表头措辞、空行、文本格式的数字、标题或表头中写明的「万元」「元」均可识别；公式、跨金额列的合并单元格、缺少合计行、加密或非 xlsx 文件拒绝。检查与结果同 POST /api/programs；每个问题写明工作表与单元格（如 资金安排表!I7: R-FUND-2 …），不保存任何内容。不超过 ${MAX_XLSX_BYTES / 1024 / 1024} MB。`,
      rawBody: {
        contentTypes: [XLSX_TYPE, 'application/octet-stream'],
        description: 'Excel 工作簿（.xlsx），不超过 5 MB',
        maxBytes: MAX_XLSX_BYTES,
      },
      errors: [409, 413, 422],
      response: { description: '已创建', schema: ProgramViewSchema },
    },
    async ({ req, actor, res }) => {
      const body: unknown = req.body; // express.raw (api/app.ts): the bytes, or nothing
      const { code, outcome } = await programs.importProgramXlsx(
        ctx,
        actor,
        Buffer.isBuffer(body) ? body : Buffer.alloc(0),
      );
      res.setHeader('Location', `/api/programs/${code}`);
      return outcome;
    },
  );

  api.route(
    {
      method: 'get',
      path: '/api/programs/xlsx/template',
      tags: ['programs'],
      access: 'authenticated',
      summary: '下载资金安排表 Excel 模板（POST /api/programs/xlsx 读取的版式，含填写说明）',
      response: {
        description: '模板',
        contentType: XLSX_TYPE,
        schema: z.string().meta({ format: 'binary' }),
      },
    },
    async ({ res }) =>
      sendFile(res, await programs.budgetTemplateXlsx(), XLSX_TYPE, '资金安排表模板.xlsx'),
  );

  api.route(
    {
      method: 'get',
      path: '/api/programs/:code/table.xlsx',
      tags: ['programs'],
      access: 'authenticated',
      params: ProgramCode,
      errors: [404],
      summary: '下载项目的资金安排表（Excel；再导入得到同一项目）',
      response: {
        description: '资金安排表',
        contentType: XLSX_TYPE,
        schema: z.string().meta({ format: 'binary' }),
      },
    },
    async ({ params, res }) =>
      sendFile(
        res,
        await programs.programTableXlsx(ctx, params.code),
        XLSX_TYPE,
        `${params.code}-资金安排表.xlsx`,
      ),
  );

  api.route(
    {
      method: 'get',
      path: '/api/programs',
      tags: ['programs'],
      access: 'authenticated',
      summary: '项目列表（含当前阶段与超期情况）',
      response: {
        description: '项目列表',
        schema: z.object({
          items: z.array(
            z
              .object({
                code: z.string(),
                name: z.string(),
                phaseKey: z.string(),
                phaseName: z.string(),
                overdueDays: z.number().int().nullable(),
              })
              .loose(),
          ),
        }),
      },
    },
    async () => queries.listPrograms(ctx),
  );

  api.route(
    {
      method: 'get',
      path: '/api/programs/:code',
      tags: ['programs'],
      access: 'authenticated',
      params: ProgramCode,
      errors: [404],
      summary: '项目详情：阶段、关口、分项目、分来源预算',
      response: { description: '项目', schema: ProgramViewSchema },
    },
    async ({ params }) => queries.programDetail(ctx, params.code),
  );

  api.route(
    {
      method: 'post',
      path: '/api/programs/:code/gates/:gate',
      tags: ['programs'],
      access: ['office'],
      params: GateParam,
      body: GateActBody,
      errors: [404, 409],
      summary: '登记关口事项（如实施方案备案、成立领导小组）',
      description:
        '只能登记当前阶段的、需人工登记的关口；计算型关口（如资金安排表合规）由系统判定。',
      response: { description: '更新后的项目', schema: ProgramViewSchema },
    },
    async ({ params, body, actor }) => programs.recordGateAct(ctx, actor, params, body),
  );

  api.route(
    {
      method: 'post',
      path: '/api/programs/:code/advance',
      tags: ['programs'],
      access: ['office'],
      params: ProgramCode,
      body: AdvanceBody,
      errors: [404, 409],
      summary: '进入下一阶段',
      description:
        'R-PH-1 只能按顺序进入下一阶段；R-PH-2 当前阶段的关口全部完成才可推进，否则 409 并列出未完成的关口。',
      response: { description: '更新后的项目', schema: ProgramViewSchema },
    },
    async ({ params, body, actor }) => programs.advancePhase(ctx, actor, params, body),
  );

  api.route(
    {
      method: 'post',
      path: '/api/programs/:code/findings',
      tags: ['programs'],
      access: ['office'],
      params: ProgramCode,
      headers: OptionalIdempotencyHeader,
      body: FindingBody,
      errors: [404, 409, 422],
      status: 201,
      alsoSuccess: [IDEMPOTENT_REPLAY],
      summary: '登记自查或绩效评价发现的整改事项',
      description: '可带 Idempotency-Key：重试不会重复登记。',
      response: { description: '更新后的项目', schema: ProgramViewSchema },
    },
    async ({ params, body, actor, req }) =>
      programs.recordFinding(
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
      path: '/api/programs/:code/findings/:id/close',
      tags: ['programs'],
      access: ['office'],
      params: FindingParam,
      body: CloseFindingBody,
      errors: [404, 409],
      summary: '整改事项销号',
      response: { description: '更新后的项目', schema: ProgramViewSchema },
    },
    async ({ params, body, actor }) => programs.closeFinding(ctx, actor, params, body),
  );

  api.route(
    {
      method: 'post',
      path: '/api/programs/:code/fund-use',
      tags: ['programs'],
      access: ['office'],
      params: ProgramCode,
      body: FundUseBody,
      errors: [404, 409],
      summary:
        '公开一个月或一个季度的中央财政资金使用情况（R-FUND-9）：按分项目列预算、本期与累计拨付、追回，数字取自台账，生成带文号的通知（HTML 与 PDF）并在综合示范工作专栏公开；期间结束后才能公开，每期一次',
      response: { description: '更新后的项目', schema: ProgramViewSchema },
    },
    async ({ params, body, actor }) => programs.publishFundUse(ctx, actor, params, body),
  );

  api.route(
    {
      method: 'get',
      path: '/api/programs/:code/reports',
      tags: ['programs'],
      access: ['office', 'supervisor'],
      params: ProgramCode,
      errors: [404],
      summary: '社会公众的举报（含举报人自愿留下的姓名与电话，仅办公室与监督人员可见）',
      response: {
        description: '举报列表',
        schema: z.object({ items: z.array(z.object({ id: z.string() }).loose()) }),
      },
    },
    async ({ params, actor }) => programs.programReports(ctx, actor, params.code),
  );

  api.route(
    {
      method: 'post',
      path: '/api/programs/:code/reports/:id/answer',
      tags: ['programs'],
      access: ['office'],
      params: ReportParam,
      body: AnswerReportBody,
      errors: [404, 409],
      summary: '答复社会公众的举报（举报人凭回执编号可见答复）',
      response: { description: '更新后的项目', schema: ProgramViewSchema },
    },
    async ({ params, body, actor }) => programs.answerReport(ctx, actor, params, body),
  );

  api.route(
    {
      method: 'get',
      path: '/api/programs/:code/events',
      tags: ['audit'],
      access: ['office', 'supervisor', 'finance'],
      params: ProgramCode,
      errors: [404],
      summary: '项目的审计记录（谁、何时、何命令、理由、哈希链）',
      response: {
        description: '事件列表',
        schema: z.object({
          items: z.array(
            z
              .object({
                version: z.number().int(),
                type: z.string(),
                actor: z.string(),
                at: z.string(),
                hash: z.string(),
              })
              .loose(),
          ),
        }),
      },
    },
    async ({ params, actor }) => queries.programEvents(ctx, params.code, undefined, actor),
  );
}
