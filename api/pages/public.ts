// The public column (综合示范工作专栏, R-PUB-1): pages anyone reads without logging in, in Chinese,
// server-rendered and complete without JavaScript, printable on A4, usable on a phone. Mounted at
// /gongkai before the console; its data is app/disclosure.ts, the same the JSON twins answer
// (api/routes/public.ts). Templates: templates/pages/public/, a layout without the console's navigation.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import Handlebars from 'handlebars';
import {
  MARKER,
  publicProgram,
  publicProgramTag,
  publicPrograms,
  PublicNoticeQuery,
} from '../../app/disclosure';
import type { AppContext } from '../../app/context';
import {
  PublicObjectionBody,
  PublicReportBody,
  publicObjection,
  publicReport,
  Receipt,
  receiptStatus,
  SubmissionThrottled,
} from '../../app/public-submissions';
import { ROOT } from '../../app/paths';
import { formatWan } from '../../workflows/money';
import { shanghaiDay } from '../../workflows/time';
import { refuseBadText } from '../text-guard';
import { fundExecutionChart } from './charts';
import { formProblem, nest, valuesOf, type FormProblem } from './forms';

const DIR = path.join(ROOT, 'templates', 'pages', 'public');
const SHANGHAI = 8 * 3600_000;
/** Public pages may be cached briefly (the countdowns move by the day); Express adds the ETag. */
const CACHE = 'public, max-age=60';

const cnDate = (v: unknown): string => {
  if (typeof v !== 'string' || !v) return '—';
  const day = /^\d{4}-\d{2}-\d{2}$/.test(v) ? v : shanghaiDay(v);
  const [y, m, d] = day.split('-').map(Number);
  return `${y}年${m}月${d}日`;
};

/** The column's own Handlebars: the console's money and date helpers, nothing of its forms. */
function publicRenderer() {
  const hb = Handlebars.create();
  hb.registerHelper('wan', (v: { fen: number } | null) =>
    v && typeof v.fen === 'number' ? `${formatWan(v.fen)}万元` : '—',
  );
  hb.registerHelper('num', (v: { fen: number } | null) =>
    v && typeof v.fen === 'number' ? formatWan(v.fen) : '—',
  );
  hb.registerHelper('date', cnDate);
  hb.registerHelper('datetime', (v: unknown) => {
    if (typeof v !== 'string' || !v) return '—';
    return `${cnDate(v)} ${new Date(Date.parse(v) + SHANGHAI).toISOString().slice(11, 16)}`;
  });
  hb.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  hb.registerHelper('gt', (a: unknown, b: unknown) => Number(a) > Number(b));
  hb.registerHelper('str', (v: unknown) => String(v));
  hb.registerHelper('or', (...args: unknown[]) => args.slice(0, -1).some(Boolean));
  const templates = new Map(
    readdirSync(DIR)
      .filter((f) => f.endsWith('.hbs'))
      .map((f) => [
        path.basename(f, '.hbs'),
        hb.compile(readFileSync(path.join(DIR, f), 'utf8'), { strict: false }),
      ]),
  );
  const tpl = (name: string) => {
    const t = templates.get(name);
    if (!t) throw new Error(`no public template ${name}`);
    return t;
  };
  return (page: string, data: Record<string, unknown>) =>
    tpl('layout')({ ...data, body: tpl(page)(data) });
}

export function publicPageRoutes(ctx: AppContext): Router {
  const router = express.Router();
  const render = publicRenderer();
  // the public's forms: a page of text (R-PUB-1), not the console's megabyte
  router.use(express.urlencoded({ extended: false, limit: '16kb' }));
  router.use(refuseBadText); // query strings and forms as the API's guard takes them
  const send = (
    res: Response,
    page: string,
    data: Record<string, unknown>,
    status = 200,
    cache = status === 200 ? CACHE : 'no-store',
  ) =>
    res
      .status(status)
      .type('html')
      .setHeader('Cache-Control', cache)
      .send(render(page, { marker: MARKER, ...data }));

  router.get('/', async (_req, res, next) => {
    try {
      const data = await publicPrograms(ctx);
      send(res, 'home', { title: '综合示范工作专栏', ...data });
    } catch (e) {
      next(e);
    }
  });

  /** The program's page; after a refused form, that form's problem beside its fields (status 4xx). */
  const programPage = async (
    res: Response,
    code: string,
    q: PublicNoticeQuery,
    form: { name: string; problem: FormProblem; values: Record<string, string> } | null = null,
  ) => {
    const p = await publicProgram(ctx, code, q);
    const chart = fundExecutionChart({
      months: p.disbursements.months,
      bySource: p.disbursements.bySource.map((s) => ({
        name: s.name,
        fen: s.months.map((m) => m.fen),
      })),
    });
    const formOf = (name: string) =>
      form?.name === name
        ? { errors: form.problem.fields, message: form.problem.message, values: form.values }
        : { errors: {}, message: null, values: {} };
    send(
      res,
      'program',
      {
        title: p.name,
        ...p,
        feed: `/api/public/programs/${p.code}/notices.atom`,
        chart,
        monthRows: p.disbursements.months.map((month, i) => ({
          month,
          bySource: p.disbursements.bySource.map((s) => s.months[i]),
        })),
        publicity: p.publicity.map((x) => ({
          ...x,
          formName: `objection-${x.seq}-${x.milestone ?? ''}`,
          form: formOf(`objection-${x.seq}-${x.milestone ?? ''}`),
        })),
        reportForm: formOf('report'),
      },
      form ? form.problem.status : 200,
    );
  };
  const notFoundPage = (res: Response) =>
    send(
      res,
      'error',
      { title: '没有这个项目', message: '没有找到这个综合示范项目，请从专栏首页选择。' },
      404,
    );

  // the status of an objection or a report by its receipt: the form asks, the page answers
  router.get('/receipts', (req, res) => {
    const no = typeof req.query.no === 'string' ? req.query.no.trim() : '';
    const r = Receipt.safeParse(no);
    if (!r.success)
      return send(
        res,
        'receipt',
        {
          title: '查询处理情况',
          no,
          error: no ? '回执编号格式为 YY- 或 JB- 加 10 位字母数字' : null,
        },
        no ? 400 : 200,
      );
    res.redirect(303, `/gongkai/receipts/${r.data}`);
  });
  router.get('/receipts/:receipt', async (req, res, next) => {
    try {
      res.setHeader('Cache-Control', 'no-store');
      const r = Receipt.safeParse(req.params.receipt);
      const status = r.success ? await receiptStatus(ctx, r.data) : null;
      if (!status)
        return send(
          res,
          'receipt',
          {
            title: '查询处理情况',
            no: req.params.receipt,
            error: '没有这个回执编号，请核对后重新输入。',
          },
          404,
        );
      send(
        res,
        'receipt',
        {
          title: `回执 ${status.receipt}`,
          status,
          fresh: req.query.new === '1',
        },
        200,
        'no-store',
      );
    } catch (e) {
      next(e);
    }
  });

  router.get('/:code', async (req: Request, res: Response, next: NextFunction) => {
    try {
      const q = PublicNoticeQuery.safeParse(req.query);
      if (!q.success)
        return send(
          res,
          'error',
          { title: '查询条件有误', message: '通知类别或检索词不符合要求，请重新选择。' },
          400,
        );
      const code = String(req.params.code);
      // a conditional GET is answered before any of the page is read or rendered
      res.setHeader('ETag', await publicProgramTag(ctx, code, q.data, 'html'));
      if (req.fresh) return void res.status(304).setHeader('Cache-Control', CACHE).end();
      await programPage(res, code, q.data);
    } catch (e) {
      res.removeHeader('ETag');
      if (formProblem(e)?.status === 404) return notFoundPage(res);
      next(e);
    }
  });

  /**
   * An objection or a report from the program page's forms (no JavaScript): the receipt's page (303)
   * on success; a refusal renders the program page again with the problem beside the field and what
   * was typed kept. The same use cases as the JSON API (app/public-submissions.ts).
   */
  const submission =
    (
      name: (body: Record<string, unknown>) => string,
      run: (
        code: string,
        raw: Record<string, unknown>,
        client: string | null,
      ) => Promise<{ receipt: string }>,
    ) =>
    async (req: Request, res: Response, next: NextFunction) => {
      const code = String(req.params.code);
      const raw = nest((req.body ?? {}) as Record<string, unknown>);
      try {
        const r = await run(code, raw, req.ip ?? null);
        res.redirect(303, `/gongkai/receipts/${r.receipt}?new=1`);
      } catch (e) {
        const problem =
          e instanceof SubmissionThrottled
            ? { status: 429, message: e.message, fields: {} }
            : formProblem(e);
        if (!problem) return next(e);
        if (e instanceof SubmissionThrottled) res.setHeader('Retry-After', String(e.retryAfter));
        try {
          await programPage(
            res,
            code,
            {},
            { name: name(raw), problem, values: valuesOf(req.body) },
          );
        } catch (again) {
          if (formProblem(again)?.status === 404) return notFoundPage(res);
          next(again);
        }
      }
    };
  const seqOf = (v: unknown) => (typeof v === 'string' && /^\d{1,3}$/.test(v) ? Number(v) : v);
  router.post(
    '/:code/objections',
    submission(
      (b) =>
        `objection-${typeof b.seq === 'string' ? b.seq : ''}-${typeof b.milestone === 'string' ? b.milestone : ''}`,
      (code, raw, client) =>
        publicObjection(
          ctx,
          code,
          PublicObjectionBody.parse({ ...raw, seq: seqOf(raw.seq) }),
          client,
        ),
    ),
  );
  router.post(
    '/:code/reports',
    submission(
      () => 'report',
      (code, raw, client) =>
        publicReport(
          ctx,
          code,
          PublicReportBody.parse({
            ...raw,
            seq: raw.seq === undefined ? undefined : seqOf(raw.seq),
          }),
          client,
        ),
    ),
  );

  // a refusal before the page ran (the text guard on the query string): the column's error page
  router.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    const problem = formProblem(err);
    if (!problem) return next(err);
    send(res, 'error', { title: '未能显示', message: problem.message }, problem.status);
  });
  return router;
}
