// The read side: every view, list and ledger the API, the CLI and the pages show, in one place. Each
// query takes the viewer where what it may see depends on who asks (sealed bids, R-TD-3).
import { THROTTLE, userThrottle } from '../activities/throttle';
import { openDeadlines } from '../activities/notify/reminders';
import {
  programAggregate,
  parcelsAggregate,
  subprojectAggregate,
  subprojectKey,
} from '../engine/aggregates';
import { notFound, programNotFound } from '../workflows/errors';
import { deadLetterCount } from './dead-letters';
import { NOTICE_KIND_NAMES, type NoticeKind } from '../workflows/notices';
import type { SubprojectStatus } from '../workflows/program/decider';
import { programFacts } from '../workflows/program/facts';
import {
  ROLE_NAMES,
  SOURCE_NAMES,
  SOURCES,
  type Actor,
  type Role,
} from '../workflows/program/types';
import { commandName } from '../workflows/commands';
import { sumFen } from '../workflows/money';
import {
  assertMayAccess,
  openedRounds,
  readableBids,
  redactEvent,
} from '../workflows/subproject/access';
import { ledgerOf } from '../workflows/subproject/delivery';
import { ledgerOrPlanned, parcelLedger, sumLedgers } from '../workflows/subproject/ledger';
import { subprojectStatus } from '../workflows/subproject/status';
import type { SubprojectState } from '../workflows/subproject/types';
import { daysOverdue, endOfDayShanghai } from '../workflows/time';
import type { AppContext } from './context';
import { filesFor } from './files';
import { bidView, ledgerView, subprojectView } from './subproject-views';
import { claimView, money, programRegisterView, programView } from './views';

const nowIso = (ctx: AppContext) => ctx.engine.clock.now().toISOString();

export type LiveSubprojects = Record<
  number,
  { status: SubprojectStatus; stage: string; contractorOrg: string | null }
>;

/** Status of each subproject from its own stream's read model (tendering, awarded, accepted, …). */
export async function liveSubprojects(ctx: AppContext, code: string): Promise<LiveSubprojects> {
  const rows = await ctx.prisma.subproject.findMany({
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

export async function loadProgram(ctx: AppContext, code: string) {
  const { state, version } = await ctx.engine.read(programAggregate, code);
  if (state.status === 'empty') throw programNotFound(code);
  return { state, version };
}

// ---- programs ----

export async function programDetail(ctx: AppContext, code: string) {
  const { state, version } = await loadProgram(ctx, code);
  return programView(state, version, nowIso(ctx), await liveSubprojects(ctx, code));
}

export async function listPrograms(ctx: AppContext) {
  const rows = await ctx.prisma.program.findMany({ orderBy: { code: 'asc' } });
  const t = ctx.engine.clock.now().getTime();
  return {
    items: rows.map((p) => ({
      code: p.code,
      name: p.name,
      province: p.province,
      county: p.county,
      year: p.year,
      status: p.status,
      phaseKey: p.phaseKey,
      phaseName: p.phaseName,
      phaseEnd: p.phaseEnd,
      overdueDays:
        p.status === 'active' && p.phaseEnd ? daysOverdue(endOfDayShanghai(p.phaseEnd), t) : null,
      total: money(Number(p.totalFen)),
      version: p.version,
    })),
  };
}

/** `types`: only events of these types (the public column reads its decisions alone). */
async function streamEvents(ctx: AppContext, streamId: string, types?: readonly string[]) {
  return ctx.prisma.event.findMany({
    where: { streamId, ...(types ? { type: { in: [...types] } } : {}) },
    orderBy: { version: 'asc' },
  });
}
type EventRow = Awaited<ReturnType<typeof streamEvents>>[number];
const eventView = (e: EventRow, shown: { data: unknown; actor: string }) => ({
  id: Number(e.id),
  commandName: commandName(e.command),
  roleName: ROLE_NAMES[e.role as Role] ?? e.role,
  version: e.version,
  type: e.type,
  data: shown.data,
  actor: shown.actor,
  role: e.role,
  command: e.command,
  reason: e.reason,
  at: e.at.toISOString(),
  prevHash: e.prevHash,
  hash: e.hash,
});

/** The register of what was built and done, and the attainment of every target (R-EV-1). */
export async function programRegister(ctx: AppContext, code: string, withHistory = true) {
  const { state } = await loadProgram(ctx, code);
  return programRegisterView(state, nowIso(ctx), withHistory);
}

/** A public submission's sender (name, phone, receipt) as the audit record shows it: to the office and
 * the supervisors; to anyone else (the finance bureau) the event without it (R-PUB-1). */
function senderShown(data: unknown, viewer: Actor | undefined): unknown {
  if (!viewer || viewer.role === 'office' || viewer.role === 'supervisor') return data;
  if (!data || typeof data !== 'object' || !('sender' in data)) return data;
  const { sender: _sender, ...rest } = data as Record<string, unknown>;
  return rest;
}

/** The program's audit record (R-PUB-3); `viewer` as senderShown. */
export async function programEvents(
  ctx: AppContext,
  code: string,
  types?: readonly string[],
  viewer?: Actor,
) {
  const rows = await streamEvents(ctx, programAggregate.streamId(code), types);
  if (!rows.length && !types) throw programNotFound(code);
  return {
    items: rows.map((e) => eventView(e, { data: senderShown(e.data, viewer), actor: e.actor })),
  };
}

// ---- subprojects ----

export async function loadSubproject(ctx: AppContext, code: string, seq: number) {
  return ctx.engine.read(subprojectAggregate, subprojectKey(code, seq));
}

/** The subproject as this viewer may see it (sealed bids R-TD-1, R-TD-3). */
export async function subprojectDetail(ctx: AppContext, viewer: Actor, code: string, seq: number) {
  const { state, version } = await loadSubproject(ctx, code, seq);
  if (state.status === 'empty') {
    const f = programFacts((await ctx.engine.read(programAggregate, code)).state, seq);
    return {
      programCode: f.code,
      seq,
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
  assertMayAccess(state, viewer);
  return subprojectView(state, viewer, version);
}

/** The latest round's bids this viewer may read (R-TD-1). */
export async function subprojectBids(ctx: AppContext, viewer: Actor, code: string, seq: number) {
  const { state } = await loadSubproject(ctx, code, seq);
  if (state.status === 'empty') throw notFound('该分项目没有招标', 'no tender for this subproject');
  const { round, bids } = readableBids(state, viewer);
  return { round, bids: bids.map(bidView) };
}

/** The subproject's audit record; before a round's opening its bids show neither content nor bidder. */
/** `loaded`: the subproject's state when the caller has it already; `types` as streamEvents. */
export async function subprojectEvents(
  ctx: AppContext,
  code: string,
  seq: number,
  opts: {
    /** the state, or its load in flight (the events are read beside it) */
    loaded?: SubprojectState | Promise<SubprojectState>;
    types?: readonly string[];
    viewer?: Actor;
  } = {},
) {
  // state and events read at once: the redaction only ever shows more once bids are opened, so a state
  // a command newer or older than the events seals at least what those events' own moment sealed
  const [state, rows] = await Promise.all([
    opts.loaded ?? loadSubproject(ctx, code, seq).then((r) => r.state),
    streamEvents(ctx, subprojectAggregate.streamId(subprojectKey(code, seq)), opts.types),
  ]);
  const opened = openedRounds(state);
  return {
    items: rows.map((e) => {
      const shown = redactEvent(
        { type: e.type, data: e.data as Record<string, unknown>, actor: e.actor },
        opened,
      );
      return eventView(e, { ...shown, data: senderShown(shown.data, opts.viewer) });
    }),
  };
}

/** R-FUND-8 for one subproject. */
export async function subprojectLedger(ctx: AppContext, viewer: Actor, code: string, seq: number) {
  const { state } = await loadSubproject(ctx, code, seq);
  if (state.status === 'empty') throw notFound('该分项目尚未采购', 'nothing procured yet');
  assertMayAccess(state, viewer);
  return { programCode: code, seq, ...ledgerView(ledgerOf(state)) };
}

/** R-FUND-8 for a program: per subproject and in total, per source. */
export async function programLedger(ctx: AppContext, code: string) {
  const { state: p } = await loadProgram(ctx, code);
  const rows = await Promise.all(
    p.def.subprojects.map(async (sp) => {
      const s: SubprojectState = (await loadSubproject(ctx, code, sp.seq)).state;
      return { sp, s, L: ledgerOrPlanned(s, sp.funding) };
    }),
  );
  const entries = await ctx.prisma.ledgerEntry.count({ where: { programCode: code } });
  const { state: parcels } = await ctx.engine.read(parcelsAggregate, code);
  const parcelPaid = sumFen(
    parcels.status === 'active'
      ? parcels.claims.filter((c) => c.status === 'paid').map((c) => c.review?.payable ?? 0)
      : [],
  );
  return {
    programCode: code,
    subprojects: rows.map(({ sp, s, L }) => ({
      seq: sp.seq,
      name: sp.name,
      status: s.status === 'active' ? subprojectStatus(s) : 'planned',
      ...ledgerView(L),
    })),
    /** R-FUND-6 parcel subsidies paid from central funds (in the totals' disbursed) */
    parcelSubsidies: money(parcelPaid),
    ...ledgerView(sumLedgers([...rows.map((r) => r.L), parcelLedger(parcelPaid)])),
    entries,
  };
}

// ---- parcel subsidies ----

/** Claims of a program; a contractor sees its own organisation's only. */
export async function parcelClaims(ctx: AppContext, viewer: Actor, code: string) {
  const { state } = await ctx.engine.read(parcelsAggregate, code);
  const claims = state.status === 'active' ? state.claims : [];
  return {
    items: claims
      .filter((c) => viewer.role !== 'contractor' || c.business === viewer.org)
      .map(claimView),
  };
}

// ---- supervision ----

/** National (this database) summary: programs by phase, money by source, subprojects by status. */
export async function nationalSummary(ctx: AppContext) {
  const { pool } = ctx;
  const [phases, budget, ledger, statuses] = await Promise.all([
    pool.query<{ phase_name: string; n: number }>(
      'SELECT phase_name, count(*)::int AS n FROM program GROUP BY phase_name ORDER BY n DESC',
    ),
    pool.query<{ central: string; local: string; enterprise: string; n: number }>(
      'SELECT sum(central_fen) AS central, sum(local_fen) AS local, sum(enterprise_fen) AS enterprise, count(*)::int AS n FROM program',
    ),
    pool.query<{ kind: string; source: string; fen: string }>(
      'SELECT kind, source, sum(amount_fen) AS fen FROM ledger_entry GROUP BY kind, source',
    ),
    pool.query<{ status: string; n: number }>(
      'SELECT status, count(*)::int AS n FROM subproject GROUP BY status ORDER BY status',
    ),
  ]);
  const b = budget.rows[0];
  const flow = (kind: string) =>
    Object.fromEntries(
      SOURCES.map((s) => [
        s,
        money(Number(ledger.rows.find((r) => r.kind === kind && r.source === s)?.fen ?? 0)),
      ]),
    );
  return {
    programs: b.n,
    byPhase: phases.rows.map((r) => ({ phase: r.phase_name, programs: r.n })),
    budget: Object.fromEntries(SOURCES.map((s) => [s, money(Number(b[s] ?? 0))])),
    disbursed: flow('disbursement'),
    clawbackDemanded: flow('clawback_demand'),
    recovered: flow('recovery'),
    parcelSubsidies: flow('parcel_subsidy'),
    subprojectsByStatus: Object.fromEntries(statuses.rows.map((r) => [r.status, r.n])),
  };
}

/** Everything overdue (R-PH-3), oldest first, with the party responsible. */
export async function overdueItems(ctx: AppContext) {
  const now = ctx.engine.clock.now().getTime();
  const items = (await openDeadlines(ctx.pool, new Date(now)))
    .flatMap((x) => {
      const days = daysOverdue(Date.parse(x.deadline), now);
      return days === null
        ? []
        : [
            {
              programCode: x.programCode,
              what: x.what,
              deadline: x.deadline,
              party: x.party,
              daysOverdue: days,
            },
          ];
    })
    .sort((a, b) => a.deadline.localeCompare(b.deadline));
  return { items, total: items.length };
}

// ---- notices and mail ----

const NOTICE_SUMMARY = {
  id: true,
  programCode: true,
  docNumber: true,
  kind: true,
  title: true,
  issuedAt: true,
  sha256: true,
  pdfSha256: true,
  correctsId: true,
} as const;

/** Official notices (R-PUB-1), newest first. */
/** The most notices a list answers (the latest first). */
export const NOTICE_LIST_LIMIT = 500;

export async function listNotices(ctx: AppContext, q: { program?: string; kind?: NoticeKind }) {
  const rows = await ctx.prisma.officialNotice.findMany({
    where: {
      isPublic: true,
      ...(q.program ? { programCode: q.program } : {}),
      ...(q.kind ? { kind: q.kind } : {}),
    },
    orderBy: { id: 'desc' },
    take: NOTICE_LIST_LIMIT,
    select: NOTICE_SUMMARY,
  });
  return {
    items: rows.map((n) => ({
      id: Number(n.id),
      programCode: n.programCode,
      docNumber: n.docNumber,
      kind: n.kind,
      kindName: NOTICE_KIND_NAMES[n.kind as NoticeKind] ?? n.kind,
      title: n.title,
      issuedAt: n.issuedAt.toISOString(),
      sha256: n.sha256,
      pdfSha256: n.pdfSha256,
      pdf: n.pdfSha256 ? `/api/notices/${n.id}/pdf` : null,
      html: `/api/notices/${n.id}`,
      corrects: n.correctsId ? Number(n.correctsId) : null,
    })),
  };
}

/** A notice id as stored (BIGINT): larger ids name no notice. */
const noticeId = (id: number): bigint | null =>
  Number.isSafeInteger(id) && id > 0 ? BigInt(id) : null;

/** A notice as issued: its HTML and SHA-256. */
export async function noticeHtml(ctx: AppContext, id: number) {
  const key = noticeId(id);
  const n =
    key === null ? null : await ctx.prisma.officialNotice.findUnique({ where: { id: key } });
  if (!n) throw notFound('通知不存在', 'notice not found');
  return { html: n.html, sha256: n.sha256 };
}

/** A notice's PDF as issued. */
export async function noticePdf(ctx: AppContext, id: number) {
  const key = noticeId(id);
  const n =
    key === null ? null : await ctx.prisma.officialNotice.findUnique({ where: { id: key } });
  if (!n?.pdf) throw notFound('该通知没有 PDF', 'no PDF for this notice');
  return { pdf: Buffer.from(n.pdf), sha256: n.pdfSha256 ?? '', fileName: `${n.docNumber}.pdf` };
}

/** Mails whose retries ran out. */
export async function deadLetters(ctx: AppContext) {
  const rows = await ctx.prisma.mailMessage.findMany({
    where: { status: 'dead' },
    orderBy: { id: 'asc' },
  });
  return {
    items: rows.map((m) => ({
      id: Number(m.id),
      recipient: m.recipient,
      subject: m.subject,
      attempts: m.attempts,
      lastError: m.lastError,
      createdAt: m.createdAt.toISOString(),
    })),
  };
}

// ---- users and files ----

export const countUsers = (ctx: AppContext) => ctx.prisma.user.count();

export async function listUsers(ctx: AppContext) {
  const users = await ctx.prisma.user.findMany({
    include: { org: true },
    orderBy: { username: 'asc' },
  });
  const throttle = await userThrottle(
    ctx.pool,
    users.map((u) => u.username),
    ctx.engine.clock.now(),
  );
  return users.map((u) => {
    const t = throttle.get(u.username);
    return {
      username: u.username,
      role: u.role,
      org: u.org?.name ?? null,
      displayName: u.displayName,
      email: u.email,
      disabled: u.disabled,
      /** failed log-ins counted now (0: none) */
      failedLogins: t?.failures ?? 0,
      /** locked by failed log-ins until then (null: not locked now) */
      lockedUntil: t?.lockedUntil ?? null,
      /** the office can unlock it: its failures reached the threshold */
      unlockable: (t?.failures ?? 0) >= THROTTLE.perUser,
    };
  });
}

/** An evidence file, for whoever may read it (a contractor: its own organisation's uploads). */
export async function evidenceFile(ctx: AppContext, viewer: Actor, sha256: string) {
  // another organisation's file is answered exactly as an unknown one: a 403 would say it exists (issue 12.4)
  const f = (
    await filesFor<{ name: string; type: string; content: Buffer }>(
      ctx,
      viewer,
      [sha256],
      'sha256, name, type, content',
    )
  ).get(sha256);
  if (!f) throw notFound('文件不存在', 'file not found');
  return f;
}

/** The database answers, and how fast; and how many notifications are dead letters (GET /healthz). */
export async function databaseHealth(ctx: AppContext) {
  const t0 = performance.now();
  await ctx.pool.query('SELECT 1');
  const dbMs = Math.round((performance.now() - t0) * 10) / 10;
  return { db: 'up' as const, dbMs, deadLetters: await deadLetterCount(ctx) };
}

/** 已办: what this user did, newest first, from the audit record (R-PUB-3). */
export async function doneBy(ctx: AppContext, actor: Actor) {
  const rows = await ctx.prisma.event.findMany({
    where: { actor: actor.username },
    orderBy: { id: 'desc' },
    take: 200,
    select: { id: true, streamId: true, type: true, command: true, reason: true, at: true },
  });
  return rows.map((e) => {
    const m =
      /^subproject-(.+)-(\d+)$/.exec(e.streamId) ?? /^(?:program|parcels)-(.+)$/.exec(e.streamId);
    const href = !m ? null : m[2] ? `/programs/${m[1]}/subprojects/${m[2]}` : `/programs/${m[1]}`;
    return {
      id: Number(e.id),
      stream: e.streamId,
      type: e.type,
      command: e.command,
      reason: e.reason,
      at: e.at.toISOString(),
      href,
    };
  });
}

/** Money out and back per Beijing month and source (the fund-execution chart; R-FUND-8). */
export async function fundFlowByMonth(ctx: AppContext, code: string) {
  const { rows } = await ctx.pool.query<{
    month: string;
    source: string;
    kind: string;
    fen: string;
  }>(
    `SELECT to_char(at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM') AS month, source, kind, SUM(amount_fen) AS fen
       FROM ledger_entry WHERE program_code = $1 AND kind IN ('disbursement', 'parcel_subsidy', 'recovery')
      GROUP BY 1, 2, 3 ORDER BY 1`,
    [code],
  );
  // every month from the first payment to the last, those without any too (a time axis, not a list)
  const months: string[] = [];
  if (rows.length)
    for (let [y, m] = rows[0].month.split('-').map(Number); ; m === 12 ? (y++, (m = 1)) : m++) {
      const month = `${y}-${String(m).padStart(2, '0')}`;
      months.push(month);
      if (month >= rows[rows.length - 1].month) break;
    }
  const net = (source: string, month: string) =>
    rows
      .filter((r) => r.source === source && r.month === month)
      .reduce((n, r) => n + (r.kind === 'recovery' ? -Number(r.fen) : Number(r.fen)), 0);
  return {
    months,
    bySource: SOURCES.map((source) => ({
      source,
      name: SOURCE_NAMES[source],
      fen: months.map((m) => net(source, m)),
    })),
  };
}
