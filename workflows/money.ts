// Money is integer fen (分) inside, as safe integers; 元 and 万元 strings only at the edges (design.md).
// Parsing is exact: a value that does not fit in whole fen is refused, never rounded.
import { invalid } from './errors';

export type Fen = number;
export type MoneyUnit = '元' | '万元';

export const FEN_PER_YUAN = 100;
export const FEN_PER_WAN = 1_000_000; // 1万元 = 10,000 元 = 1,000,000 分

const SCALE: Record<MoneyUnit, { fen: number; decimals: number }> = {
  元: { fen: FEN_PER_YUAN, decimals: 2 },
  万元: { fen: FEN_PER_WAN, decimals: 6 },
};

const DECIMAL = /^(-)?(\d+)(?:\.(\d+))?$/;

/** Parses "1,234.5" / "0.5" / 12 in `unit` to fen. Throws DomainError MONEY-FORMAT when not exact. */
export function parseMoney(
  input: string | number,
  unit: MoneyUnit,
  opts: { allowNegative?: boolean; field?: string } = {},
): Fen {
  const { fen, decimals } = SCALE[unit];
  // A number is read through its shortest decimal form (12, 0.5); exponent forms (1e21) fail the pattern.
  const raw = typeof input === 'number' ? String(input) : input.trim().replace(/,/g, '');
  const m = DECIMAL.exec(raw);
  const where = opts.field ? `${opts.field}: ` : '';
  if (!m)
    throw invalid(
      `${where}金额“${String(input)}”不是有效的数字（单位${unit}）`,
      `${where}"${String(input)}" is not a valid amount in ${unit}`,
      opts.field,
      'MONEY-FORMAT',
    );
  const [, sign, whole, frac = ''] = m;
  const significantFrac = frac.replace(/0+$/, '');
  if (significantFrac.length > decimals) {
    throw invalid(
      `${where}金额“${String(input)}”${unit}超出精度：最小单位为1分（${unit}最多${decimals}位小数），不作四舍五入`,
      `${where}"${String(input)}" ${unit} is finer than one fen (at most ${decimals} decimals in ${unit}); it is refused, not rounded`,
      opts.field,
      'MONEY-FORMAT',
    );
  }
  const digits = BigInt(whole + significantFrac.padEnd(decimals, '0'));
  const value = (digits * BigInt(fen)) / 10n ** BigInt(decimals);
  if (value > BigInt(Number.MAX_SAFE_INTEGER))
    throw invalid(`${where}金额过大`, `${where}amount too large`, opts.field, 'MONEY-FORMAT');
  const n = Number(value);
  if (sign && n !== 0 && !opts.allowNegative)
    throw invalid(
      `${where}金额不能为负数`,
      `${where}amount must not be negative`,
      opts.field,
      'MONEY-FORMAT',
    );
  return sign ? -n : n;
}

export const parseWan = (s: string | number, field?: string): Fen =>
  parseMoney(s, '万元', { field });
export const parseYuan = (s: string | number, field?: string): Fen =>
  parseMoney(s, '元', { field });

function plain(fen: Fen, unit: MoneyUnit, fixed: boolean, grouped: boolean): string {
  assertFen(fen);
  const { fen: per, decimals } = SCALE[unit];
  const neg = fen < 0;
  const abs = BigInt(Math.abs(fen));
  const whole = (abs / BigInt(per)).toString();
  let frac = (abs % BigInt(per)).toString().padStart(decimals, '0');
  if (!fixed) frac = frac.replace(/0+$/, '');
  const w = grouped ? whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',') : whole;
  return `${neg ? '-' : ''}${w}${frac ? `.${frac}` : ''}`;
}

/** 500000 → "0.5" (万元, shortest exact form). */
export const formatWan = (fen: Fen): string => plain(fen, '万元', false, false);
/** 123456789 → "1,234,567.89" (元, two decimals, thousands separators). */
export const formatYuan = (fen: Fen): string => plain(fen, '元', true, true);
/** Human text: "141万元" / "0.01万元". */
export const wanText = (fen: Fen): string => `${formatWan(fen)}万元`;
export const yuanText = (fen: Fen): string => `${formatYuan(fen)}元`;

export function assertFen(fen: number): asserts fen is Fen {
  if (!Number.isSafeInteger(fen)) throw new Error(`not an integer amount of fen: ${fen}`);
}

export function sumFen(values: readonly Fen[]): Fen {
  let s = 0;
  for (const v of values) {
    assertFen(v);
    s += v;
  }
  assertFen(s);
  return s;
}

/**
 * Exact percentage text of part/whole, rounded half-up to `decimals` places: (226万, 1500万) → "15.07".
 * For display only; comparisons use `shareAtMost` / `shareAtLeast` (exact, integer arithmetic).
 */
export function percentText(part: Fen, whole: Fen, decimals = 2): string {
  if (whole === 0) return '0';
  const scale = 10n ** BigInt(decimals);
  const num = BigInt(part) * 100n * scale;
  const den = BigInt(whole);
  const q = (num * 2n + den) / (2n * den); // half-up for non-negative values
  const s = q.toString().padStart(decimals + 1, '0');
  return decimals ? `${s.slice(0, -decimals)}.${s.slice(-decimals)}` : s;
}

/** part / whole ≤ bp / 10000, exactly (basis points: 1500 = 15%). */
export const shareAtMost = (part: Fen, whole: Fen, bp: number): boolean =>
  BigInt(part) * 10000n <= BigInt(bp) * BigInt(whole);
/** part / whole ≥ bp / 10000, exactly. */
export const shareAtLeast = (part: Fen, whole: Fen, bp: number): boolean =>
  BigInt(part) * 10000n >= BigInt(bp) * BigInt(whole);

/**
 * Splits `total` in proportion to `weights` by the largest-remainder method: the parts always sum to
 * `total` exactly (a split never loses or invents a fen); ties go to the earlier weight.
 */
export function allocate(total: Fen, weights: readonly number[]): Fen[] {
  assertFen(total);
  if (total < 0) throw new Error('allocate: negative total');
  if (weights.length === 0) throw new Error('allocate: no weights');
  if (weights.some((w) => !Number.isSafeInteger(w) || w < 0))
    throw new Error('allocate: weights must be non-negative integers');
  const sum = weights.reduce((a, b) => a + b, 0);
  if (sum === 0) throw new Error('allocate: weights sum to zero');
  const T = BigInt(total);
  const S = BigInt(sum);
  const base = weights.map((w) => (T * BigInt(w)) / S);
  const rema = weights.map((w, i) => ({ i, r: (T * BigInt(w)) % S }));
  const left = Number(T - base.reduce((a, b) => a + b, 0n));
  rema.sort((a, b) => (a.r === b.r ? a.i - b.i : a.r > b.r ? -1 : 1));
  const out = base.map(Number);
  for (let k = 0; k < left; k++) out[rema[k].i] += 1;
  return out;
}

/** The shortest exact decimal of `fen` in `unit`, no separators: (50, '元') → "0.5". */
export const formatMoney = (fen: Fen, unit: MoneyUnit): string => plain(fen, unit, false, false);
