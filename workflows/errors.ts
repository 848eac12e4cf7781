// One error type for every refusal by the domain: the code is the rule id from domain.md (R-FUND-3,
// R-PH-2, …) or a generic code (NOT-FOUND, CONFLICT). The API maps `kind` to an HTTP status.
export type DomainErrorKind =
  | 'invalid' // 400: the input itself is malformed
  | 'forbidden' // 403: this actor may not do this
  | 'not_found' // 404
  | 'conflict' // 409: illegal in the current state (open gate, wrong phase, version conflict)
  | 'rule'; // 422: a business rule refused it

export interface Violation {
  rule: string; // rule id, e.g. R-FUND-3
  message: string; // Chinese, for people
  message_en: string; // English
  field?: string; // where in the input, e.g. subprojects[0].funding.central
  figures?: Record<string, string | number>;
}

export class DomainError extends Error {
  readonly violations: Violation[];
  constructor(
    readonly code: string,
    readonly kind: DomainErrorKind,
    message: string,
    readonly messageEn: string,
    extra: {
      field?: string;
      violations?: Violation[];
      figures?: Record<string, string | number>;
    } = {},
  ) {
    super(message);
    this.name = 'DomainError';
    this.violations = extra.violations ?? [
      { rule: code, message, message_en: messageEn, field: extra.field, figures: extra.figures },
    ];
  }
}

/** Refusal by one or more business rules (422), every violation listed. */
export function ruleViolations(violations: Violation[]): DomainError {
  const ids = [...new Set(violations.map((v) => v.rule))];
  return new DomainError(
    ids.join(','),
    'rule',
    `违反规则 ${ids.join('、')}：${violations.map((v) => v.message).join('；')}`,
    `violates ${ids.join(', ')}: ${violations.map((v) => v.message_en).join('; ')}`,
    { violations },
  );
}

/** The end of an exhaustive switch: `x: never` has the compiler prove every case is handled; at run time
 *  a value from outside the types (an unknown command or event type) throws. */
export function assertNever(x: never, what: string): never {
  const type = typeof x === 'object' && x !== null ? (x as { type?: unknown }).type : x;
  throw new Error(`unknown ${what} ${String(type)}`);
}

// The refusals as they are written everywhere: one line each instead of a constructor call.
export const notFound = (zh: string, en: string) =>
  new DomainError('NOT-FOUND', 'not_found', zh, en);
export const invalid = (zh: string, en: string, field?: string, code = 'INVALID-INPUT') =>
  new DomainError(code, 'invalid', zh, en, { field });
export const conflict = (code: string, zh: string, en: string, field?: string) =>
  new DomainError(code, 'conflict', zh, en, { field });
export const forbidden = (code: string, zh: string, en: string) =>
  new DomainError(code, 'forbidden', zh, en);
export const rule = (
  code: string,
  zh: string,
  en: string,
  extra: { field?: string; figures?: Record<string, string | number> } = {},
) => new DomainError(code, 'rule', zh, en, extra);
export const programNotFound = (code: string) =>
  notFound(`综合示范项目 ${code} 不存在`, `program ${code} not found`);
