// Parcel subsidy claims (R-FUND-6): e-waybill CSV evidence, duplicate waybills rejected across claims,
// review within the yearly and total caps (partial payment with the reason stated), idempotent payment.
// Each route translates HTTP to a use case (app/parcels.ts, app/queries.ts) and back.
import { z } from 'zod';
import type { AppContext } from '../../app/context';
import { ClaimBody, ReviewBody } from '../../app/inputs';
import * as parcels from '../../app/parcels';
import * as queries from '../../app/queries';
import type { Api } from '../http';
import {
  ClaimParam,
  IDEMPOTENT_REPLAY,
  IdempotencyHeader,
  OptionalIdempotencyHeader,
  ProgramCode,
} from '../schemas';

export function parcelRoutes(api: Api, ctx: AppContext): void {
  const base = '/api/programs/:code/parcel-claims';

  api.route(
    {
      method: 'post',
      path: base,
      tags: ['funds'],
      access: ['contractor'],
      params: ProgramCode,
      headers: OptionalIdempotencyHeader,
      body: ClaimBody,
      errors: [404, 409, 422],
      status: 201,
      alsoSuccess: [IDEMPOTENT_REPLAY],
      summary: '物流企业按季度申报农产品上行快递补贴（附电子运单 CSV）',
      description:
        '运单号在本项目内只能申报一次；重复的运单号 422（R-FUND-6）。可带 Idempotency-Key：重试返回首次申报（200）。',
      response: {
        description: '申报',
        schema: z.object({ id: z.string(), parcels: z.number().int(), status: z.string() }).loose(),
      },
    },
    async ({ params, body, actor, req }) =>
      parcels.claimParcels(
        ctx,
        actor,
        params,
        body,
        OptionalIdempotencyHeader.parse(req.headers)['idempotency-key'],
      ),
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
    async ({ params, actor }) => queries.parcelClaims(ctx, actor, params.code),
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
    async ({ params, body, actor }) => parcels.reviewClaim(ctx, actor, params, body),
  );

  api.route(
    {
      method: 'post',
      path: `${base}/:id/pay`,
      tags: ['funds'],
      access: ['finance'],
      params: ClaimParam,
      headers: IdempotencyHeader,
      errors: [404, 409, 422],
      status: 201,
      alsoSuccess: [IDEMPOTENT_REPLAY],
      summary: '拨付补贴（须带 Idempotency-Key，重复请求不重复拨付）',
      description:
        '同一 Idempotency-Key 重复请求返回首次结果（200），不再拨付；同一键用于另一申报则 422 IDEMPOTENCY-MISMATCH。',
      response: { description: '申报', schema: z.object({}).loose() },
    },
    async ({ params, actor, req, res }) => {
      const key = IdempotencyHeader.parse(req.headers)['idempotency-key'];
      const { claim, replayed } = await parcels.payClaim(ctx, actor, params, key);
      if (replayed) {
        res.locals.status = 200;
        res.setHeader('Idempotent-Replayed', 'true');
      }
      return claim;
    },
  );
}
