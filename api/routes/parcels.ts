// Parcel subsidy claims (R-FUND-6): e-waybill CSV evidence, duplicate waybills rejected across claims,
// review within the yearly and total caps (partial payment with the reason stated), idempotent payment.
import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { parcelsAggregate, programAggregate } from '../../engine/aggregates';
import { DomainError } from '../../workflows/errors';
import type { ParcelClaim, ParcelRule } from '../../workflows/parcels/decider';
import type { Api } from '../http';
import { ProgramCode } from '../schemas';
import type { Services } from '../services';
import { money } from '../views';

const ClaimBody = z
  .object({
    quarter: z
      .string()
      .regex(/^\d{4}Q[1-4]$/)
      .meta({ description: '申报季度', example: '2020Q1' }),
    file: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .meta({
        description:
          '电子运单 CSV 文件的 SHA-256（先 POST /api/files 上传，text/csv；第一列为运单号，可有表头）',
      }),
  })
  .strict()
  .meta({ id: 'ParcelClaimBody' });
const ReviewBody = z
  .object({
    decision: z.enum(['approve', 'reject']),
    eligibleParcels: z
      .number()
      .int()
      .nonnegative()
      .optional()
      .meta({ description: '核定符合条件（农产品上行）的件数，缺省为申报件数' }),
    reason: z.string().max(2000).optional(),
  })
  .strict();
const ClaimParam = ProgramCode.extend({ id: z.string().regex(/^C\d+$/) });
const Idem = z.object({ 'idempotency-key': z.string().min(1).max(200) });
const WAYBILL = /^[A-Za-z0-9-]{6,40}$/;

const claimView = (c: ParcelClaim) => ({
  ...c,
  review: c.review && {
    ...c.review,
    gross: money(c.review.gross),
    payable: money(c.review.payable),
  },
});

/** Waybill numbers from the first column; a header row (not a waybill number) is skipped. */
export function waybillsOf(csv: Buffer): { numbers: string[]; repeated: string[]; bad: number } {
  const rows: string[][] = parse(csv, {
    relax_column_count: true,
    skip_empty_lines: true,
    trim: true,
    bom: true,
  });
  const cells = rows.map((r) => r[0] ?? '');
  if (cells.length && !WAYBILL.test(cells[0])) cells.shift();
  const seen = new Set<string>();
  const repeated: string[] = [];
  let bad = 0;
  for (const c of cells) {
    if (!WAYBILL.test(c)) {
      bad++;
      continue;
    }
    if (seen.has(c)) repeated.push(c);
    else seen.add(c);
  }
  return { numbers: [...seen], repeated, bad };
}

export function parcelRoutes(api: Api, svc: Services): void {
  const { engine, prisma } = svc;
  const base = '/api/programs/:code/parcel-claims';

  api.route(
    {
      method: 'post',
      path: base,
      tags: ['funds'],
      access: ['contractor'],
      params: ProgramCode,
      body: ClaimBody,
      errors: [404, 409, 422],
      status: 201,
      summary: '物流企业按季度申报农产品上行快递补贴（附电子运单 CSV）',
      description: '运单号在本项目内只能申报一次；重复的运单号 422（R-FUND-6）。',
      response: {
        description: '申报',
        schema: z.object({ id: z.string(), parcels: z.number().int(), status: z.string() }).loose(),
      },
    },
    async ({ params, body, actor }) => {
      const p = await engine.read(programAggregate, params.code);
      if (p.state.status === 'empty')
        throw new DomainError(
          'NOT-FOUND',
          'not_found',
          `综合示范项目 ${params.code} 不存在`,
          `program ${params.code} not found`,
        );
      const f = await prisma.evidenceFile.findUnique({ where: { sha256: body.file } });
      if (!f || f.org !== actor!.org)
        throw new DomainError(
          'INVALID-INPUT',
          'invalid',
          '运单文件不存在或不是本单位上传的',
          'file not found or not yours',
          { field: 'file' },
        );
      let parsed: ReturnType<typeof waybillsOf>;
      try {
        parsed = waybillsOf(Buffer.from(f.content));
      } catch (e) {
        throw new DomainError(
          'INVALID-INPUT',
          'invalid',
          `运单文件不是有效的 CSV：${(e as Error).message}`,
          'the waybill file is not valid CSV',
          { field: 'file' },
        );
      }
      if (parsed.bad)
        throw new DomainError(
          'INVALID-INPUT',
          'invalid',
          `运单文件有 ${parsed.bad} 行不是有效的运单号（6～40位字母、数字或-）`,
          `${parsed.bad} rows are not waybill numbers`,
          { field: 'file' },
        );
      // one array parameter (a Prisma `in` list of 150,000 numbers would exceed PostgreSQL's bind-parameter limit)
      const { rows: already } = await svc.pool.query<{ waybill: string }>(
        'SELECT waybill FROM parcel_waybill WHERE program_code = $1 AND waybill = ANY($2::text[]) LIMIT 100',
        [params.code, parsed.numbers],
      );
      const ps = p.state.def.parcelSubsidy;
      const rule: ParcelRule | null = ps && {
        perParcel: ps.perParcel,
        perBusinessPerYear: ps.perBusinessPerYear,
        total: ps.total,
        reviewEvery: ps.reviewEvery,
        eligible: ps.eligible,
      };
      try {
        const r = await engine.execute(
          parcelsAggregate,
          params.code,
          {
            type: 'SubmitParcelClaim',
            programCode: params.code,
            rule,
            quarter: body.quarter,
            parcels: parsed.numbers.length,
            file: body.file,
            duplicates: [...parsed.repeated, ...already.map((w) => w.waybill)],
          },
          {
            actor: actor!,
            extraViews: {
              waybills: { program_code: params.code, claim_id: body.file, numbers: parsed.numbers },
            },
          },
        );
        if (r.state.status !== 'active') throw new Error('unreachable');
        return claimView(r.state.claims[r.state.claims.length - 1]);
      } catch (e) {
        if ((e as { constraint?: string }).constraint === 'parcel_waybill_pkey') {
          throw new DomainError(
            'R-FUND-6',
            'rule',
            '运单号已被其他申报使用（并发申报），不予受理',
            'waybill numbers were claimed concurrently by another claim',
          );
        }
        throw e;
      }
    },
  );

  api.route(
    {
      method: 'get',
      path: base,
      tags: ['funds'],
      access: ['contractor', 'office', 'finance', 'supervisor'],
      params: ProgramCode,
      summary: '补贴申报列表（承办企业只看到本单位的）',
      response: { description: '申报', schema: z.object({ items: z.array(z.object({}).loose()) }) },
    },
    async ({ params, actor }) => {
      const { state } = await engine.read(parcelsAggregate, params.code);
      const claims = state.status === 'active' ? state.claims : [];
      return {
        items: claims
          .filter((c) => actor!.role !== 'contractor' || c.business === actor!.org)
          .map(claimView),
      };
    },
  );

  api.route(
    {
      method: 'post',
      path: `${base}/:id/review`,
      tags: ['funds'],
      access: ['office'],
      params: ClaimParam,
      body: ReviewBody,
      errors: [404, 409],
      summary:
        '审核补贴申报：按件计算，受单个企业年度上限与全县总额上限约束，超出部分不补并说明理由',
      response: { description: '申报', schema: z.object({}).loose() },
    },
    async ({ params, body, actor }) => {
      const r = await engine.execute(
        parcelsAggregate,
        params.code,
        {
          type: 'ReviewParcelClaim',
          claimId: params.id,
          decision: body.decision,
          eligibleParcels: body.eligibleParcels ?? null,
        },
        { actor: actor!, reason: body.reason },
      );
      if (r.state.status !== 'active') throw new Error('unreachable');
      return claimView(r.state.claims.find((c) => c.id === params.id)!);
    },
  );

  api.route(
    {
      method: 'post',
      path: `${base}/:id/pay`,
      tags: ['funds'],
      access: ['finance'],
      params: ClaimParam,
      headers: Idem,
      errors: [404, 409],
      status: 201,
      summary: '拨付补贴（须带 Idempotency-Key，重复请求不重复拨付）',
      response: { description: '申报', schema: z.object({}).loose() },
    },
    async ({ params, actor, req, res }) => {
      const key = Idem.parse(req.headers)['idempotency-key'];
      const r = await engine.execute(
        parcelsAggregate,
        params.code,
        { type: 'PayParcelClaim', claimId: params.id, idempotencyKey: key },
        { actor: actor! },
      );
      if (r.state.status !== 'active') throw new Error('unreachable');
      if (!r.events.length) res.locals.status = 200;
      return claimView(r.state.claims.find((c) => c.id === params.id)!);
    },
  );
}
