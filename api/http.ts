// Routes are declared once: the same spec (zod schemas, roles, responses) validates requests, enforces
// roles and generates /openapi.json, so documentation and behaviour cannot drift apart.
import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import type { NextFunction, Request, Response } from 'express';
import FindMyWay, { type HTTPMethod } from 'find-my-way';
import { z } from 'zod';
import type { Actor, Role } from '../workflows/program/types';
import { ROLE_NAMES } from '../workflows/program/types';
import { CommandOutcome, isReplayed } from '../app/result';
import { HttpError } from './problem';
import { NOT_FOUND_PARAM } from './schemas';
import { stringDefect, textRefusal } from './text-guard';

const API_METHODS: HTTPMethod[] = ['GET', 'POST', 'PUT', 'DELETE'];

export type Access = 'public' | 'authenticated' | readonly Role[];

export interface RouteSpec<
  A extends Access,
  P extends z.ZodType,
  Q extends z.ZodType,
  B extends z.ZodType,
> {
  method: 'get' | 'post' | 'put' | 'delete';
  path: string; // Express style: /api/programs/:code
  summary: string;
  description?: string;
  tags: string[];
  access: A;
  params?: P;
  query?: Q;
  body?: B;
  headers?: z.ZodObject;
  status?: number; // success status, default 200
  /** contentType: the success answer's media type, or several (a file answers in its own type) */
  response: { description: string; schema?: z.ZodType; contentType?: string | readonly string[] };
  errors?: number[]; // problem statuses this route can answer besides 400/401/403/500
  /** a request body that is the raw file (documented; not parsed by zod) */
  rawBody?: { contentTypes: string[]; description: string; maxBytes: number };
  /** other success answers with the same body, e.g. 200 for an idempotent replay of a 201 */
  alsoSuccess?: {
    status: number;
    description: string;
    /** response headers of this answer, e.g. `Idempotent-Replayed` */
    headers?: Record<
      string,
      { description: string; schema: { type: 'string'; enum?: readonly string[] } }
    >;
  }[];
}

/** The actor a route's handler gets: none on a public route, always one on any other (the route
 * answers 401 before the handler runs). */
export type ActorFor<A extends Access> = A extends 'public' ? null : Actor;

export interface Handled<A extends Access, P, Q, B> {
  params: P;
  query: Q;
  body: B;
  actor: ActorFor<A>;
  req: Request;
  res: Response;
}

const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    title_en: z.string(),
    status: z.number().int(),
    code: z.string(),
    detail: z.string(),
    detail_en: z.string(),
    instance: z.string().optional(),
    rules: z.array(z.string()).optional().meta({ description: '违反的规则编号，如 R-FUND-3' }),
    violations: z
      .array(
        z.object({
          rule: z.string(),
          message: z.string(),
          message_en: z.string(),
          field: z.string().optional(),
          figures: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
        }),
      )
      .optional(),
    errors: z
      .array(z.object({ path: z.string(), message: z.string(), code: z.string().optional() }))
      .optional()
      .meta({ description: '400 时每个有误字段的路径与原因' }),
  })
  .meta({ id: 'Problem', description: 'application/problem+json（RFC 9457），中英文' });

const PROBLEM_TEXT: Record<number, string> = {
  400: '请求参数不正确（errors 列出字段路径）',
  401: '未登录或令牌无效',
  403: '角色无权执行此操作',
  404: '对象不存在',
  413: '请求体过大（文件不超过 20 MB）',
  415: '请求体须为 JSON',
  409: '当前状态下不允许（如关口未完成，列出未完成的关口）',
  422: '违反业务规则（列出全部规则编号与数字）',
  429: '失败次数过多，暂时锁定（Retry-After 给出秒数）',
  500: '服务器内部错误',
};

/** Path parameters: text checked as bodies are (NUL, lone surrogates: 400 naming the parameter); a
 * parameter that cannot address anything (a non-canonical or out-of-range number) is a 404 naming it. */
function parseParams(schema: z.ZodType, raw: Record<string, string>): unknown {
  for (const [k, v] of Object.entries(raw)) {
    const d = typeof v === 'string' ? stringDefect(v) : null;
    if (d) throw textRefusal(k, d);
  }
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  const nowhere = r.error.issues.filter(
    (i) =>
      i.code === 'custom' && (i.params as Record<string, unknown> | undefined)?.[NOT_FOUND_PARAM],
  );
  if (!nowhere.length) throw r.error;
  const named = nowhere.map((i) => {
    const name = String(i.path[0]);
    return { name, value: raw[name], message: i.message };
  });
  throw new HttpError(
    404,
    `地址中的 ${named.map((n) => `${n.name}「${n.value}」`).join('、')} 不指向任何对象：${named.map((n) => n.message).join('；')}`,
    `${named.map((n) => `${n.name} ${JSON.stringify(n.value)}`).join(', ')} in the path addresses nothing: a canonical decimal number is expected (no leading zero, sign, space, exponent or point) within range`,
    'NOT-FOUND',
    named.map((n) => ({ path: n.name, message: n.message, code: 'NON-CANONICAL-NUMBER' })),
  );
}

/** What the server refuses whatever the route, said in the document: each free string schema (no
 * pattern, format, enum or const of its own) gets the text guard's rule (api/text-guard.ts: no NUL, no
 * lone surrogate) as its pattern, each integer the safe range zod's int() holds, so that a client or
 * fuzzer generating from /openapi.json does not send what the server answers 400 to. */
// (lone surrogates are not in it: no regex dialect both JavaScript's and the generators' can say them,
// and a JSON text with one is refused all the same)
export const TEXT_PATTERN = '^[^\\x00]*$';
function serverBounds(root: unknown): void {
  const stack: unknown[] = [root];
  while (stack.length) {
    const v = stack.pop();
    if (!v || typeof v !== 'object') continue;
    if (Array.isArray(v)) {
      stack.push(...(v as unknown[]));
      continue;
    }
    const o = v as Record<string, unknown>;
    const isString = o.type === 'string' || (Array.isArray(o.type) && o.type.includes('string'));
    if (isString && !('pattern' in o || 'format' in o || 'enum' in o || 'const' in o))
      o.pattern = TEXT_PATTERN;
    // zod's int() is a safe integer: beyond ±(2^53 − 1) the server refuses what the document allowed
    if (o.type === 'integer') {
      if (!('maximum' in o || 'exclusiveMaximum' in o)) o.maximum = Number.MAX_SAFE_INTEGER;
      if (!('minimum' in o || 'exclusiveMinimum' in o)) o.minimum = Number.MIN_SAFE_INTEGER;
    }
    stack.push(...Object.values(o));
  }
}

export class Api {
  readonly registry = new OpenAPIRegistry();
  /** The route table: a radix tree (find-my-way) instead of Express's list of layers, which every request
   * walked, matching one regular expression per route, until its own. Same matching rules as Express's
   * defaults: case-insensitive, a trailing slash ignored. */
  private readonly table = FindMyWay({ caseSensitive: false, ignoreTrailingSlash: true });
  /** The middleware serving every declared route (no match: next(), e.g. to the 404 answer). */
  readonly router = (req: Request, res: Response, next: NextFunction): void => {
    const found = this.table.find(
      (req.method === 'HEAD' ? 'GET' : req.method) as HTTPMethod,
      req.path,
    ); // HEAD: the GET route, without its body
    if (!found) {
      try {
        decodeURIComponent(req.path);
      } catch {
        next(
          new HttpError(
            400,
            `地址中的百分号编码无效：${req.path}`,
            `malformed percent-encoding in the path: ${req.path}`,
            'INVALID-PATH',
          ),
        );
        return;
      }
      // the path exists under other methods: 405 with the methods it has (RFC 9110 §15.5.6)
      // (the most specific route's methods: /api/programs/xlsx is POST's own path, not GET's :code)
      const matches = API_METHODS.flatMap((m) => {
        const f = this.table.find(m, req.path);
        return f ? [{ m, params: Object.keys(f.params).length }] : [];
      });
      const fewest = Math.min(...matches.map((x) => x.params));
      const allowed = matches.filter((x) => x.params === fewest).map((x) => x.m);
      if (allowed.length) {
        if (allowed.includes('GET')) allowed.push('HEAD');
        res.setHeader('Allow', allowed.join(', '));
        next(
          new HttpError(
            405,
            `此地址不支持 ${req.method} 方法（支持：${allowed.join('、')}）`,
            `${req.method} is not allowed here (allowed: ${allowed.join(', ')})`,
            'METHOD-NOT-ALLOWED',
          ),
        );
        return;
      }
      next();
      return;
    }
    req.params = { ...found.params } as Record<string, string>;
    (found.store as { run: (req: Request, res: Response) => Promise<void> })
      .run(req, res)
      .catch(next);
  };

  constructor(private readonly authenticate: (req: Request) => Promise<Actor | null>) {
    this.registry.registerComponent('securitySchemes', 'bearer', {
      type: 'http',
      scheme: 'bearer',
      description: 'POST /api/auth/login 取得的令牌',
    });
  }

  route<
    A extends Access,
    P extends z.ZodType = z.ZodObject<Record<string, never>>,
    Q extends z.ZodType = z.ZodObject<Record<string, never>>,
    B extends z.ZodType = z.ZodUndefined,
  >(
    spec: RouteSpec<A, P, Q, B>,
    handler: (h: Handled<A, z.output<P>, z.output<Q>, z.output<B>>) => Promise<unknown>,
  ): void {
    const status = spec.status ?? 200;
    const successContent = () =>
      Object.fromEntries(
        [spec.response.contentType ?? 'application/json']
          .flat()
          .map((t) => [t, { schema: spec.response.schema! }]),
      );
    const errorStatuses = [
      400,
      ...(spec.access === 'public' ? [] : [401]),
      ...(Array.isArray(spec.access) ? [403] : []),
      ...(spec.errors ?? []),
      500,
    ];
    this.registry.registerPath({
      method: spec.method,
      path: spec.path.replace(/:(\w+)/g, '{$1}'),
      summary: spec.summary,
      description: [
        spec.description,
        Array.isArray(spec.access)
          ? `角色：${spec.access.map((r: Role) => `${r}（${ROLE_NAMES[r]}）`).join('、')}`
          : spec.access === 'public'
            ? '公开，无需登录'
            : '任何已登录用户',
      ]
        .filter(Boolean)
        .join('\n\n'),
      tags: spec.tags,
      ...(spec.access === 'public' ? {} : { security: [{ bearer: [] }] }),
      request: {
        ...(spec.params ? { params: spec.params as unknown as z.ZodObject } : {}),
        ...(spec.query ? { query: spec.query as unknown as z.ZodObject } : {}),
        ...(spec.headers ? { headers: spec.headers } : {}),
        ...(spec.body
          ? { body: { required: true, content: { 'application/json': { schema: spec.body } } } }
          : {}),
        ...(spec.rawBody
          ? {
              body: {
                required: true,
                description: spec.rawBody.description,
                content: Object.fromEntries(
                  spec.rawBody.contentTypes.map((t) => [
                    t,
                    {
                      // an empty body is refused (at least one byte), as is one over the limit
                      schema: z
                        .string()
                        .min(1)
                        .max(spec.rawBody!.maxBytes)
                        .meta({ format: 'binary' }),
                    },
                  ]),
                ),
              },
            }
          : {}),
      },
      responses: {
        [status]: {
          description: spec.response.description,
          ...(spec.response.schema ? { content: successContent() } : {}),
        },
        ...Object.fromEntries(
          (spec.alsoSuccess ?? []).map((x) => [
            x.status,
            {
              description: x.description,
              ...(x.headers ? { headers: x.headers } : {}),
              ...(spec.response.schema ? { content: successContent() } : {}),
            },
          ]),
        ),
        ...Object.fromEntries(
          [...new Set(errorStatuses)].map((s) => [
            s,
            {
              description: PROBLEM_TEXT[s] ?? '错误',
              content: { 'application/problem+json': { schema: ProblemSchema } },
            },
          ]),
        ),
      },
    });

    this.table.on(spec.method.toUpperCase() as HTTPMethod, spec.path, () => {}, {
      run: async (req: Request, res: Response) => {
        const actor = spec.access === 'public' ? null : await this.authenticate(req);
        if (spec.access !== 'public') {
          if (!actor)
            throw new HttpError(
              401,
              '请先登录（Authorization: Bearer <令牌>）',
              'authentication required: send Authorization: Bearer <token>',
            );
          if (
            Array.isArray(spec.access) &&
            !(spec.access as readonly string[]).includes(actor.role)
          ) {
            throw new HttpError(
              403,
              `角色「${ROLE_NAMES[actor.role]}」无权执行此操作（需要：${spec.access.map((r: Role) => ROLE_NAMES[r]).join('、')}）`,
              `role ${actor.role} may not do this (needs ${spec.access.join(' or ')})`,
              'FORBIDDEN-ROLE',
            );
          }
        }
        if (
          spec.body &&
          Number(req.headers['content-length'] ?? 0) > 0 &&
          !req.is('application/json')
        ) {
          throw new HttpError(
            415,
            `请求体须为 JSON（Content-Type: application/json），收到的是 ${req.headers['content-type'] ?? '未声明'}`,
            'the request body must be JSON (Content-Type: application/json)',
            'UNSUPPORTED-MEDIA-TYPE',
          );
        }
        const params = spec.params
          ? parseParams(spec.params, req.params as Record<string, string>)
          : {};
        const query = spec.query ? spec.query.parse(req.query) : {};
        const body = spec.body ? spec.body.parse(req.body ?? {}) : undefined;
        const out = await handler({ params, query, body, actor, req, res } as Handled<
          A,
          z.output<P>,
          z.output<Q>,
          z.output<B>
        >);
        if (res.headersSent) return;
        if (isReplayed(out)) {
          // the same Idempotency-Key and request again: the first answer, as a 200 (app/idempotency.ts)
          res.locals.status = 200;
          res.setHeader('Idempotent-Replayed', 'true');
        }
        res.status((res.locals.status as number | undefined) ?? status); // a handler may answer otherwise (e.g. 200 for an idempotent replay)
        // RFC 7240 `Prefer: return=minimal`: a command answers with what changed, not the whole view
        if (out instanceof CommandOutcome) {
          if (/return=minimal/i.test(String(req.headers.prefer ?? ''))) {
            res.setHeader('Preference-Applied', 'return=minimal');
            res.json({ version: out.version, appended: out.appended });
          } else res.json(await out.full());
          return;
        }
        if (out === undefined) res.end();
        else res.json(out);
      },
    });
  }

  openapi(info: { title: string; version: string; description: string }) {
    const doc = new OpenApiGeneratorV31(this.registry.definitions).generateDocument({
      openapi: '3.1.0',
      info,
      servers: [{ url: '/' }],
    });
    // requests only: an answer may well quote a NUL it refused (a JSON parser's message does)
    const requests: unknown[] = Object.values(doc.paths ?? {}).flatMap((item) =>
      Object.values(
        item as Record<string, { parameters?: unknown; requestBody?: unknown }>,
      ).flatMap((op) => (op && typeof op === 'object' ? [op.parameters, op.requestBody] : [])),
    );
    const schemas = (doc.components?.schemas ?? {}) as Record<string, unknown>;
    const refs = new Set<string>();
    const queue = [...requests];
    while (queue.length) {
      const text = JSON.stringify(queue.pop() ?? null);
      for (const m of text.matchAll(/"#\/components\/schemas\/([^"]+)"/g))
        if (!refs.has(m[1])) {
          refs.add(m[1]);
          queue.push(schemas[m[1]]);
        }
    }
    serverBounds([...requests, ...[...refs].map((r) => schemas[r])]);
    return doc;
  }
}
