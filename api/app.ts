// Express 5 app factory (no listen: tests mount it on port 0).
import express, { type Express } from 'express';
import { authenticate } from '../app/auth';
import type { AppContext } from '../app/context';
import { MAX_FILE_BYTES } from '../app/files';
import { databaseHealth } from '../app/queries';
import { Api } from './http';
import { pageRoutes } from './pages';
import { requestLog } from './request-log';
import { refuseNul } from './text-guard';
import { problemHandler, sendProblem } from './problem';
import { authRoutes, bearer } from './routes/auth';
import { fileRoutes } from './routes/files';
import { deliveryRoutes } from './routes/delivery';
import { parcelRoutes } from './routes/parcels';
import { noticeRoutes } from './routes/notices';
import { supervisionRoutes } from './routes/supervision';
import { programRoutes } from './routes/programs';
import { subprojectRoutes } from './routes/subprojects';

const isApiPath = (p: string) =>
  p.startsWith('/api/') || p === '/api' || p === '/openapi.json' || p === '/healthz';

export const API_VERSION = '0.1.0';

export function createApp(ctx: AppContext & { cookieSecure?: boolean }): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(requestLog(ctx.log, (url) => url === '/healthz'));
  // evidence uploads are the raw body (before the JSON parser, which then leaves them alone)
  app.use('/api/files', express.raw({ type: () => true, limit: MAX_FILE_BYTES }));
  app.use(express.json({ limit: '2mb' }));
  app.use(refuseNul);

  const api = new Api(async (req) => {
    const token = bearer(req.headers.authorization);
    return token ? authenticate(ctx, token) : null;
  });
  authRoutes(api, ctx);
  programRoutes(api, ctx);
  subprojectRoutes(api, ctx);
  fileRoutes(api, ctx);
  deliveryRoutes(api, ctx);
  parcelRoutes(api, ctx);
  noticeRoutes(api, ctx);
  supervisionRoutes(api, ctx);

  const doc = api.openapi({
    title: 'shifan 示范 API',
    version: API_VERSION,
    description:
      '电子商务进农村综合示范项目审批引擎。错误均为 application/problem+json，含中英文说明与规则编号。金额：fen 为分（整数），wan 为万元。',
  });
  app.get('/openapi.json', (_req, res) => {
    res.json(doc);
  });
  app.get('/healthz', async (_req, res) => {
    res.json({ status: 'ok', ...(await databaseHealth(ctx)), version: API_VERSION });
  });
  // the web console: every path outside the API (its forms call the same use cases)
  const pages = pageRoutes(ctx, { secureCookies: ctx.cookieSecure });
  app.use((req, res, next) => (isApiPath(req.path) ? next() : pages(req, res, next)));
  app.use(api.router);
  app.use((req, res) =>
    sendProblem(res, {
      status: 404,
      code: 'NOT-FOUND',
      detail: `没有这个地址：${req.method} ${req.path}`,
      detail_en: `no route for ${req.method} ${req.path}`,
      instance: String(req.id ?? ''),
    }),
  );
  app.use(problemHandler(ctx.log));
  return app;
}
