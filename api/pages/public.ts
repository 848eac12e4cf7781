// The public column (综合示范工作专栏, R-PUB-1): pages anyone reads without logging in, in Chinese,
// server-rendered and complete without JavaScript, printable on A4, usable on a phone. Mounted at
// /gongkai before the console; its data is app/disclosure.ts, the same the JSON twins answer
// (api/routes/public.ts). Templates: templates/pages/public/, a layout without the console's navigation.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import Handlebars from 'handlebars';
import { MARKER, publicProgram, publicPrograms, PublicNoticeQuery } from '../../app/disclosure';
import type { AppContext } from '../../app/context';
import { ROOT } from '../../app/paths';
import { formatWan } from '../../workflows/money';
import { shanghaiDay } from '../../workflows/time';
import { refuseBadText } from '../text-guard';
import { fundExecutionChart } from './charts';
import { formProblem } from './forms';

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
  router.use(refuseBadText); // query strings as the API's guard takes them
  const send = (res: Response, page: string, data: Record<string, unknown>, status = 200) =>
    res
      .status(status)
      .type('html')
      .setHeader('Cache-Control', status === 200 ? CACHE : 'no-store')
      .send(render(page, { marker: MARKER, ...data }));

  router.get('/', async (_req, res, next) => {
    try {
      const data = await publicPrograms(ctx);
      send(res, 'home', { title: '综合示范工作专栏', ...data });
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
      const p = await publicProgram(ctx, String(req.params.code), q.data);
      const chart = fundExecutionChart({
        months: p.disbursements.months,
        bySource: p.disbursements.bySource.map((s) => ({
          name: s.name,
          fen: s.months.map((m) => m.fen),
        })),
      });
      send(res, 'program', {
        title: p.name,
        ...p,
        chart,
        monthRows: p.disbursements.months.map((month, i) => ({
          month,
          bySource: p.disbursements.bySource.map((s) => s.months[i]),
        })),
      });
    } catch (e) {
      const problem = formProblem(e);
      if (problem?.status === 404)
        return send(
          res,
          'error',
          { title: '没有这个项目', message: '没有找到这个综合示范项目，请从专栏首页选择。' },
          404,
        );
      next(e);
    }
  });
  // a refusal before the page ran (the text guard on the query string): the column's error page
  router.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    const problem = formProblem(err);
    if (!problem) return next(err);
    send(res, 'error', { title: '未能显示', message: problem.message }, problem.status);
  });
  return router;
}
