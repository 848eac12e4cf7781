// One error middleware answering application/problem+json (RFC 9457), in Chinese and English.
// 400 input (zod issues with paths), 401/403, 404, 409 illegal now, 422 rule refused; else a generic 500
// with the request id (the stack goes to the log, never to the client).
import type { ErrorRequestHandler, Response } from 'express';
import { ZodError } from 'zod';
import { DomainError, type DomainErrorKind } from '../workflows/errors';

const STATUS: Record<DomainErrorKind, number> = {
  invalid: 400,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  rule: 422,
};
const TITLE: Record<number, [string, string]> = {
  400: ['请求参数不正确', 'Invalid request'],
  401: ['未登录或登录已过期', 'Authentication required'],
  403: ['无权执行此操作', 'Forbidden'],
  404: ['未找到', 'Not found'],
  405: ['不支持的请求方法', 'Method not allowed'],
  408: ['请求超时', 'Request timeout'],
  409: ['当前状态下不能执行此操作', 'Conflict with the current state'],
  413: ['请求体过大', 'Payload too large'],
  414: ['地址过长', 'URI too long'],
  415: ['请求体格式不支持', 'Unsupported media type'],
  422: ['违反业务规则', 'Business rule violated'],
  429: ['请求过于频繁', 'Too many requests'],
  431: ['请求头过大', 'Request header fields too large'],
  500: ['服务器内部错误', 'Internal server error'],
  503: ['数据完整性校验未通过，暂停受理', 'Refused: stored record failed its integrity check'],
};

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly messageEn: string,
    readonly code = `HTTP-${status}`,
    /** the fields or parameters at fault, as in a 400's errors[] */
    readonly errors?: { path: string; message: string; code?: string }[],
  ) {
    super(message);
  }
}

export interface Problem {
  type: string;
  title: string;
  title_en: string;
  status: number;
  code: string;
  detail: string;
  detail_en: string;
  instance?: string;
  rules?: string[];
  violations?: {
    rule: string;
    message: string;
    message_en: string;
    field?: string;
    figures?: Record<string, string | number>;
  }[];
  errors?: { path: string; message: string; code?: string }[];
}

export function sendProblem(
  res: Response,
  p: Omit<Problem, 'title' | 'title_en' | 'type'> & { type?: string },
): void {
  const [title, title_en] = TITLE[p.status] ?? TITLE[500];
  res
    .status(p.status)
    .type('application/problem+json')
    .json({ type: p.type ?? `urn:shifan:problem:${p.code}`, title, title_en, ...p });
}

/** A whole HTTP/1.1 response carrying a problem, for answers written to the socket before Express runs
 * (an oversized request line or headers, a malformed request, a header timeout). */
export function rawProblem(
  status: number,
  code: string,
  detail: string,
  detail_en: string,
): string {
  const [title, title_en] = TITLE[status] ?? TITLE[500];
  const body = JSON.stringify({
    type: `urn:shifan:problem:${code}`,
    title,
    title_en,
    status,
    code,
    detail,
    detail_en,
  });
  return [
    `HTTP/1.1 ${status} ${title_en}`,
    'Content-Type: application/problem+json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'X-Content-Type-Options: nosniff',
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

const zodPath = (path: PropertyKey[]) =>
  path.reduce<string>(
    (acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc ? `${acc}.${String(k)}` : String(k)),
    '',
  );

export const problemHandler =
  (log: { error(o: object, m: string): void }): ErrorRequestHandler =>
  (err: unknown, req, res, _next) => {
    const instance = String(req.id ?? '');
    if (res.headersSent) return;
    if (err instanceof ZodError) {
      const errors = err.issues.flatMap((i): { path: string; message: string; code: string }[] =>
        i.code === 'unrecognized_keys'
          ? i.keys.map((k) => ({
              path: zodPath([...i.path, k]),
              message: `不认识的字段「${k}」`,
              code: i.code,
            }))
          : [{ path: zodPath(i.path), message: i.message, code: i.code }],
      );
      return sendProblem(res, {
        status: 400,
        code: 'INVALID-INPUT',
        instance,
        errors,
        detail: `请求参数有 ${errors.length} 处错误：${errors.map((e) => `${e.path || '(根)'} ${e.message}`).join('；')}`,
        detail_en: `${errors.length} invalid field(s): ${errors.map((e) => e.path || '(root)').join(', ')}`,
      });
    }
    // a stream whose stored record failed its integrity check (issue 12.7): not the client's fault and not
    // to be retried until someone repairs the record, so 503 with an error in the log for the operators
    if (err instanceof DomainError && err.code === 'STREAM-INTEGRITY') {
      log.error(
        { reqId: instance, integrity: err.violations[0]?.figures, problem: err.messageEn },
        'stream integrity check failed: command refused',
      );
      return sendProblem(res, {
        status: 503,
        code: err.code,
        instance,
        detail: err.message,
        detail_en: err.messageEn,
        rules: [err.code],
        violations: err.violations,
      });
    }
    if (err instanceof DomainError) {
      const status = STATUS[err.kind];
      const rules = [...new Set(err.violations.map((v) => v.rule))];
      return sendProblem(res, {
        status,
        code: err.code,
        instance,
        detail: err.message,
        detail_en: err.messageEn,
        rules,
        violations: err.violations,
        ...(status === 400
          ? {
              errors: err.violations.map((v) => ({
                path: v.field ?? '',
                message: v.message,
                code: v.rule,
              })),
            }
          : {}),
      });
    }
    if (err instanceof HttpError)
      return sendProblem(res, {
        status: err.status,
        code: err.code,
        instance,
        detail: err.message,
        detail_en: err.messageEn,
        ...(err.errors ? { errors: err.errors } : {}),
      });
    // body-parser errors (malformed JSON, too large) carry a status and `expose`
    const e = err as {
      status?: number;
      statusCode?: number;
      expose?: boolean;
      type?: string;
      message?: string;
    };
    const st = e.status ?? e.statusCode;
    if (st && st >= 400 && st < 500 && e.expose) {
      const zh =
        e.type === 'entity.parse.failed'
          ? '请求体不是有效的 JSON'
          : e.type === 'entity.too.large'
            ? '请求体过大'
            : '请求无效';
      return sendProblem(res, {
        status: st,
        code: `HTTP-${st}`,
        instance,
        detail: zh,
        detail_en: e.message ?? 'bad request',
      });
    }
    log.error({ err, reqId: instance }, 'unhandled error');
    return sendProblem(res, {
      status: 500,
      code: 'INTERNAL',
      instance,
      detail: `服务器内部错误，请联系管理员并提供请求编号 ${instance}`,
      detail_en: `internal error; quote request id ${instance}`,
    });
  };
