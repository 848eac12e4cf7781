// HTML forms → use case input → problem beside the field. A form posts flat fields
// (`document.title`, `scores[0].score`); `nest` turns them into the object the use case's zod schema
// (app/inputs.ts, the same one the API validates with) reads. A refusal is shown next to the field it
// names, in Chinese, with what the user typed kept.
import { ZodError } from 'zod';
import { DomainError } from '../../workflows/errors';

export type FormValues = Record<string, string>;

/** Flat form fields as a nested object; empty fields are left out (an optional field not given). */
export function nest(flat: Record<string, unknown>): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(flat)) {
    if (key === '_csrf' || key.startsWith('_')) continue;
    const value = Array.isArray(raw) ? raw.map(String) : typeof raw === 'string' ? raw.trim() : raw;
    if (value === '' || value === undefined) continue;
    const parts = key.replace(/\[(\d+)\]/g, '.$1').split('.');
    let at: Record<string, unknown> | unknown[] = root;
    parts.forEach((p, i) => {
      const last = i === parts.length - 1;
      const nextIsIndex = !last && /^\d+$/.test(parts[i + 1]);
      const container = at as Record<string, unknown>;
      if (last) container[p] = value;
      else {
        container[p] ??= nextIsIndex ? [] : {};
        at = container[p] as Record<string, unknown>;
      }
    });
  }
  // arrays built from indexed fields may have holes where a row was left empty
  const compact = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.filter((x) => x !== undefined).map(compact)
      : v && typeof v === 'object'
        ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, compact(x)]))
        : v;
  return compact(root) as Record<string, unknown>;
}

/** A textarea of one item per line as a list. */
export const lines = (v: unknown): string[] =>
  typeof v === 'string'
    ? v
        .split('\n')
        .map((s) => s.trim())
        .filter(Boolean)
    : Array.isArray(v)
      ? v.map(String)
      : [];

/** Form values as typed (strings only), to fill the form again after a refusal. */
export function valuesOf(body: unknown): FormValues {
  if (!body || typeof body !== 'object') return {};
  return Object.fromEntries(
    Object.entries(body as Record<string, unknown>)
      .filter(([k, v]) => !k.startsWith('_') && typeof v === 'string')
      .map(([k, v]) => [k, v as string]),
  );
}

const pathText = (path: PropertyKey[]) =>
  path.reduce<string>(
    (acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc ? `${acc}.${String(k)}` : String(k)),
    '',
  );

export interface FormProblem {
  status: number;
  /** the answer in one sentence, in Chinese (with the rule id where a rule refused) */
  message: string;
  /** field path → message, for the fields the answer names */
  fields: Record<string, string>;
}

const STATUS = { invalid: 400, forbidden: 403, not_found: 404, conflict: 409, rule: 422 } as const;

/** The API's problem answer for a refused form, or null for an error no client could cause. */
export function formProblem(e: unknown): FormProblem | null {
  if (e instanceof ZodError) {
    const fields: Record<string, string> = {};
    for (const i of e.issues) fields[pathText(i.path)] ??= i.message;
    return { status: 400, message: '请检查标出的栏目', fields };
  }
  if (e instanceof DomainError) {
    const fields: Record<string, string> = {};
    // a rule's id goes with its message (R-FUND-2); generic codes (FILE-TYPE, INVALID-INPUT) do not
    for (const v of e.violations)
      if (v.field) fields[v.field] ??= /^R-/.test(v.rule) ? `${v.message}（${v.rule}）` : v.message;
    const rule = /^R-/.test(e.code) ? `（${e.code}）` : '';
    return { status: STATUS[e.kind], message: `${e.message}${rule}`, fields };
  }
  return null;
}
