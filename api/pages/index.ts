// The web console (工作台): server-rendered pages for every role, in Chinese, complete without
// JavaScript. Every form calls the same use case as its API route (app/) with the same input schema
// (app/inputs.ts); a refusal is the API's problem answer, shown beside the field it names.
//
// Sessions: the log-in form opens the same session as POST /api/auth/login; its token travels in an
// HttpOnly, SameSite=Lax cookie (Secure when COOKIE_SECURE is set). Every form carries a CSRF token
// (double submit, bound to the session: csrf-csrf), and a POST without it is refused.
import { ProgramTable } from '../../workflows/program/table';
import { refuseBadText, textDefect, textRefusal } from '../text-guard';
import { randomBytes, randomUUID } from 'node:crypto';
import cookieParser from 'cookie-parser';
import { doubleCsrf } from 'csrf-csrf';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import multer from 'multer';
import type { ZodType } from 'zod';
import * as auth from '../../app/auth';
import type { AppContext } from '../../app/context';
import * as delivery from '../../app/delivery';
import { MAX_FILE_BYTES, uploadFile } from '../../app/files';
import { inboxCount, INBOX_PAGE, myTasks } from '../../app/inbox';
import * as inputs from '../../app/inputs';
import { ROOT } from '../../app/paths';
import * as parcels from '../../app/parcels';
import { FundUseBody, lastEndedQuarter } from '../../app/fund-use';
import * as programs from '../../app/programs';
import * as queries from '../../app/queries';
import * as subprojects from '../../app/subprojects';
import {
  ROLE_NAMES,
  SOURCES,
  TRAINING_ARCHIVE_ITEMS,
  type Actor,
  type Funding,
  type Role,
  type Source,
} from '../../workflows/program/types';
import { DomainError, invalid, notFound } from '../../workflows/errors';
import { parseMoney } from '../../workflows/money';
import { trancheBalance } from '../../workflows/subproject/decider';
import { formProblem, lines, nest, valuesOf } from './forms';
import { sendFile } from '../download';
import { XLSX_TYPE } from '../../app/budget-xlsx';
import { taizhangWorkbook } from '../../app/taizhang';
import { attainmentChart, fundExecutionChart } from './charts';
import * as register from '../../app/register';
import { createPageRenderer } from './render';
import { userPages } from './users';
import type { FormOptions, Page } from './kit';
export type { FormOptions, Page, PageKit } from './kit';

export const SESSION_COOKIE = 'shifan_session';
/** A money form's idempotency key comes with the page (hidden field), so a double click or a resent
 * form moves money once; a form without one is refused, as the API refuses a request without it. */
const formKey = (req: Request): string => {
  const key = field(req, 'idempotencyKey');
  if (!key)
    throw invalid(
      '表单缺少幂等键，请刷新页面后重新提交',
      'the form carries no idempotency key',
      'idempotencyKey',
    );
  return key;
};
/** The form's fields without the idempotency key (the use case takes it apart from its input). */
const withoutKey = (b: Record<string, unknown>) => {
  const { idempotencyKey: _key, ...rest } = b;
  return rest;
};
/** Path parameters (the route patterns below name each one). */
const P = (req: Request) => req.params as Record<string, string>;
/** A form field as text (urlencoded bodies hold strings). */
const field = (req: Request, name: string): string => {
  const v = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof v === 'string' ? v : '';
};
const ANON_COOKIE = 'shifan_visitor';

/** The contract form's running difference per source (R-TD-2, the decider's trancheBalance) from the
 * rows typed so far: amounts that are not exact 万元 are named and left out of the sums. */
function contractBalance(
  target: { code: string; seq: number },
  budget: readonly { source: Source; name: string; fen: number }[],
  values: Record<string, string> | undefined,
  live: boolean,
) {
  const typed: { source: Source; amount: number }[] = [];
  const invalidRows: { row: number; text: string }[] = [];
  for (let i = 0; values && `tranches[${i}].amount` in values; i++) {
    const text = (values[`tranches[${i}].amount`] ?? '').trim();
    if (!text) continue;
    const src = values[`tranches[${i}].source`] as Source;
    const source = (SOURCES as readonly string[]).includes(src) ? src : 'central';
    try {
      typed.push({ source, amount: parseMoney(text, '万元') });
    } catch (e) {
      if (!(e instanceof DomainError)) throw e;
      invalidRows.push({ row: i + 1, text });
    }
  }
  const funding = Object.fromEntries(budget.map((b) => [b.source, b.fen])) as Funding;
  const rows = trancheBalance(funding, typed).map((r) => ({
    ...r,
    name: budget.find((b) => b.source === r.source)?.name ?? r.source,
    absDiff: Math.abs(r.diff),
    state: r.diff === 0 ? 'ok' : r.diff > 0 ? 'short' : 'over',
  }));
  return {
    ...target,
    live,
    rows,
    invalid: invalidRows,
    balanced: invalidRows.length === 0 && rows.every((r) => r.diff === 0),
  };
}

export interface PageOptions {
  /** mark cookies Secure (behind HTTPS) */
  secureCookies?: boolean;
  /** the CSRF secret; by default a random one per process (forms open before a restart are refused once) */
  csrfSecret?: string;
}

export function pageRoutes(ctx: AppContext, opts: PageOptions = {}): Router {
  const router = express.Router();
  const renderer = createPageRenderer();
  const secret = opts.csrfSecret ?? randomBytes(32).toString('hex');
  const cookie = {
    httpOnly: true,
    sameSite: 'lax' as const,
    secure: !!opts.secureCookies,
    path: '/',
  };
  const { generateCsrfToken, doubleCsrfProtection } = doubleCsrf({
    getSecret: () => secret,
    getSessionIdentifier: (req) =>
      String(
        (req.cookies as Record<string, string>)[SESSION_COOKIE] ??
          (req.cookies as Record<string, string>)[ANON_COOKIE] ??
          '',
      ),
    cookieName: 'shifan_csrf',
    cookieOptions: cookie,
    getCsrfTokenFromRequest: (req) =>
      (req.body as Record<string, string> | undefined)?._csrf ?? req.headers['x-csrf-token'],
  });
  const upload = multer({
    storage: multer.memoryStorage(),
    limits: { fileSize: MAX_FILE_BYTES, files: 40 },
  });

  router.use('/assets/htmx.min.js', (_req, res) =>
    res.sendFile(`${ROOT}/node_modules/htmx.org/dist/htmx.min.js`, { maxAge: '1d' }),
  );
  router.use('/assets', express.static(`${ROOT}/templates/pages/assets`, { maxAge: '1h' }));
  router.use(cookieParser());
  router.use(express.urlencoded({ extended: false, limit: '1mb' }));
  // the API's guard on what reaches a use case (NUL, lone surrogates), for forms and query strings too
  router.use(refuseBadText);
  router.use((req, res, next) => {
    const c = req.cookies as Record<string, string>;
    if (!c[SESSION_COOKIE] && !c[ANON_COOKIE]) {
      const id = randomUUID();
      c[ANON_COOKIE] = id;
      res.cookie(ANON_COOKIE, id, cookie);
    }
    next();
  });

  const actorOf = async (req: Request): Promise<Actor | null> => {
    const token = (req.cookies as Record<string, string>)[SESSION_COOKIE];
    return token ? auth.authenticate(ctx, token) : null;
  };
  const send = async (
    req: Request,
    res: Response,
    actor: Actor | null,
    page: string,
    data: Record<string, unknown>,
    status = 200,
  ) => {
    const taskCount =
      typeof data.taskCount === 'number'
        ? data.taskCount
        : actor
          ? await inboxCount(ctx, actor)
          : 0;
    res
      .status(status)
      .type('html')
      .setHeader('Cache-Control', 'no-store')
      .send(
        renderer.render(page, {
          ...data,
          me: actor && { ...actor, roleName: ROLE_NAMES[actor.role] },
          taskCount,
          csrf: generateCsrfToken(req, res, { overwrite: false }),
          flash: typeof req.query.ok === 'string' ? req.query.ok : null,
          now: ctx.engine.clock.now().toISOString(),
        }),
      );
  };

  /** A page for logged-in users; others go to the log-in form. */
  const page = (path: string, build: Page): void => {
    router.get(path, async (req, res, next) => {
      try {
        const actor = await actorOf(req);
        if (!actor) return res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
        const { page: name, data } = await build(req, actor);
        await send(req, res, actor, name, data);
      } catch (e) {
        await failed(req, res, e, next);
      }
    });
  };

  const failed = async (req: Request, res: Response, e: unknown, next: NextFunction) => {
    const p = formProblem(e);
    if (!p) return next(e);
    await send(req, res, await actorOf(req).catch(() => null), 'error', { problem: p }, p.status);
  };

  /**
   * A form: parse it with the use case's own schema, run the use case, then back to the page (303);
   * a refusal renders the page again with the problem beside the field and the values kept.
   */
  function form<S extends ZodType>(path: string, opts: FormOptions<S>) {
    const handlers = [
      ...(opts.upload ? [upload.any()] : []),
      doubleCsrfProtection,
      async (req: Request, res: Response, next: NextFunction) => {
        const actor = await actorOf(req);
        if (!actor) return res.redirect(303, '/login');
        const formName = field(req, '_form') || path;
        try {
          if (!(opts.roles as readonly string[]).includes(actor.role))
            return await send(
              req,
              res,
              actor,
              'error',
              {
                problem: {
                  status: 403,
                  message: `角色「${ROLE_NAMES[actor.role]}」无权执行此操作`,
                  fields: {},
                },
              },
              403,
            );
          // multipart forms are parsed here, after the router's text guard: the same check
          const bad = opts.upload ? textDefect(req.body) : null;
          if (bad) throw textRefusal(bad.path, bad.defect);
          const raw = opts.shape
            ? opts.shape(nest(req.body as Record<string, unknown>), req, actor)
            : nest(req.body as Record<string, unknown>);
          const input = (opts.schema ? opts.schema.parse(raw) : raw) as inputs.In<S>;
          await opts.run(actor, req, input);
          res.redirect(303, `${opts.back(req)}?ok=${encodeURIComponent(opts.done)}`);
        } catch (e) {
          const problem = formProblem(e);
          if (!problem) return next(e);
          const { page: name, data } = await opts.view(req, actor, {
            problem,
            values: valuesOf(req.body),
            form: formName,
          });
          await send(
            req,
            res,
            actor,
            name,
            { ...data, problem, values: valuesOf(req.body), form: formName },
            problem.status,
          );
        }
      },
    ];
    router.post(path, ...handlers);
  }

  // ---- log-in ----
  router.get('/login', async (req, res) => {
    if (await actorOf(req)) return res.redirect(303, '/');
    await send(req, res, null, 'login', {
      next: typeof req.query.next === 'string' ? req.query.next : '/',
    });
  });
  router.post('/login', doubleCsrfProtection, async (req, res, next) => {
    try {
      const body = req.body as Record<string, string>;
      const input = inputs.LoginBody.safeParse({
        username: body.username ?? '',
        password: body.password ?? '',
      });
      const r = input.success
        ? await auth.login(ctx, input.data, req.ip ?? null)
        : ({ refused: 'wrong' } as const);
      const nextUrl =
        typeof body.next === 'string' && body.next.startsWith('/') && !body.next.startsWith('//')
          ? body.next
          : '/';
      if ('refused' in r) {
        const throttled = r.refused === 'throttled';
        if (throttled) res.setHeader('Retry-After', String(r.retryAfter));
        return await send(
          req,
          res,
          null,
          'login',
          {
            next: nextUrl,
            values: { username: body.username ?? '' },
            problem: {
              status: throttled ? 429 : 401,
              message: throttled
                ? `登录失败次数过多，账户暂时锁定，请 ${r.retryAfter} 秒后再试（或请领导小组办公室解锁）`
                : '用户名或密码不正确',
              fields: {},
            },
          },
          throttled ? 429 : 401,
        );
      }
      const session = r;
      // a browser-session cookie: the server's session (12 h) decides when it ends
      res.cookie(SESSION_COOKIE, session.token, cookie);
      res.redirect(303, nextUrl);
    } catch (e) {
      next(e);
    }
  });
  router.post('/logout', doubleCsrfProtection, async (req, res) => {
    const token = (req.cookies as Record<string, string>)[SESSION_COOKIE];
    if (token) await auth.logout(ctx, token);
    res.clearCookie(SESSION_COOKIE, { path: '/' });
    res.redirect(303, '/login');
  });

  // ---- 待办 ----
  page('/', async (req, actor) => {
    // ?page=N: a page number as typed; anything else is the first page
    const page = typeof req.query.page === 'string' ? req.query.page : '';
    const asked = /^[1-9][0-9]{0,5}$/.test(page) ? Number(page) : 1;
    const r = await myTasks(ctx, actor, asked);
    return {
      page: 'inbox',
      data: {
        title: '待办',
        ...r,
        taskCount: r.total,
        shown: INBOX_PAGE,
        prev: r.page > 1 ? r.page - 1 : null,
        next: r.page < r.pages ? r.page + 1 : null,
      },
    };
  });
  page('/done', async (_req, actor) => ({
    page: 'done',
    data: { title: '已办', items: await queries.doneBy(ctx, actor) },
  }));
  const programsPage: Page = async (_req, actor, problem) => ({
    page: 'programs',
    data: {
      title: '项目',
      ...(await queries.listPrograms(ctx)),
      isOffice: actor.role === 'office',
      ...problem,
      // a workbook's problems name their cell in the message already (资金安排表!I7: R-FUND-2 …)
      problemList: Object.entries(problem?.problem.fields ?? {}).map(([path, message]) => ({
        path: message.startsWith(path) ? '' : path,
        message,
      })),
    },
  });
  page('/programs', programsPage);
  // the office imports a budget table (资金安排表) from a file: the JSON POST /api/programs takes, or
  // the county's Excel workbook (POST /api/programs/xlsx), told apart by their first bytes
  form('/programs', {
    roles: ['office'],
    schema: undefined,
    upload: true,
    run: async (a, r) => {
      const file = ((r.files as Express.Multer.File[] | undefined) ?? []).find(
        (f) => f.fieldname === 'table' && f.size > 0,
      );
      if (!file)
        throw invalid(
          '请选择资金安排表文件（.xlsx 或 JSON）',
          'choose the budget table file',
          'table',
        );
      if (
        file.buffer.subarray(0, 2).toString('latin1') === 'PK' ||
        /\.xlsx$/i.test(file.originalname)
      )
        return programs.importProgramXlsx(ctx, a, file.buffer);
      let table: unknown;
      try {
        table = JSON.parse(file.buffer.toString('utf8'));
      } catch (e) {
        throw invalid(
          `文件不是有效的 JSON 或 Excel 工作簿：${(e as Error).message}`,
          `the file is neither JSON nor an Excel workbook: ${(e as Error).message}`,
          'table',
        );
      }
      const bad = textDefect(table);
      if (bad) throw textRefusal(bad.path, bad.defect);
      return programs.importProgram(ctx, a, ProgramTable.parse(table));
    },
    back: () => '/programs',
    view: programsPage,
    done: '已导入资金安排表',
  });

  /** A file to download (templates, exports) for logged-in users of `roles`. */
  const download = (
    path: string,
    roles: readonly string[] | 'any',
    build: (req: Request) => Promise<{ bytes: Buffer; type: string; name: string }>,
  ): void => {
    router.get(path, async (req, res, next) => {
      try {
        const actor = await actorOf(req);
        if (!actor) return res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
        if (roles !== 'any' && !roles.includes(actor.role))
          throw new DomainError(
            'FORBIDDEN-ROLE',
            'forbidden',
            `角色「${ROLE_NAMES[actor.role]}」无权下载此文件`,
            `role ${actor.role} may not download this file`,
          );
        const f = await build(req);
        res.setHeader('Cache-Control', 'no-store');
        sendFile(res, f.bytes, f.type, f.name);
      } catch (e) {
        await failed(req, res, e, next);
      }
    });
  };
  download('/programs/template.xlsx', 'any', async () => ({
    bytes: await programs.budgetTemplateXlsx(),
    type: XLSX_TYPE,
    name: '资金安排表模板.xlsx',
  }));
  download('/programs/:code/taizhang.xlsx', ['office', 'finance', 'supervisor'], async (req) => ({
    bytes: await taizhangWorkbook(ctx, P(req).code),
    type: XLSX_TYPE,
    name: `${P(req).code}-项目台账.xlsx`,
  }));
  download('/programs/:code/table.xlsx', 'any', async (req) => ({
    bytes: await programs.programTableXlsx(ctx, P(req).code),
    type: XLSX_TYPE,
    name: `${P(req).code}-资金安排表.xlsx`,
  }));

  // ---- a program ----
  const programPage: Page = async (req, actor, problem) => {
    const code = P(req).code;
    const program = await queries.programDetail(ctx, code);
    const canAudit = ['office', 'finance', 'supervisor'].includes(actor.role);
    const readsReports = actor.role === 'office' || actor.role === 'supervisor';
    const [events, notices, ledger, flow, claims, reports] = await Promise.all([
      canAudit ? queries.programEvents(ctx, code, undefined, actor) : null,
      queries.listNotices(ctx, { program: code }),
      canAudit ? queries.programLedger(ctx, code) : null,
      queries.fundFlowByMonth(ctx, code),
      program.parcelSubsidy && actor.role !== 'evaluator'
        ? queries.parcelClaims(ctx, actor, code)
        : null,
      // R-PUB-1: reports from the public, with their senders' contacts: the office and supervisors only
      readsReports ? programs.programReports(ctx, actor, code) : null,
    ]);
    const registerView = await queries.programRegister(ctx, code, false); // the page draws no history
    const phaseIndex = program.phase?.index ?? program.phases.length;
    const next = program.phases[phaseIndex + 1]?.key ?? 'closed';
    return {
      page: 'program',
      data: {
        title: program.name,
        program,
        subprojects: program.subprojects.filter(
          (s) => actor.role !== 'contractor' || !s.contractorOrg || s.contractorOrg === actor.org,
        ),
        events: events?.items.slice().reverse(),
        notices: notices.items,
        ledger,
        chart: fundExecutionChart(flow),
        // R-EV-1: the targets, their figures and a bar each
        targetsChart: attainmentChart(program.attainment),
        enteredTargets: program.attainment.filter((a) => a.measure !== 'register'),
        csvHeaders: {
          stations: register.STATION_CSV_HEADER,
          trainings: register.TRAINING_CSV_HEADER,
          subsidies: register.FUNDED_CSV_HEADER,
        },
        register: registerView,
        funded: program.unitCaps.length ? registerView.funded : null,
        nextPhase: next,
        isOffice: actor.role === 'office',
        is: { [actor.role]: true },
        parcels: claims?.items ?? null,
        hasParcels: claims !== null,
        reports: reports?.items ?? null,
        lastQuarter: lastEndedQuarter(ctx.engine.clock.now().toISOString()),
        problemList: Object.entries(problem?.problem.fields ?? {}).map(([path, message]) => ({
          path,
          message,
        })),
        // a finding, a claim or a payment sent twice (a double click, a resent form) is recorded once
        formKey: randomUUID(),
        ...problem,
      },
    };
  };
  page('/programs/:code', programPage);
  const programBack = (req: Request) => `/programs/${P(req).code}`;
  form('/programs/:code/gates/:gate', {
    roles: ['office'],
    schema: inputs.GateActBody,
    run: (actor, req, input) =>
      programs.recordGateAct(ctx, actor, { code: P(req).code, gate: P(req).gate as never }, input),
    back: programBack,
    view: programPage,
    done: '已登记关口事项',
  });
  const programForm = <S extends ZodType>(
    action: string,
    roles: readonly Role[],
    schema: S | undefined,
    run: (actor: Actor, req: Request, input: inputs.In<S>) => Promise<unknown>,
    done: string,
    extra: Pick<FormOptions<S>, 'shape' | 'upload'> = {},
  ) =>
    form(`/programs/:code/${action}`, {
      roles,
      schema,
      run,
      back: programBack,
      view: programPage,
      done,
      ...extra,
    });
  const code = (r: Request) => ({ code: P(r).code });
  programForm(
    'findings',
    ['office'],
    inputs.FindingBody,
    (a, r, i) => programs.recordFinding(ctx, a, code(r), i, formKey(r)),
    '已登记整改事项',
    { shape: (b) => ({ ...withoutKey(b), due: b.due || undefined }) },
  );
  programForm(
    'fund-use',
    ['office'],
    FundUseBody,
    (a, r, i) => programs.publishFundUse(ctx, a, code(r), i),
    '已公开资金使用情况，通知发出后在综合示范工作专栏可见',
  );
  programForm(
    'reports/:id/answer',
    ['office'],
    inputs.AnswerReportBody,
    (a, r, i) => programs.answerReport(ctx, a, { ...code(r), id: P(r).id }, i),
    '已答复举报，举报人凭回执编号可见',
  );
  programForm(
    'findings/:id/close',
    ['office'],
    inputs.CloseFindingBody,
    (a, r, i) => programs.closeFinding(ctx, a, { ...code(r), id: P(r).id }, i),
    '整改事项已销号',
  );
  // R-FUND-6: the contractor's quarterly claim with its e-waybill CSV uploaded from the browser
  programForm(
    'parcel-claims',
    ['contractor'],
    undefined,
    async (a, r) => {
      const [csv] = (await storeUploads(a, r)).filter((f) => f.field === 'file');
      const body = r.body as Record<string, unknown>;
      const input = inputs.ClaimBody.parse({ quarter: body.quarter, file: csv?.sha });
      return parcels.claimParcels(ctx, a, code(r), input, formKey(r));
    },
    '快递补贴申报已提交，等待办公室审核',
    { upload: true },
  );
  programForm(
    'parcel-claims/:id/review',
    ['office'],
    inputs.ReviewBody,
    (a, r, i) => parcels.reviewClaim(ctx, a, { ...code(r), id: P(r).id }, i),
    '审核结果已记录',
    {
      shape: (b) => ({
        ...b,
        eligibleParcels: b.eligibleParcels ? Number(b.eligibleParcels) : undefined,
        reason: b.reason || undefined,
      }),
    },
  );
  programForm(
    'parcel-claims/:id/pay',
    ['finance'],
    undefined,
    (a, r) => parcels.payClaim(ctx, a, { ...code(r), id: P(r).id }, formKey(r)),
    '快递补贴已拨付（同一表单重复提交不会重复拨付）',
  );
  // R-EV-1: the register from a CSV file (the same use cases as the API and the CLI)
  const csvUpload = (r: Request) => {
    const file = ((r.files as Express.Multer.File[] | undefined) ?? []).find(
      (f) => f.fieldname === 'file' && f.size > 0,
    );
    if (!file) throw invalid('请选择 CSV 文件', 'choose the CSV file', 'file');
    return {
      csv: file.buffer,
      source: file.originalname,
      reason: field(r, 'reason') || undefined,
      // a form sent twice (a double click, a resent form) registers once
      key: field(r, 'idempotencyKey') || undefined,
    };
  };
  programForm(
    'register/stations',
    ['office'],
    undefined,
    (a, r) => register.importStationsCsv(ctx, a, code(r), csvUpload(r)),
    '服务站点已登记入建设台账',
    { upload: true },
  );
  programForm(
    'register/trainings',
    ['office'],
    undefined,
    (a, r) => register.importTrainingsCsv(ctx, a, code(r), csvUpload(r)),
    '培训已登记入建设台账',
    { upload: true },
  );
  programForm(
    'register/subsidies',
    ['office'],
    undefined,
    (a, r) => register.importFundedCsv(ctx, a, code(r), csvUpload(r)),
    '补助对象已登记（均在单位补助上限内）',
    { upload: true },
  );
  programForm(
    'indicator-values',
    ['office'],
    inputs.IndicatorValueBody,
    (a, r, i) =>
      register.recordIndicatorValue(
        ctx,
        a,
        { ...code(r), indicator: field(r, 'indicator') },
        i,
        field(r, 'idempotencyKey') || undefined,
      ),
    '指标数值已录入',
    {
      shape: (b) => {
        const {
          indicator: _i,
          evidence,
          ...rest
        } = b as Record<string, unknown> & {
          evidence?: { title?: string; number?: string };
        };
        return {
          ...rest,
          reason: rest.reason || undefined,
          evidence: { title: evidence?.title ?? '', number: evidence?.number || undefined },
        };
      },
    },
  );
  form('/programs/:code/advance', {
    roles: ['office'],
    schema: inputs.AdvanceBody,
    run: (actor, req, input) => programs.advancePhase(ctx, actor, { code: P(req).code }, input),
    back: programBack,
    view: programPage,
    done: '已进入下一阶段',
  });

  // ---- a subproject ----
  /** A field path of a subproject form's input, as the form labels it. */
  const FIELD_LABELS: Record<string, string> = {
    'document.title': '协议名称',
    number: '协议编号',
    key: '编号',
    title: '名称',
    due: '计划完成日期',
    deliverables: '交付成果',
    milestone: '里程碑编号',
    source: '资金来源',
    amount: '金额（万元）',
    tranche: '拨付批次',
    milestones: '里程碑',
    tranches: '拨付批次',
    deliverable: '交付内容说明',
    files: '证明材料',
    counts: '计数成果',
    archive: '培训档案',
    opinion: '预评意见',
    findings: '发现的问题',
    recommendation: '建议结论',
    decision: '决定',
    defects: '不合格的问题',
    rectificationDeadline: '整改期限',
    reason: '理由',
    price: '报价',
    proposal: '投标方案摘要',
    org: '承办主体',
    text: '异议内容',
    reference: '缴款凭证号',
  };
  const fieldLabel = (path: string, sourceNames: Record<string, string>): string => {
    const row = /^(milestones|tranches)\[(\d+)\]\.(\w+)$/.exec(path);
    if (row)
      return `${FIELD_LABELS[row[1]]}第 ${Number(row[2]) + 1} 行「${FIELD_LABELS[row[3]] ?? row[3]}」`;
    const source = /^tranches\((\w+)\)$/.exec(path);
    if (source) return `拨付批次（${sourceNames[source[1]] ?? source[1]}）`;
    const item = /^archive\.(\w+)/.exec(path);
    if (item) return `培训档案「${TRAINING_ARCHIVE_ITEMS[item[1]] ?? item[1]}」`;
    return FIELD_LABELS[path] ?? FIELD_LABELS[path.split(/[.[]/)[0]] ?? path;
  };
  const subprojectPage: Page = async (req, actor, problem) => {
    const { code } = P(req);
    const seq = Number(P(req).seq);
    if (!/^[1-9]\d{0,5}$/.test(P(req).seq)) throw notFound('分项目不存在', 'no such subproject');
    const [program, sp] = await Promise.all([
      queries.programDetail(ctx, code),
      queries.subprojectDetail(ctx, actor, code, seq),
    ]);
    const plan = program.subprojects.find((s) => s.seq === seq);
    const last = (sp.tenders as Record<string, unknown>[]).at(-1) ?? null;
    // scores are kept in hundredths (9250 = 92.5 分)
    const tender = last && {
      ...last,
      // before the deadline the opening would be refused (R-TD-1): the page says when instead
      deadlinePassed: Date.parse(String(last.bidDeadline)) <= ctx.engine.clock.now().getTime(),
      scores: (last.scores as { org: string; score: number }[] | null)?.map((s) => ({
        ...s,
        points: s.score / 100,
      })),
    };
    const full = 'milestones' in sp ? sp : null; // an unprocured subproject has no delivery yet
    const milestones = (full?.milestones ?? []).map((m) => ({
      ...m,
      plan: full?.contract?.milestones.find((x) => x.key === m.key) ?? null,
      lastSubmission: m.submissions.at(-1) ?? null,
      training: plan?.direction === 'training',
    }));
    const tranches = (full?.contract?.tranches ?? []).map((t) => {
      const paid = full!.disbursements
        .filter((d) => d.tranche === t.key)
        .reduce((n, d) => n + d.amount.fen, 0);
      const m = full!.milestones.find((x) => x.key === t.milestone);
      return {
        ...t,
        milestoneTitle: full!.contract!.milestones.find((x) => x.key === t.milestone)?.title ?? '',
        paidFen: paid,
        left: t.amount.fen - paid,
        releasable: m?.status === 'accepted' && paid < t.amount.fen && !full!.terminated,
      };
    });
    return {
      page: 'subproject',
      data: {
        title: sp.name,
        program,
        plan,
        sp,
        tender,
        milestones,
        tranches,
        disbursements: (full?.disbursements ?? []).map((d) => ({
          ...d,
          sourceName: tranches.find((t) => t.key === d.tranche)?.sourceName ?? d.source,
        })),
        // the refusal's fields named in Chinese, for the forms that list them
        problemList: Object.entries(problem?.problem.fields ?? {}).map(([path, message]) => ({
          label: fieldLabel(
            path,
            Object.fromEntries((full?.budget.bySource ?? []).map((b) => [b.source, b.name])),
          ),
          message,
          inRow: /^(milestones|tranches)\[\d+\]\./.test(path),
        })),
        role: actor.role,
        is: { [actor.role]: true },
        archiveItems: Object.entries(TRAINING_ARCHIVE_ITEMS).map(([key, name]) => ({ key, name })),
        releaseKey: randomUUID(), // a double click or a resent form pays once: the key comes with the form
        balance:
          full && sp.stage === 'awarded'
            ? contractBalance({ code, seq }, full.budget.bySource, problem?.values, false)
            : null,
        ...problem,
      },
    };
  };
  page('/programs/:code/subprojects/:seq', subprojectPage);
  const spBack = (req: Request) => `/programs/${P(req).code}/subprojects/${P(req).seq}`;
  const target = (req: Request) => ({ code: P(req).code, seq: Number(P(req).seq) });
  const spForm = <S extends ZodType>(
    action: string,
    roles: readonly Role[],
    schema: S | undefined,
    run: (actor: Actor, req: Request, input: inputs.In<S>) => Promise<unknown>,
    done: string,
    extra: {
      shape?: (body: Record<string, unknown>, req: Request, actor: Actor) => unknown;
      upload?: boolean;
    } = {},
  ) =>
    form(`/programs/:code/subprojects/:seq/${action}`, {
      roles,
      schema,
      run,
      back: spBack,
      view: subprojectPage,
      done,
      ...extra,
    });

  spForm(
    'tender',
    ['office'],
    inputs.TenderBody,
    (a, r, i) => subprojects.openTender(ctx, a, target(r), i),
    '已发布招标公告',
    {
      shape: (b) => ({
        ...b,
        announcement: {
          ...(b.announcement as object),
          qualifications: lines(
            (b.announcement as Record<string, unknown> | undefined)?.qualifications,
          ),
        },
      }),
    },
  );
  spForm(
    'bids',
    ['contractor'],
    inputs.BidBody,
    (a, r, i) => subprojects.submitBid(ctx, a, target(r), i),
    '投标已提交（开标前密封）',
  );
  spForm(
    'bids/withdraw',
    ['contractor'],
    undefined,
    (a, r) => subprojects.withdrawBid(ctx, a, target(r), undefined),
    '投标已撤回',
  );
  spForm(
    'opening',
    ['office'],
    inputs.OpeningBody,
    (a, r, i) => subprojects.openBids(ctx, a, target(r), i),
    '已开标',
  );
  spForm(
    'scores',
    ['office', 'evaluator'],
    inputs.ScoresBody,
    (a, r, i) => subprojects.scoreBids(ctx, a, target(r), i),
    '已记录评标得分',
    {
      shape: (b) => ({
        ...b,
        scores: ((b.scores as Record<string, unknown>[] | undefined) ?? []).map((s) => ({
          ...s,
          score: s.score === undefined ? undefined : Number(s.score),
        })),
      }),
    },
  );
  spForm(
    'candidate',
    ['office'],
    inputs.CandidateBody,
    (a, r, i) => subprojects.proposeCandidate(ctx, a, target(r), i),
    '已确定中标候选人，公示开始',
  );
  spForm(
    'objections',
    ['contractor', 'office', 'supervisor'],
    inputs.TenderObjectionBody,
    (a, r, i) => subprojects.raiseTenderObjection(ctx, a, target(r), i),
    '异议已提交，定标暂停',
  );
  spForm(
    'objections/:id/resolve',
    ['office'],
    inputs.TenderResolveBody,
    (a, r, i) => subprojects.resolveTenderObjection(ctx, a, { ...target(r), id: P(r).id }, i),
    '异议已处理',
  );
  spForm(
    'award',
    ['office'],
    inputs.AwardBody,
    (a, r, i) => subprojects.award(ctx, a, target(r), i),
    '已定标',
  );
  spForm(
    'designation',
    ['office'],
    inputs.DesignationBody,
    (a, r, i) => subprojects.designateContractor(ctx, a, target(r), i),
    '已指定承办主体',
  );
  spForm(
    'contract',
    ['office'],
    inputs.ContractBody,
    (a, r, i) => subprojects.signContract(ctx, a, target(r), i),
    '承办协议已签订',
    {
      shape: (b) => ({
        ...b,
        milestones: ((b.milestones as Record<string, unknown>[] | undefined) ?? [])
          .filter((m) => m.key)
          .map((m) => ({
            ...m,
            deliverables: lines(m.deliverables),
            evidenceRequired: lines(m.evidenceRequired),
          })),
        tranches: ((b.tranches as Record<string, unknown>[] | undefined) ?? []).filter(
          (t) => t.key,
        ),
      }),
    },
  );
  // htmx: the contract form posts its rows here as the office types and swaps in the running
  // difference per source; nothing is stored (the same rule as the signing, R-TD-2)
  router.post(
    '/programs/:code/subprojects/:seq/contract/balance',
    doubleCsrfProtection,
    async (req, res, next) => {
      try {
        const actor = await actorOf(req);
        if (!actor) return res.status(401).type('html').send('');
        if (actor.role !== 'office') return res.status(403).type('html').send('');
        if (!/^[1-9]\d{0,5}$/.test(P(req).seq))
          throw notFound('分项目不存在', 'no such subproject');
        const sp = await queries.subprojectDetail(ctx, actor, P(req).code, Number(P(req).seq));
        if (!('budget' in sp))
          throw notFound('分项目尚未采购', 'the subproject has no contract form');
        res
          .type('html')
          .setHeader('Cache-Control', 'no-store')
          .send(
            renderer.partial(
              'contract-balance',
              contractBalance(target(req), sp.budget.bySource, valuesOf(req.body), true),
            ),
          );
      } catch (e) {
        const p = formProblem(e);
        if (!p) return next(e);
        res.status(p.status).type('html').send('');
      }
    },
  );
  const milestone = (r: Request) => ({ ...target(r), key: P(r).key });
  /** The files that came with a multipart form, each stored as an evidence file first (the same use
   * case as POST /api/files); a refused file is named and stands beside the field it came with. */
  const storeUploads = async (a: Actor, r: Request): Promise<{ field: string; sha: string }[]> => {
    const files = (r.files as Express.Multer.File[] | undefined) ?? [];
    return Promise.all(
      files
        .filter((f) => f.size > 0)
        .map(async (f) => {
          const name = Buffer.from(f.originalname, 'latin1').toString('utf8');
          try {
            const { sha256 } = await uploadFile(ctx, a, {
              type: f.mimetype,
              name,
              content: f.buffer,
            });
            return { field: f.fieldname, sha: sha256 };
          } catch (e) {
            // the refusal names the file and stands beside the file field it came with
            if (!(e instanceof DomainError)) throw e;
            throw new DomainError(
              e.code,
              e.kind,
              `「${name}」${e.message}`,
              `${name}: ${e.messageEn}`,
              {
                field: f.fieldname,
              },
            );
          }
        }),
    );
  };
  form('/programs/:code/subprojects/:seq/milestones/:key/submission', {
    roles: ['contractor'],
    schema: inputs.SubmissionBody,
    upload: true,
    // files come with the form: each is stored as an evidence file first (the same use case as POST /api/files)
    shape: (b) => b,
    run: async (a, r, i) => {
      const stored = await storeUploads(a, r);
      const archive: Record<string, string[]> = {};
      for (const s of stored)
        if (s.field.startsWith('archive.')) (archive[s.field.slice(8)] ??= []).push(s.sha);
      const counts = Object.fromEntries(
        Object.entries((i.counts as Record<string, unknown> | undefined) ?? {}).map(([k, v]) => [
          k,
          Number(v),
        ]),
      );
      const input = inputs.SubmissionBody.parse({
        deliverable: i.deliverable,
        counts,
        files: stored.filter((s) => s.field === 'files').map((s) => s.sha),
        ...(Object.keys(archive).length ? { archive } : {}),
      });
      return delivery.submitMilestone(ctx, a, milestone(r), input);
    },
    back: spBack,
    view: subprojectPage,
    done: '里程碑已提交，等待第三方预评',
  });
  spForm(
    'milestones/:key/pre-evaluation',
    ['evaluator'],
    inputs.PreEvaluationBody,
    (a, r, i) => delivery.preEvaluate(ctx, a, milestone(r), i),
    '预评意见已提交',
    { shape: (b) => ({ ...b, findings: lines(b.findings) }) },
  );
  spForm(
    'milestones/:key/decision',
    ['office'],
    inputs.DecisionBody,
    (a, r, i) => delivery.decideMilestone(ctx, a, milestone(r), i),
    '验收决定已记录',
    { shape: (b) => ({ ...b, defects: lines(b.defects) }) },
  );
  spForm(
    'milestones/:key/objections',
    ['contractor', 'office', 'supervisor', 'evaluator', 'finance'],
    inputs.AcceptanceObjectionBody,
    (a, r, i) => delivery.raiseAcceptanceObjection(ctx, a, milestone(r), i),
    '异议已提交，公示期满后暂停拨付，待办公室处理',
  );
  spForm(
    'milestones/:key/objections/:id/resolve',
    ['office'],
    inputs.AcceptanceResolveBody,
    (a, r, i) => delivery.resolveAcceptanceObjection(ctx, a, { ...milestone(r), id: P(r).id }, i),
    '验收异议已处理',
  );
  form('/programs/:code/subprojects/:seq/tranches/:tranche/release', {
    roles: ['finance'],
    schema: inputs.ReleaseBody,
    shape: withoutKey,
    run: (a, r, i) =>
      delivery.releaseTranche(ctx, a, { ...target(r), tranche: P(r).tranche }, i, formKey(r)),
    back: spBack,
    view: subprojectPage,
    done: '已拨付（同一表单重复提交不会重复拨付）',
  });
  form('/programs/:code/subprojects/:seq/recoveries', {
    roles: ['finance'],
    schema: inputs.RecoveryBody,
    shape: withoutKey,
    run: (a, r, i) => delivery.recordRecovery(ctx, a, target(r), i, formKey(r)),
    back: spBack,
    view: subprojectPage,
    done: '已登记追回款',
  });

  // the office's users page (api/pages/users.ts)
  userPages(ctx, { page, form });

  // a form posted without (or with a stale) CSRF token
  router.use(async (err: unknown, req: Request, res: Response, next: NextFunction) => {
    if ((err as { code?: string }).code === 'EBADCSRFTOKEN')
      return send(
        req,
        res,
        await actorOf(req).catch(() => null),
        'error',
        {
          problem: {
            status: 403,
            message: '页面已过期或表单来源不明（缺少 CSRF 令牌），请返回刷新页面后重新提交',
            fields: {},
          },
        },
        403,
      );
    if (err instanceof multer.MulterError)
      return send(
        req,
        res,
        await actorOf(req).catch(() => null),
        'error',
        {
          problem: {
            status: 413,
            message: `上传文件不符合要求：${err.message}（单个文件不超过 20 MB）`,
            fields: {},
          },
        },
        413,
      );
    // a refusal before any form ran (the text guard): the error page, not the API's JSON
    const p = formProblem(err);
    if (p)
      return send(
        req,
        res,
        await actorOf(req).catch(() => null),
        'error',
        { problem: p },
        p.status,
      );
    next(err);
  });
  return router;
}
