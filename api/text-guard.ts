// PostgreSQL stores no NUL character (U+0000) in text or jsonb: a request carrying one would fail deep in
// the database with a 500. It is refused at the door instead, naming the field (400).
import type { NextFunction, Request, Response } from 'express';
import { DomainError } from '../workflows/errors';

/** The path of the first string (or key) holding U+0000, e.g. `milestones[0].title`; null if none. */
export function nulPath(v: unknown, path = ''): string | null {
  if (typeof v === 'string') return v.includes('\u0000') ? path : null;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const p = nulPath(v[i], `${path}[${i}]`);
      if (p !== null) return p;
    }
    return null;
  }
  if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      const here = path ? `${path}.${k}` : k;
      if (k.includes('\u0000')) return here;
      const p = nulPath(x, here);
      if (p !== null) return p;
    }
  }
  return null;
}

export function refuseNul(req: Request, _res: Response, next: NextFunction): void {
  const p =
    req.body && typeof req.body === 'object' && !Buffer.isBuffer(req.body)
      ? nulPath(req.body)
      : null;
  if (p !== null) {
    next(
      new DomainError(
        'INVALID-INPUT',
        'invalid',
        `字段 ${p || '(根)'} 含有空字符（U+0000），不能保存`,
        `${p || '(root)'} contains a NUL character (U+0000), which cannot be stored`,
        { field: p },
      ),
    );
    return;
  }
  next();
}
