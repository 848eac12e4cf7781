// The register of what was built and done and the targets it measures (R-EV-1): service stations and
// training sessions as JSON rows or a CSV file, values entered with evidence. Each route translates HTTP
// to a use case (app/register.ts, app/queries.ts) and back.
import { z } from 'zod';
import type { AppContext } from '../../app/context';
import {
  FundedBody,
  IndicatorValueBody,
  RegisterCsvBody,
  StationsBody,
  TrainingsBody,
} from '../../app/inputs';
import * as queries from '../../app/queries';
import * as register from '../../app/register';
import type { Api } from '../http';
import {
  IDEMPOTENT_REPLAY,
  NOT_FOUND_PARAM,
  OptionalIdempotencyHeader,
  ProgramCode,
} from '../schemas';

const IndicatorParam = ProgramCode.extend({
  indicator: z
    .string()
    .refine((s) => /^[a-z][a-z0-9_]{0,39}$/.test(s), {
      params: { [NOT_FOUND_PARAM]: true },
      error: '指标编号为小写字母开头的字母、数字、下划线（如 county_to_village_hours）',
    })
    .meta({ description: '绩效目标的编号（资金安排表 indicators[].id）' }),
});

const AttainmentSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    unit: z.string(),
    seq: z.number().int().nullable(),
    targetText: z.string(),
    value: z.string().nullable(),
    status: z.enum(['met', 'on_track', 'at_risk', 'not_met']),
    statusName: z.string(),
    note: z.string().nullable(),
  })
  .loose()
  .meta({ id: 'Attainment', description: '绩效目标完成情况（R-EV-1）' });
const RegisterViewSchema = z
  .object({
    code: z.string(),
    asOf: z.string(),
    stations: z.array(z.object({ id: z.string(), level: z.string() }).loose()),
    trainings: z.array(z.object({ id: z.string(), personTimes: z.number().int() }).loose()),
    values: z.array(z.object({ indicator: z.string(), value: z.string() }).loose()),
    attainment: z.array(AttainmentSchema),
    history: z
      .object({
        months: z.array(z.string()),
        items: z.array(
          z
            .object({
              id: z.string(),
              values: z.array(z.string().nullable()),
              statuses: z.array(z.enum(['met', 'on_track', 'at_risk', 'not_met'])),
            })
            .loose(),
        ),
      })
      .nullable()
      .meta({ description: '各目标每月末的数值与状态（自项目开始至今，按台账与录入数值的日期）' }),
  })
  .loose()
  .meta({ id: 'RegisterView' });

const WHO = '承办企业只能登记本单位承办的分项目交付的内容（每行须注明分项目，R-TD-3，否则 403）。';
const KEYED = '可带 Idempotency-Key：客户端重试同一批不会重复登记（如培训人次不会计两次）。';
const REFUSALS =
  '一行有误则整批不登记：形状错误 400、台账规则（R-EV-1：所在镇村、开业日期不晚于今天、分项目与里程碑存在、不重复登记、人次不少于人数）422，逐行列出（violations[].field 与 figures.row）。';

export function registerRoutes(api: Api, ctx: AppContext): void {
  const base = '/api/programs/:code/register';

  api.route(
    {
      method: 'get',
      path: base,
      tags: ['register'],
      access: 'authenticated',
      params: ProgramCode,
      errors: [404],
      summary: '建设台账（服务站点、培训、录入的指标数值）与各绩效目标完成情况',
      response: { description: '建设台账', schema: RegisterViewSchema },
    },
    async ({ params }) => queries.programRegister(ctx, params.code),
  );

  const batch = <B extends z.ZodType>(
    path: string,
    summary: string,
    description: string,
    body: B,
    run: (
      actor: Parameters<typeof register.registerStations>[1],
      code: string,
      b: z.output<B>,
      key: string | undefined,
    ) => Promise<unknown>,
  ) =>
    api.route(
      {
        method: 'post',
        path: `${base}/${path}`,
        tags: ['register'],
        access: ['office', 'contractor'],
        params: ProgramCode,
        headers: OptionalIdempotencyHeader,
        body,
        status: 201,
        alsoSuccess: [IDEMPOTENT_REPLAY],
        errors: [404, 409, 422],
        summary,
        description: `${description}${REFUSALS}${WHO}${KEYED}`,
        response: { description: '更新后的建设台账', schema: RegisterViewSchema },
      },
      async ({ params, body: b, actor, req }) =>
        run(actor, params.code, b, OptionalIdempotencyHeader.parse(req.headers)['idempotency-key']),
    );

  batch(
    'stations',
    '登记服务站点（县级中心、镇级服务站、村级服务点）',
    '每个镇（街）一个镇级服务站、每个行政村一个村级服务点；可注明交付它的分项目与里程碑。',
    StationsBody,
    (a, code, b, key) => register.registerStations(ctx, a, { code }, b, { key }),
  );
  batch(
    'stations/csv',
    '从 CSV 文件导入服务站点',
    `先 POST /api/files 上传 CSV（text/csv，UTF-8，首行为表头）。列（中文或英文列名）：${register.STATION_CSV_HEADER}（级别填 县级/镇级/村级，贫困村填 是/否）。`,
    RegisterCsvBody,
    (a, code, b, key) => register.importStationsFile(ctx, a, { code }, b, key),
  );
  batch(
    'trainings',
    '登记培训（日期、地点、人数、人次、培训档案是否齐全）',
    '培训档案不齐全的培训登记在册，但不计入培训目标（R-AC-1）。',
    TrainingsBody,
    (a, code, b, key) => register.registerTrainings(ctx, a, { code }, b, { key }),
  );
  batch(
    'trainings/csv',
    '从 CSV 文件导入培训',
    `先 POST /api/files 上传 CSV（text/csv，UTF-8，首行为表头）。列（中文或英文列名）：${register.TRAINING_CSV_HEADER}（档案齐全填 是/否）。`,
    RegisterCsvBody,
    (a, code, b, key) => register.importTrainingsFile(ctx, a, { code }, b, key),
  );

  batch(
    'subsidies',
    '登记补助对象（贷款、示范乡镇、示范村、农产品上行子项目等），按资金安排表的单位补助上限检查（R-FUND-5）',
    '同一对象的金额累计计算（含已登记的）：如石城单个支持对象贷款不超过 20 万元、示范乡镇不超过 20 万元、示范村不超过 10 万元、农产品上行子项目不超过 50 万元；按平均计的上限（如镇村站点平均 2.5 万元）按该项目全部对象平均。超出则 422 R-FUND-5 并给出对象、已有、本笔、合计与上限。',
    FundedBody,
    (a, code, b, key) => register.registerFundedUnits(ctx, a, { code }, b, { key }),
  );
  batch(
    'subsidies/csv',
    '从 CSV 文件导入补助对象（R-FUND-5）',
    `先 POST /api/files 上传 CSV（text/csv，UTF-8，首行为表头）。列（中文或英文列名）：${register.FUNDED_CSV_HEADER}（金额为万元）。`,
    RegisterCsvBody,
    (a, code, b, key) => register.importFundedFile(ctx, a, { code }, b, key),
  );

  api.route(
    {
      method: 'post',
      path: '/api/programs/:code/indicators/:indicator/values',
      tags: ['register'],
      access: ['office'],
      params: IndicatorParam,
      headers: OptionalIdempotencyHeader,
      body: IndicatorValueBody,
      status: 201,
      alsoSuccess: [IDEMPOTENT_REPLAY],
      errors: [404, 409, 422],
      summary: '录入绩效目标的数值并附证明材料（不由台账计算的目标，如配送时效）',
      description:
        '由建设台账计算的目标（measure = register）不能录入，422 R-EV-1；数值日期不晚于今天。以数值日期最新的一条计算完成情况。',
      response: { description: '更新后的建设台账', schema: RegisterViewSchema },
    },
    async ({ params, body, actor, req }) =>
      register.recordIndicatorValue(
        ctx,
        actor,
        params,
        body,
        OptionalIdempotencyHeader.parse(req.headers)['idempotency-key'],
      ),
  );
}
