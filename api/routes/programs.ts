// Programs: create from a budget table, read, record gate acts, advance phases, findings, audit trail.
import { z } from 'zod';
import { programAggregate } from '../../engine/aggregates';
import { DomainError } from '../../workflows/errors';
import { endOfDayShanghai } from '../../workflows/time';
import type { ProgramCommand, SubprojectStatus } from '../../workflows/program/decider';
import { definitionFromTable, ProgramTable } from '../../workflows/program/table';
import type { Actor } from '../../workflows/program/types';
import { CommandAnswer, type Api } from '../http';
import {
  AdvanceBody,
  CloseFindingBody,
  FindingBody,
  FindingParam,
  GateActBody,
  GateParam,
  ProgramCode,
  ProgramViewSchema,
} from '../schemas';
import { money, programView } from '../views';
import type { Services } from '../services';

export function programRoutes(api: Api, svc: Services): void {
  const { engine, prisma } = svc;
  const now = () => engine.clock.now().toISOString();

  /** Status of each subproject from its own stream's read model (tendering, awarded, accepted, …). */
  async function live(code: string) {
    const rows = await prisma.subproject.findMany({
      where: { programCode: code },
      select: { seq: true, status: true, stage: true, contractorOrg: true },
    });
    return Object.fromEntries(
      rows.map((r) => [
        r.seq,
        { status: r.status as SubprojectStatus, stage: r.stage, contractorOrg: r.contractorOrg },
      ]),
    );
  }

  async function view(code: string) {
    const { state, version } = await engine.read(programAggregate, code);
    if (state.status === 'empty')
      throw new DomainError(
        'NOT-FOUND',
        'not_found',
        `综合示范项目 ${code} 不存在`,
        `program ${code} not found`,
      );
    return programView(state, version, now(), await live(code));
  }

  async function command(code: string, cmd: ProgramCommand, actor: Actor, reason?: string) {
    const r = await engine.execute(programAggregate, code, cmd, { actor, reason });
    if (r.state.status === 'empty') throw new Error('unreachable: command left no program');
    const state = r.state;
    return new CommandAnswer(
      r.version,
      r.events.map((e) => ({ version: e.version, type: e.type, hash: e.hash })),
      async () => programView(state, r.version, now(), await live(code)),
    );
  }

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
      const definition = definitionFromTable(body);
      const out = await command(
        definition.code,
        { type: 'CreateProgram', definition },
        actor!,
        '导入资金安排表',
      );
      res.setHeader('Location', `/api/programs/${definition.code}`);
      return out;
    },
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
    async () => {
      const rows = await prisma.program.findMany({ orderBy: { code: 'asc' } });
      const t = Date.parse(now());
      return {
        items: rows.map((p) => {
          const late = p.status === 'active' && p.phaseEnd ? t - endOfDayShanghai(p.phaseEnd) : 0;
          return {
            code: p.code,
            name: p.name,
            province: p.province,
            county: p.county,
            year: p.year,
            status: p.status,
            phaseKey: p.phaseKey,
            phaseName: p.phaseName,
            phaseEnd: p.phaseEnd,
            overdueDays: late > 0 ? Math.ceil(late / 86_400_000) : null,
            total: money(Number(p.totalFen)),
            version: p.version,
          };
        }),
      };
    },
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
    async ({ params }) => view(params.code),
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
    async ({ params, body, actor }) =>
      command(
        params.code,
        { type: 'RecordGateAct', gate: params.gate, document: body.document },
        actor!,
        body.reason,
      ),
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
    async ({ params, body, actor }) => {
      const statuses = Object.fromEntries(
        Object.entries(await live(params.code)).map(([k, v]) => [k, v.status]),
      );
      return command(
        params.code,
        { type: 'AdvancePhase', to: body.to, subprojectStatuses: statuses },
        actor!,
        body.reason,
      );
    },
  );

  api.route(
    {
      method: 'post',
      path: '/api/programs/:code/findings',
      tags: ['programs'],
      access: ['office'],
      params: ProgramCode,
      body: FindingBody,
      errors: [404, 409],
      status: 201,
      summary: '登记自查或绩效评价发现的整改事项',
      response: { description: '更新后的项目', schema: ProgramViewSchema },
    },
    async ({ params, body, actor }) =>
      command(
        params.code,
        { type: 'RecordFinding', origin: body.origin, title: body.title, due: body.due ?? null },
        actor!,
        body.reason,
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
    async ({ params, body, actor }) =>
      command(
        params.code,
        { type: 'CloseFinding', findingId: params.id, document: body.document },
        actor!,
        body.reason,
      ),
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
    async ({ params }) => {
      const streamId = programAggregate.streamId(params.code);
      const rows = await prisma.event.findMany({
        where: { streamId },
        orderBy: { version: 'asc' },
      });
      if (!rows.length)
        throw new DomainError(
          'NOT-FOUND',
          'not_found',
          `综合示范项目 ${params.code} 不存在`,
          `program ${params.code} not found`,
        );
      return {
        items: rows.map((e) => ({
          id: Number(e.id),
          version: e.version,
          type: e.type,
          data: e.data,
          actor: e.actor,
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
