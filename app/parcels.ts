// Parcel subsidy use cases (R-FUND-6): a quarterly claim with its e-waybill CSV, the office's review
// within the yearly and total caps, and finance's payment (R-FUND-7, once per idempotency key).
import { parse } from 'csv-parse/sync';
import { programRemaining } from '../activities/funds';
import type { ReadModelViews } from '../activities/store/event-store';
import { parcelsAggregate } from '../engine/aggregates';
import { invalid, rule as ruleError } from '../workflows/errors';
import type { ParcelRule, ParcelState } from '../workflows/parcels/decider';
import { waybillsOfRows, type Waybills } from '../workflows/parcels/waybills';
import type { Actor } from '../workflows/program/types';
import type { AppContext } from './context';
import { filesFor } from './files';
import { idempotent } from './idempotency';
import type { ClaimBody, In, ReviewBody } from './inputs';
import { loadProgram } from './queries';
import { markReplayed } from './result';
import { claimView } from './views';

function waybillsOfFile(csv: Buffer): Waybills {
  let rows: string[][];
  try {
    rows = parse(csv, { relax_column_count: true, skip_empty_lines: true, trim: true, bom: true });
  } catch (e) {
    throw invalid(
      `运单文件不是有效的 CSV：${(e as Error).message}`,
      'the waybill file is not valid CSV',
      'file',
    );
  }
  const w = waybillsOfRows(rows);
  if (w.bad)
    throw invalid(
      `运单文件有 ${w.bad} 行不是有效的运单号（6～40位字母、数字或-）`,
      `${w.bad} rows are not waybill numbers`,
      'file',
    );
  return w;
}

/** A logistics business claims a quarter's parcels; a waybill number is claimed once per program. Once
 * per Idempotency-Key when one is sent (app/idempotency.ts): a retry answers the first claim again. */
export async function claimParcels(
  ctx: AppContext,
  actor: Actor,
  t: { code: string },
  input: In<typeof ClaimBody>,
  idempotencyKey?: string,
) {
  type Claim = Awaited<ReturnType<typeof submitClaim>>;
  return idempotent(ctx, actor, idempotencyKey, {
    command: 'claimParcels',
    request: { target: t, input },
    run: (views) => submitClaim(ctx, actor, t, input, views),
    store: (claim) => claim,
    replay: (stored) => stored as Claim,
    rebuild: async (first) => {
      const { rows } = await ctx.pool.query<{ id: string }>(
        `SELECT data->>'id' AS id FROM event WHERE stream_id = $1 AND version BETWEEN $2 AND $3
            AND type = 'ParcelClaimSubmitted'`,
        [first.streamId, first.firstVersion, first.lastVersion],
      );
      const { state } = await ctx.engine.read(parcelsAggregate, t.code);
      return claimOf(state, rows[0].id);
    },
  });
}

async function submitClaim(
  ctx: AppContext,
  actor: Actor,
  t: { code: string },
  input: In<typeof ClaimBody>,
  views: ReadModelViews | undefined,
) {
  const { state: program } = await loadProgram(ctx, t.code);
  const f = (await filesFor<{ content: Buffer }>(ctx, actor, [input.file], 'sha256, content')).get(
    input.file,
  ); // the business's own upload of these bytes (issue 12.4)
  if (!f) throw invalid('运单文件不存在或不是本单位上传的', 'file not found or not yours', 'file');
  const waybills = waybillsOfFile(Buffer.from(f.content));
  // one array parameter (an `in` list of 150,000 numbers would exceed PostgreSQL's bind-parameter limit)
  const { rows: already } = await ctx.pool.query<{ waybill: string }>(
    'SELECT waybill FROM parcel_waybill WHERE program_code = $1 AND waybill = ANY($2::text[]) LIMIT 100',
    [t.code, waybills.numbers],
  );
  const ps = program.def.parcelSubsidy;
  const rule: ParcelRule | null = ps && {
    perParcel: ps.perParcel,
    perBusinessPerYear: ps.perBusinessPerYear,
    total: ps.total,
    reviewEvery: ps.reviewEvery,
    eligible: ps.eligible,
  };
  try {
    const r = await ctx.engine.execute(
      parcelsAggregate,
      t.code,
      {
        type: 'SubmitParcelClaim',
        programCode: t.code,
        rule,
        quarter: input.quarter,
        parcels: waybills.numbers.length,
        file: input.file,
        duplicates: [...waybills.repeated, ...already.map((w) => w.waybill)],
      },
      {
        actor,
        // the numbers go in with the claim, in its transaction: the primary key refuses a number twice
        extraViews: {
          waybills: { program_code: t.code, claim_id: input.file, numbers: waybills.numbers },
          ...views,
        },
      },
    );
    if (r.state.status !== 'active') throw new Error('unreachable: a claim left no claims');
    return claimView(r.state.claims[r.state.claims.length - 1]);
  } catch (e) {
    if ((e as { constraint?: string }).constraint === 'parcel_waybill_pkey') {
      throw ruleError(
        'R-FUND-6',
        '运单号已被其他申报使用（并发申报），不予受理',
        'waybill numbers were claimed concurrently by another claim',
      );
    }
    throw e;
  }
}

function claimOf(state: ParcelState, id: string) {
  const c = state.status === 'active' ? state.claims.find((x) => x.id === id) : undefined;
  if (!c) throw new Error('unreachable: the claim a command decided on is gone');
  return claimView(c);
}

export async function reviewClaim(
  ctx: AppContext,
  actor: Actor,
  t: { code: string; id: string },
  input: In<typeof ReviewBody>,
) {
  const r = await ctx.engine.execute(
    parcelsAggregate,
    t.code,
    {
      type: 'ReviewParcelClaim',
      claimId: t.id,
      decision: input.decision,
      eligibleParcels: input.eligibleParcels ?? null,
    },
    { actor, reason: input.reason },
  );
  return claimOf(r.state, t.id);
}

/** Finance pays an approved claim from central funds, within the program's remaining budget (R-FUND-7),
 * under the program's funds lock; once per idempotency key (app/idempotency.ts): the same key and claim
 * answer the first payment again (`replayed`), another claim under the key is refused. */
export async function payClaim(
  ctx: AppContext,
  actor: Actor,
  t: { code: string; id: string },
  idempotencyKey: string,
) {
  type Paid = Awaited<ReturnType<typeof payOnce>>;
  return idempotent(ctx, actor, idempotencyKey, {
    command: 'payClaim',
    request: { target: t },
    run: (views) => payOnce(ctx, actor, t, idempotencyKey, views),
    store: (out) => out,
    replay: (stored) => ({ ...(stored as Paid), replayed: true }),
    // the payment's event carries the key: paying again finds it and pays nothing
    rebuild: () => payOnce(ctx, actor, t, idempotencyKey, undefined),
  });
}

async function payOnce(
  ctx: AppContext,
  actor: Actor,
  t: { code: string; id: string },
  idempotencyKey: string,
  views: ReadModelViews | undefined,
) {
  const r = await ctx.fundsLock.run(t.code, async () =>
    ctx.engine.execute(
      parcelsAggregate,
      t.code,
      {
        type: 'PayParcelClaim',
        claimId: t.id,
        idempotencyKey,
        programRemaining: await programRemaining(ctx.pool, t.code),
      },
      { actor, ...(views ? { extraViews: views } : {}) },
    ),
  );
  const out = { claim: claimOf(r.state, t.id), replayed: r.events.length === 0 };
  return out.replayed ? markReplayed(out) : out;
}
