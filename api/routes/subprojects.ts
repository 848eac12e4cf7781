// Subproject procurement (R-TD-1..3): tender, sealed bids, opening, scores, candidate publicity with
// objections, award or designation, contract with milestones and tranches.
import { z } from 'zod';
import { subprojectAggregate, subprojectKey } from '../../engine/aggregates';
import { DomainError } from '../../workflows/errors';
import { endOfDayShanghai } from '../../workflows/time';
import { parseMoney, parseYuan } from '../../workflows/money';
import { SOURCES } from '../../workflows/program/types';
import type { Api } from '../http';
import { DocumentRef, ProgramCode } from '../schemas';
import type { Services } from '../services';
import { subprojectCommands } from './subproject-commands';
import { bidView, redactEvent, subprojectView } from '../subproject-views';

export const SubprojectParam = ProgramCode.extend({
  seq: z.coerce.number().int().positive().meta({ description: '分项目序号' }),
});
const reason = z.string().max(2000).optional().meta({ description: '理由或说明（记入审计记录）' });
const instant = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()])
  .meta({
    description: '时间（ISO 8601，含时区）；只给日期时为北京时间当日 23:59:59',
    example: '2019-12-20T09:30:00+08:00',
  });
const toInstant = (v: string) =>
  /^\d{4}-\d{2}-\d{2}$/.test(v) ? new Date(endOfDayShanghai(v)).toISOString() : v;

const TenderBody = z
  .object({
    announcement: z
      .object({
        title: z
          .string()
          .min(1)
          .max(300)
          .meta({ example: '滕州市三级物流配送体系建设项目招标公告' }),
        number: z.string().max(100).optional().meta({ description: '招标编号' }),
        qualifications: z
          .array(z.string().min(1))
          .default([])
          .meta({ description: '投标人资格要求' }),
        documents: z.array(DocumentRef).default([]).meta({ description: '招标文件' }),
      })
      .strict(),
    bidDeadline: instant.meta({
      description: '投标截止时间：自公告之日起不少于项目的最短投标期限（默认20天）',
    }),
    reason,
  })
  .strict()
  .meta({ id: 'TenderBody' });
const BidBody = z
  .object({
    price: z
      .string()
      .regex(/^\d[\d,]*(\.\d{1,2})?$/)
      .meta({ description: '投标报价（元），不得超过分项目预算', example: '5380000.00' }),
    proposal: z.string().min(1).max(20000).meta({ description: '投标方案摘要' }),
    documents: z.array(DocumentRef).default([]),
  })
  .strict()
  .meta({ id: 'BidBody' });
const OpeningBody = z
  .object({
    invalid: z
      .array(z.object({ org: z.string().min(1), reason: z.string().min(1) }).strict())
      .default([])
      .meta({ description: '开标时认定无效的投标及理由' }),
    reason,
  })
  .strict();
const ScoresBody = z
  .object({
    scores: z
      .array(
        z
          .object({
            org: z.string().min(1),
            score: z.number().min(0).max(100).multipleOf(0.01),
            comment: z.string().max(2000).optional(),
          })
          .strict(),
      )
      .min(1),
    reason,
  })
  .strict()
  .meta({ id: 'ScoresBody' });
const CandidateBody = z.object({ org: z.string().min(1), reason }).strict();
const ObjectionBody = z
  .object({ text: z.string().min(1).max(5000).meta({ description: '异议内容' }) })
  .strict();
const ResolveBody = z
  .object({
    decision: z
      .enum(['upheld', 'dismissed'])
      .meta({ description: 'upheld 异议成立（撤销候选人）；dismissed 驳回（恢复定标）' }),
    reason: z.string().min(1).max(2000),
  })
  .strict();
const ObjectionParam = SubprojectParam.extend({ id: z.string().regex(/^O\d+$/) });
const AwardBody = z.object({ reason }).strict();
const DesignationBody = z
  .object({
    org: z.string().min(1).meta({ description: '承办主体（已登记的组织）' }),
    reason: z.string().min(1).max(2000).meta({ description: '直接指定的理由（必填）' }),
    document: DocumentRef.optional(),
  })
  .strict();
const ContractBody = z
  .object({
    number: z.string().max(100).optional().meta({ description: '协议编号' }),
    document: DocumentRef,
    milestones: z
      .array(
        z
          .object({
            key: z.string().regex(/^[A-Za-z0-9_-]{1,20}$/),
            title: z.string().min(1),
            deliverables: z.array(z.string().min(1)).default([]),
            due: z.iso.date(),
            evidenceRequired: z.array(z.string().min(1)).default([]),
          })
          .strict(),
      )
      .min(1),
    tranches: z
      .array(
        z
          .object({
            key: z.string().regex(/^[A-Za-z0-9_-]{1,20}$/),
            milestone: z.string().min(1),
            source: z.enum(SOURCES),
            amount: z
              .string()
              .regex(/^\d[\d,]*(\.\d+)?$/)
              .meta({ description: '金额（万元），精确到分', example: '190' }),
          })
          .strict(),
      )
      .min(1)
      .meta({ description: '拨付批次：每个资金来源的批次合计必须恰好等于分项目该来源的预算' }),
    reason,
  })
  .strict()
  .meta({ id: 'ContractBody' });

const SubprojectViewSchema = z
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

const sealedActor = (type: string, data: Record<string, unknown>, opened: Set<number>) =>
  (type === 'BidSubmitted' || type === 'BidWithdrawn') && !opened.has(Number(data.round))
    ? '（密封）'
    : null;

export function subprojectRoutes(api: Api, svc: Services): void {
  const { prisma } = svc;
  const base = '/api/programs/:code/subprojects/:seq';

  const { load, guard, command, facts, orgExists } = subprojectCommands(svc);
  const view = {
    description: '分项目（按查看者过滤：开标前投标内容密封）',
    schema: SubprojectViewSchema,
  };

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
    async ({ params, actor }) => {
      const { state, version } = await load(params.code, params.seq);
      if (state.status === 'empty') {
        const f = await facts(params.code, params.seq);
        return {
          programCode: f.code,
          seq: params.seq,
          name: f.plan.name,
          procurement: f.plan.procurement,
          version: 0,
          stage: 'unprocured',
          stageName: '未采购',
          tenders: [],
          award: null,
          contract: null,
        };
      }
      guard(state, actor!);
      return subprojectView(state, actor!, version);
    },
  );

  api.route(
    {
      method: 'post',
      path: `${base}/tender`,
      tags: ['procurement'],
      access: ['office'],
      params: SubprojectParam,
      body: TenderBody,
      errors: [404, 409, 422],
      status: 201,
      summary: '发布招标公告（组织实施阶段；投标期限不少于规定天数）',
      response: view,
    },
    async ({ params, body, actor }) =>
      command(
        params.code,
        params.seq,
        {
          type: 'OpenTender',
          program: await facts(params.code, params.seq),
          bidDeadline: toInstant(body.bidDeadline),
          announcement: {
            title: body.announcement.title,
            number: body.announcement.number ?? null,
            qualifications: body.announcement.qualifications,
            documents: body.announcement.documents,
          },
        },
        actor!,
        body.reason,
      ),
  );

  api.route(
    {
      method: 'post',
      path: `${base}/bids`,
      tags: ['procurement'],
      access: ['contractor'],
      params: SubprojectParam,
      body: BidBody,
      errors: [404, 409, 422],
      status: 201,
      summary: '投标（截止前可重新投标以替换本单位的投标）',
      response: view,
    },
    async ({ params, body, actor }) =>
      command(
        params.code,
        params.seq,
        {
          type: 'SubmitBid',
          price: parseYuan(body.price, 'price'),
          proposal: body.proposal,
          documents: body.documents,
        },
        actor!,
      ),
  );

  api.route(
    {
      method: 'post',
      path: `${base}/bids/withdraw`,
      tags: ['procurement'],
      access: ['contractor'],
      params: SubprojectParam,
      errors: [404, 409],
      summary: '撤回本单位的投标（截止前）',
      response: view,
    },
    async ({ params, actor }) => command(params.code, params.seq, { type: 'WithdrawBid' }, actor!),
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
    async ({ params, actor }) => {
      const { state } = await load(params.code, params.seq);
      if (state.status === 'empty' || !state.tenders.length)
        throw new DomainError(
          'NOT-FOUND',
          'not_found',
          '该分项目没有招标',
          'no tender for this subproject',
        );
      guard(state, actor!);
      const t = state.tenders[state.tenders.length - 1];
      const live = t.bids.filter((b) => !b.withdrawn);
      if (actor!.role === 'contractor')
        return { round: t.round, bids: live.filter((b) => b.org === actor!.org).map(bidView) };
      if (!t.opening)
        throw new DomainError(
          'R-TD-1',
          'forbidden',
          '投标文件密封，开标前任何人不得查阅',
          'bids are sealed until the opening',
        );
      return { round: t.round, bids: live.map(bidView) };
    },
  );

  api.route(
    {
      method: 'post',
      path: `${base}/opening`,
      tags: ['procurement'],
      access: ['office'],
      params: SubprojectParam,
      body: OpeningBody,
      errors: [404, 409],
      summary: '开标（截止后）；有效投标少于规定家数（默认3家）则流标',
      response: view,
    },
    async ({ params, body, actor }) =>
      command(
        params.code,
        params.seq,
        { type: 'OpenBids', invalid: body.invalid },
        actor!,
        body.reason,
      ),
  );

  api.route(
    {
      method: 'post',
      path: `${base}/scores`,
      tags: ['procurement'],
      access: ['office', 'evaluator'],
      params: SubprojectParam,
      body: ScoresBody,
      errors: [404, 409],
      summary: '记录评标得分（每个有效投标人一个，0～100）',
      response: view,
    },
    async ({ params, body, actor }) =>
      command(
        params.code,
        params.seq,
        {
          type: 'ScoreBids',
          scores: body.scores.map((x) => ({
            org: x.org,
            score: Math.round(x.score * 100),
            comment: x.comment ?? null,
          })),
        },
        actor!,
        body.reason,
      ),
  );

  api.route(
    {
      method: 'post',
      path: `${base}/candidate`,
      tags: ['procurement'],
      access: ['office'],
      params: SubprojectParam,
      body: CandidateBody,
      errors: [404, 409, 422],
      summary: '确定中标候选人并开始公示（默认3天）；非最高分须说明理由',
      response: view,
    },
    async ({ params, body, actor }) =>
      command(
        params.code,
        params.seq,
        { type: 'ProposeCandidate', org: body.org },
        actor!,
        body.reason,
      ),
  );

  api.route(
    {
      method: 'post',
      path: `${base}/objections`,
      tags: ['procurement'],
      access: ['contractor', 'office', 'supervisor'],
      params: SubprojectParam,
      body: ObjectionBody,
      errors: [404, 409],
      status: 201,
      summary: '公示期间提出异议（暂停定标，直至办公室处理）',
      response: view,
    },
    async ({ params, body, actor }) =>
      command(params.code, params.seq, { type: 'RaiseObjection', text: body.text }, actor!),
  );

  api.route(
    {
      method: 'post',
      path: `${base}/objections/:id/resolve`,
      tags: ['procurement'],
      access: ['office'],
      params: ObjectionParam,
      body: ResolveBody,
      errors: [404, 409],
      summary: '处理异议（记录决定与理由）',
      response: view,
    },
    async ({ params, body, actor }) =>
      command(
        params.code,
        params.seq,
        { type: 'ResolveObjection', objectionId: params.id, decision: body.decision },
        actor!,
        body.reason,
      ),
  );

  api.route(
    {
      method: 'post',
      path: `${base}/award`,
      tags: ['procurement'],
      access: ['office'],
      params: SubprojectParam,
      body: AwardBody,
      errors: [404, 409],
      summary: '定标（公示期满且无未处理的异议）',
      response: view,
    },
    async ({ params, body, actor }) =>
      command(params.code, params.seq, { type: 'Award' }, actor!, body.reason),
  );

  api.route(
    {
      method: 'post',
      path: `${base}/designation`,
      tags: ['procurement'],
      access: ['office'],
      params: SubprojectParam,
      body: DesignationBody,
      errors: [404, 409],
      status: 201,
      summary: '直接指定承办主体（直接委托、定向委托、政府购买服务；须记录理由）',
      response: view,
    },
    async ({ params, body, actor }) => {
      await orgExists(body.org);
      return command(
        params.code,
        params.seq,
        {
          type: 'DesignateContractor',
          program: await facts(params.code, params.seq),
          org: body.org,
          document: body.document ?? null,
        },
        actor!,
        body.reason,
      );
    },
  );

  api.route(
    {
      method: 'post',
      path: `${base}/contract`,
      tags: ['procurement'],
      access: ['office'],
      params: SubprojectParam,
      body: ContractBody,
      errors: [404, 409, 422],
      status: 201,
      summary: '签订承办协议：里程碑计划与分来源拨付批次（每个来源合计须等于预算，否则列出差额）',
      response: view,
    },
    async ({ params, body, actor }) =>
      command(
        params.code,
        params.seq,
        {
          type: 'SignContract',
          number: body.number ?? null,
          document: body.document,
          milestones: body.milestones.map((m) => ({
            key: m.key,
            title: m.title,
            deliverables: m.deliverables,
            due: m.due,
            evidenceRequired: m.evidenceRequired,
          })),
          tranches: body.tranches.map((t, i) => ({
            key: t.key,
            milestone: t.milestone,
            source: t.source,
            amount: parseMoney(t.amount, '万元', { field: `tranches[${i}].amount` }),
          })),
        },
        actor!,
        body.reason,
      ),
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
    async ({ params }) => {
      const { state } = await load(params.code, params.seq);
      const opened = new Set(
        state.status === 'active' ? state.tenders.filter((t) => t.opening).map((t) => t.round) : [],
      );
      const rows = await prisma.event.findMany({
        where: { streamId: subprojectAggregate.streamId(subprojectKey(params.code, params.seq)) },
        orderBy: { version: 'asc' },
      });
      return {
        items: rows.map((e) => ({
          id: Number(e.id),
          version: e.version,
          type: e.type,
          data: redactEvent(e.type, e.data as Record<string, unknown>, opened),
          // before the opening not even who bid is shown (that would reveal the bidders and their number)
          actor: sealedActor(e.type, e.data as Record<string, unknown>, opened) ?? e.actor,
          role: e.role,
          command: e.command,
          reason: e.reason,
          at: e.at.toISOString(),
          prevHash: e.prevHash,
          hash: e.hash,
        })),
      };
    },
  );
}
