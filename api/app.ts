// Express 5 app factory (no listen: tests mount it on port 0). `app.listen` makes the hardened HTTP
// server (createHttpServer): timeouts, and a problem answer even to a request Node refuses itself.
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import type { Socket } from 'node:net';
import express, { type Express } from 'express';
import helmet from 'helmet';
import { authenticate } from '../app/auth';
import type { AppContext } from '../app/context';
import { MAX_FILE_BYTES } from '../app/files';
import { ROOT } from '../app/paths';
import { MAX_XLSX_BYTES } from '../app/budget-xlsx';
import { databaseHealth } from '../app/queries';
import { integrityAlarms } from '../engine/audit';
import { Api } from './http';
import { pageRoutes } from './pages';
import { publicPageRoutes } from './pages/public';
import { requestLog } from './request-log';
import { refuseBadText } from './text-guard';
import { problemHandler, rawProblem, sendProblem } from './problem';
import { authRoutes, bearer } from './routes/auth';
import { fileRoutes } from './routes/files';
import { deliveryRoutes } from './routes/delivery';
import { parcelRoutes } from './routes/parcels';
import { registerRoutes } from './routes/register';
import { noticeRoutes } from './routes/notices';
import { outboxRoutes } from './routes/outbox';
import { userRoutes } from './routes/users';
import { supervisionRoutes } from './routes/supervision';
import { programRoutes } from './routes/programs';
import { publicRoutes } from './routes/public';
import { subprojectRoutes } from './routes/subprojects';

const isApiPath = (p: string) =>
  p.startsWith('/api/') || p === '/api' || p === '/openapi.json' || p === '/healthz';

export const API_VERSION = '0.1.0';

export interface HttpServerOptions {
  /** the whole request, body included (Node's requestTimeout) */
  requestTimeoutMs?: number;
  /** the request line and headers (Node's headersTimeout): a slow client cannot hold sockets open */
  headersTimeoutMs?: number;
  /** an idle keep-alive connection */
  keepAliveTimeoutMs?: number;
}

/** What Node answers itself, before Express sees the request, as a problem like every other answer. */
function answerClientError(err: Error & { code?: string }, socket: Socket): void {
  const sent = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || sent?.headersSent) {
    socket.destroy();
    return;
  }
  const raw =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? rawProblem(
          431,
          'HEADERS-TOO-LARGE',
          '请求行与请求头合计超过 16 KB（地址过长或请求头过多）',
          'the request line and headers exceed 16 KB (path too long or too many headers)',
        )
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? rawProblem(
            408,
            'REQUEST-TIMEOUT',
            '请求未在规定时间内发完',
            'the request was not received in time',
          )
        : rawProblem(
            400,
            'MALFORMED-HTTP',
            `HTTP 请求格式错误（${err.code ?? 'parse error'}）`,
            `malformed HTTP request (${err.code ?? 'parse error'})`,
          );
  socket.end(raw);
}

export function createHttpServer(app: Express, o: HttpServerOptions = {}): Server {
  const requestTimeout = o.requestTimeoutMs ?? 120_000;
  const headersTimeout = Math.min(o.headersTimeoutMs ?? 10_000, requestTimeout);
  const server = createServer(
    {
      requestTimeout,
      headersTimeout,
      // how often Node looks for requests over their timeouts (default 30 s, longer than the limits)
      connectionsCheckingInterval: Math.max(250, Math.min(1000, Math.floor(headersTimeout / 2))),
    },
    app,
  );
  server.keepAliveTimeout = o.keepAliveTimeoutMs ?? 5_000;
  server.on('clientError', answerClientError);
  return server;
}

export function createApp(
  ctx: AppContext & {
    cookieSecure?: boolean;
    http?: HttpServerOptions;
    /** OCDS_OCID_PREFIX and PUBLIC_URL for the open contracting packages */
    ocidPrefix?: string;
    publicUrl?: string;
  },
): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(requestLog(ctx.log, (url) => url === '/healthz'));
  // evidence uploads are the raw body (before the JSON parser, which then leaves them alone)
  app.use('/api/files', express.raw({ type: () => true, limit: MAX_FILE_BYTES }));
  // so is a budget table workbook (whatever type it is sent as: the import reads its bytes)
  app.use('/api/programs/xlsx', express.raw({ type: () => true, limit: MAX_XLSX_BYTES }));
  // every server of this app is the hardened one, the tests' `app.listen(0)` included
  app.listen = function listen(...args: unknown[]) {
    const server = createHttpServer(app, ctx.http);
    const last = args[args.length - 1];
    if (typeof last === 'function') {
      let called = false;
      const done = (...a: unknown[]) => {
        if (called) return;
        called = true;
        (last as (...x: unknown[]) => void)(...a);
      };
      args[args.length - 1] = done;
      server.once('error', done);
    }
    return server.listen(...(args as Parameters<Server['listen']>));
  } as Express['listen'];
  // security headers: CSP (scripts and styles from this server; the pages' inline style attributes
  // allowed), no framing by other sites, nosniff, no referrer to other origins; HSTS and
  // upgrade-insecure-requests only when the console is served over HTTPS (COOKIE_SECURE)
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          'style-src': ["'self'", "'unsafe-inline'"],
          'upgrade-insecure-requests': ctx.cookieSecure ? [] : null,
        },
      },
      strictTransportSecurity: ctx.cookieSecure ? { maxAge: 15_552_000 } : false,
    }),
  );
  // the public's objections and reports: a page of text, not megabytes (R-PUB-1)
  app.use('/api/public', express.json({ limit: '16kb' }));
  app.use(express.json({ limit: '2mb' }));
  app.use(refuseBadText); // NUL, lone surrogates, nesting beyond 32 levels: 400 naming the field

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
  registerRoutes(api, ctx);
  noticeRoutes(api, ctx);
  outboxRoutes(api, ctx);
  userRoutes(api, ctx);
  supervisionRoutes(api, ctx);
  publicRoutes(api, ctx);

  const doc = api.openapi({
    title: 'shifan 示范 API',
    version: API_VERSION,
    description:
      '电子商务进农村综合示范项目审批引擎。错误均为 application/problem+json，含中英文说明与规则编号。金额：fen 为分（整数），wan 为万元。',
  });
  app.get('/openapi.json', (_req, res) => {
    res.json(doc);
  });
  // the document read in Swagger UI, served from the app's own files (swagger-ui-dist, no CDN); the
  // page's scripts are files, so the console's CSP (scripts from this server only) holds
  const SWAGGER = path.join(ROOT, 'node_modules', 'swagger-ui-dist');
  for (const f of ['swagger-ui.css', 'swagger-ui-bundle.js'])
    app.get(`/docs/api/assets/${f}`, (_req, res) =>
      res.sendFile(path.join(SWAGGER, f), { maxAge: '1d' }),
    );
  app.get('/docs/api/init.js', (_req, res) =>
    res.sendFile(path.join(ROOT, 'templates', 'docs', 'init.js')),
  );
  app.get('/docs/api', (_req, res) =>
    res.sendFile(path.join(ROOT, 'templates', 'docs', 'api.html')),
  );
  app.get('/healthz', async (_req, res) => {
    const integrity = integrityAlarms(); // streams refused for failing their integrity check (200 still: restarting fixes nothing)
    res.json({
      status: integrity.length ? 'alarm' : 'ok',
      ...(await databaseHealth(ctx)),
      version: API_VERSION,
      ...(integrity.length ? { integrity } : {}),
    });
  });
  app.use('/gongkai', publicPageRoutes(ctx)); // the public column (综合示范工作专栏), no log-in
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
