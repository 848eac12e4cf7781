// Subproject procurement (R-TD-1..3): tender, sealed bids, opening, scores, candidate publicity with
// objections, award or designation, contract with milestones and tranches. Each route translates HTTP
// to a use case (app/subprojects.ts, app/queries.ts) and back.
import { z } from 'zod';
import type { AppContext } from '../../app/context';
import * as inputs from '../../app/inputs';
import * as queries from '../../app/queries';
import * as subprojects from '../../app/subprojects';
import type { Access, Api, Handled, RouteSpec } from '../http';
import {
  IDEMPOTENT_REPLAY,
  OptionalIdempotencyHeader,
  SubprojectParam,
  TenderObjectionParam,
} from '../schemas';

export const SubprojectViewSchema = z
  .object({
    programCode: z.string(),
    seq: z.number().int(),
    stage: z.string(),
    stageName: z.string(),
    tenders: z.array(z.object({}).loose()),
    award: z.object({ org: z.string() }).loose().nullable(),
  })
  .loose()
  .meta({ id: 'SubprojectView' });

type NoQuery = z.ZodObject<Record<string, never>>;

export function subprojectRoutes(api: Api, ctx: AppContext): void {
  const base = '/api/programs/:code/subprojects/:seq';
  const view = {
    description: '分项目（按查看者过滤：开标前投标内容密封）',
    schema: SubprojectViewSchema,
  };

  /** A procurement act on one subproject: POST …/subprojects/:seq<path>, answered with the
   * subproject as the actor may see it. */
  const act = <
    A extends Access,
    B extends z.ZodType = z.ZodUndefined,
    P extends z.ZodType = typeof SubprojectParam,
  >(
    path: string,
    spec: Omit<RouteSpec<A, P, NoQuery, B>, 'method' | 'path' | 'tags' | 'params' | 'response'> & {
      params?: P;
    },
    run: (h: Handled<A, z.output<P>, z.output<NoQuery>, z.output<B>>) => Promise<unknown>,
  ) =>
    api.route<A, P, NoQuery, B>(
      {
        method: 'post',
        path: `${base}${path}`,
        tags: ['procurement'],
        params: (spec.params ?? SubprojectParam) as P,
        response: view,
        ...spec,
      },
      run,
    );

  api.route(
    {
      method: 'get',
      path: base,
      tags: ['procurement'],
      access: 'authenticated',
      params: SubprojectParam,
      errors: [403, 404],
      summary: '分项目采购情况（招标、投标、开标、公示、定标、协议）',
      response: view,
    },
    async ({ params, actor }) => queries.subprojectDetail(ctx, actor, params.code, params.seq),
  );

  act(
    '/tender',
    {
      access: ['office'],
      body: inputs.TenderBody,
      errors: [404, 409, 422],
      status: 201,
      summary: '发布招标公告（组织实施阶段；投标期限不少于规定天数）',
    },
    async ({ params, body, actor }) => subprojects.openTender(ctx, actor, params, body),
  );

  act(
    '/bids',
    {
      access: ['contractor'],
      body: inputs.BidBody,
      errors: [404, 409, 422],
      status: 201,
      summary: '投标（截止前可重新投标以替换本单位的投标）',
    },
    async ({ params, body, actor }) => subprojects.submitBid(ctx, actor, params, body),
  );

  act(
    '/bids/withdraw',
    {
      access: ['contractor'],
      errors: [404, 409],
      summary: '撤回本单位的投标（截止前）',
    },
    async ({ params, actor }) => subprojects.withdrawBid(ctx, actor, params, undefined),
  );

  api.route(
    {
      method: 'get',
      path: `${base}/bids`,
      tags: ['procurement'],
      access: 'authenticated',
      params: SubprojectParam,
      errors: [403, 404],
      summary: '查阅投标文件：开标前任何人（含办公室）不得查阅他人投标，投标人只能看到自己的',
      response: {
        description: '投标',
        schema: z.object({
          round: z.number().int(),
          bids: z.array(z.object({ org: z.string() }).loose()),
        }),
      },
    },
    async ({ params, actor }) => queries.subprojectBids(ctx, actor, params.code, params.seq),
  );

  act(
    '/opening',
    {
      access: ['office'],
      body: inputs.OpeningBody,
      errors: [404, 409],
      summary: '开标（截止后）；有效投标少于规定家数（默认3家）则流标',
    },
    async ({ params, body, actor }) => subprojects.openBids(ctx, actor, params, body),
  );

  act(
    '/scores',
    {
      access: ['office', 'evaluator'],
      body: inputs.ScoresBody,
      errors: [404, 409],
      summary: '记录评标得分（每个有效投标人一个，0～100）',
    },
    async ({ params, body, actor }) => subprojects.scoreBids(ctx, actor, params, body),
  );

  act(
    '/candidate',
    {
      access: ['office'],
      body: inputs.CandidateBody,
      errors: [404, 409, 422],
      summary: '确定中标候选人并开始公示（默认3天）；非最高分须说明理由',
    },
    async ({ params, body, actor }) => subprojects.proposeCandidate(ctx, actor, params, body),
  );

  act(
    '/objections',
    {
      access: ['contractor', 'office', 'supervisor'],
      headers: OptionalIdempotencyHeader,
      body: inputs.TenderObjectionBody,
      errors: [404, 409, 422],
      status: 201,
      alsoSuccess: [IDEMPOTENT_REPLAY],
      summary: '公示期间提出异议（暂停定标，直至办公室处理）',
      description: '可带 Idempotency-Key：重试不会重复登记异议。',
    },
    async ({ params, body, actor, req }) =>
      subprojects.raiseTenderObjection(
        ctx,
        actor,
        params,
        body,
        OptionalIdempotencyHeader.parse(req.headers)['idempotency-key'],
      ),
  );

  act(
    '/objections/:id/resolve',
    {
      access: ['office'],
      params: TenderObjectionParam,
      body: inputs.TenderResolveBody,
      errors: [404, 409],
      summary: '处理异议（记录决定与理由）',
    },
    async ({ params, body, actor }) => subprojects.resolveTenderObjection(ctx, actor, params, body),
  );

  act(
    '/award',
    {
      access: ['office'],
      body: inputs.AwardBody,
      errors: [404, 409],
      summary: '定标（公示期满且无未处理的异议）',
    },
    async ({ params, body, actor }) => subprojects.award(ctx, actor, params, body),
  );

  act(
    '/designation',
    {
      access: ['office'],
      body: inputs.DesignationBody,
      errors: [404, 409],
      status: 201,
      summary: '直接指定承办主体（直接委托、定向委托、政府购买服务；须记录理由）',
    },
    async ({ params, body, actor }) => subprojects.designateContractor(ctx, actor, params, body),
  );

  act(
    '/contract',
    {
      access: ['office'],
      body: inputs.ContractBody,
      errors: [404, 409, 422],
      status: 201,
      summary: '签订承办协议：里程碑计划与分来源拨付批次（每个来源合计须等于预算，否则列出差额）',
    },
    async ({ params, body, actor }) => subprojects.signContract(ctx, actor, params, body),
  );

  api.route(
    {
      method: 'get',
      path: `${base}/events`,
      tags: ['audit'],
      access: ['office', 'supervisor', 'finance'],
      params: SubprojectParam,
      errors: [404],
      summary: '分项目的审计记录（开标前投标内容不显示）',
      response: {
        description: '事件列表',
        schema: z.object({
          items: z.array(z.object({ version: z.number().int(), type: z.string() }).loose()),
        }),
      },
    },
    async ({ params, actor }) =>
      queries.subprojectEvents(ctx, params.code, params.seq, { viewer: actor }),
  );
}
