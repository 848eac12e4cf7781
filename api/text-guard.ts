// Text a client sends is checked once, at the door, before any schema or use case sees it:
// - PostgreSQL stores no NUL character (U+0000) in text or jsonb;
// - a lone UTF-16 surrogate ("a\ud800b" in JSON) is not Unicode text: jsonb refuses its escape and text
//   columns would store a replacement character instead of what was sent;
// - JSON nested deeper than MAX_JSON_DEPTH is refused (no body of this API nests beyond a few levels;
//   recursive code further on, zod's included, would overflow the stack on `[`×10000).
// Each refusal is a 400 naming the field, query parameter or header. The walk is iterative: the guard
// itself never recurses, whatever the nesting.
import type { NextFunction, Request, Response } from 'express';
import { DomainError } from '../workflows/errors';

export const MAX_JSON_DEPTH = 32;

export type TextDefect = 'nul' | 'surrogate' | 'depth';

const LONE_SURROGATE = /\p{Cs}/u; // in a /u regex a surrogate pair is one code point: only lone ones match

/** What is wrong with one string, if anything. */
export function stringDefect(s: string): 'nul' | 'surrogate' | null {
  if (s.includes('\u0000')) return 'nul';
  if (LONE_SURROGATE.test(s)) return 'surrogate';
  return null;
}

/** The first defect in a parsed JSON value (document order): its path, e.g. `milestones[0].title`. */
export function textDefect(
  root: unknown,
  maxDepth = MAX_JSON_DEPTH,
): { path: string; defect: TextDefect } | null {
  const stack: [unknown, string, number][] = [[root, '', 0]];
  while (stack.length) {
    const [v, path, depth] = stack.pop()!;
    if (typeof v === 'string') {
      const d = stringDefect(v);
      if (d) return { path, defect: d };
      continue;
    }
    if (!v || typeof v !== 'object') continue;
    if (depth >= maxDepth) return { path, defect: 'depth' };
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], `${path}[${i}]`, depth + 1]);
      continue;
    }
    const entries: [string, unknown][] = Object.entries(v as Record<string, unknown>);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [k, x] = entries[i];
      const here = path ? `${path}.${k}` : k;
      const d = stringDefect(k);
      if (d) return { path: here, defect: d };
      stack.push([x, here, depth + 1]);
    }
  }
  return null;
}

/** The 400 for a defect at `where` (`title`, `query.program`, `X-File-Name`). */
export function textRefusal(where: string, defect: TextDefect): DomainError {
  const zhWhere = where || '(根)';
  const enWhere = where || '(root)';
  const [code, zh, en] =
    defect === 'nul'
      ? [
          'INVALID-INPUT',
          `字段 ${zhWhere} 含有空字符（U+0000），不能保存`,
          `${enWhere} contains a NUL character (U+0000), which cannot be stored`,
        ]
      : defect === 'surrogate'
        ? [
            'INVALID-TEXT',
            `字段 ${zhWhere} 含有不成对的 UTF-16 代理项（如 \\ud800），不是有效的 Unicode 文本`,
            `${enWhere} contains a lone UTF-16 surrogate (e.g. \\ud800): not well-formed Unicode text`,
          ]
        : [
            'JSON-TOO-DEEP',
            `字段 ${zhWhere} 嵌套过深：JSON 最多嵌套 ${MAX_JSON_DEPTH} 层`,
            `${enWhere} is nested too deeply: JSON may nest at most ${MAX_JSON_DEPTH} levels`,
          ];
  return new DomainError(code, 'invalid', zh, en, { field: where });
}

/** X-File-Name as the files route reads it: URL-encoded; a raw UTF-8 header arrives as latin1 bytes. */
function decodedFileName(raw: string): string {
  try {
    return /%[0-9A-Fa-f]{2}/.test(raw)
      ? decodeURIComponent(raw)
      : Buffer.from(raw, 'latin1').toString('utf8');
  } catch {
    return raw;
  }
}

/** Body, query string and the text headers stored as sent (X-File-Name). */
export function refuseBadText(req: Request, _res: Response, next: NextFunction): void {
  const body: unknown = req.body;
  const inBody =
    body && typeof body === 'object' && !Buffer.isBuffer(body) ? textDefect(body) : null;
  if (inBody) return next(textRefusal(inBody.path, inBody.defect));
  const inQuery = textDefect(req.query, 4);
  if (inQuery) return next(textRefusal(`query.${inQuery.path}`, inQuery.defect));
  const name = req.headers['x-file-name'];
  if (typeof name === 'string') {
    const d = stringDefect(decodedFileName(name));
    if (d) return next(textRefusal('X-File-Name', d));
  }
  next();
}
