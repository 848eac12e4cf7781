import fc from 'fast-check';
import { DomainError } from '../../workflows/errors';
import {
  allocate,
  formatWan,
  formatYuan,
  parseMoney,
  parseWan,
  parseYuan,
  percentText,
  shareAtLeast,
  shareAtMost,
  wanText,
} from '../../workflows/money';

describe('money: integer fen, exact parsing', () => {
  test.each([
    ['0.5', 500_000],
    ['1', 1_000_000],
    ['141', 141_000_000],
    ['1500', 1_500_000_000],
    ['0.000001', 1],
    ['2,100', 2_100_000_000],
    ['1.000000', 1_000_000],
  ])('%s 万元 = %i 分', (s, fen) => expect(parseWan(s)).toBe(fen));

  test('"1.0000001" 万元 is refused, not rounded', () => {
    expect(() => parseWan('1.0000001')).toThrow(DomainError);
    expect(() => parseWan('1.0000001')).toThrow(/不作四舍五入/);
  });
  test('元 allows two decimals only', () => {
    expect(parseYuan('12.34')).toBe(1234);
    expect(parseYuan('0.5')).toBe(50);
    expect(() => parseYuan('0.001')).toThrow(/超出精度/);
  });
  test('garbage, negatives and exponents are refused with the field named', () => {
    for (const bad of ['', 'abc', '1e3', '-1', '1.2.3', '１２'])
      expect(() => parseMoney(bad, '万元', { field: 'totals.central' })).toThrow(/totals.central/);
    expect(parseMoney('-3', '元', { allowNegative: true })).toBe(-300);
  });
  test('numbers are read through their decimal form', () => {
    expect(parseWan(0.5)).toBe(500_000);
    expect(parseWan(141)).toBe(141_000_000);
  });
  test('formatting: shortest 万元 and grouped 元', () => {
    expect(formatWan(500_000)).toBe('0.5');
    expect(formatWan(141_000_000)).toBe('141');
    expect(formatWan(1)).toBe('0.000001');
    expect(wanText(10_000)).toBe('0.01万元');
    expect(formatYuan(123_456_789)).toBe('1,234,567.89');
    expect(formatYuan(-5)).toBe('-0.05');
  });
  test('parse ∘ format is the identity on fen (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (fen) => {
        expect(parseWan(formatWan(fen))).toBe(fen);
        expect(parseYuan(formatYuan(fen))).toBe(fen);
      }),
    );
  });
  test('percentages are exact: 226/1500 = 15.07%, 225/1500 = 15.00% within 15%', () => {
    expect(percentText(226, 1500)).toBe('15.07');
    expect(percentText(225, 1500)).toBe('15.00');
    expect(shareAtMost(225, 1500, 1500)).toBe(true);
    expect(shareAtMost(226, 1500, 1500)).toBe(false);
    expect(shareAtLeast(7485, 15000, 5000)).toBe(false); // 49.9%
    expect(shareAtLeast(7500, 15000, 5000)).toBe(true);
  });
  test('allocate never loses or invents a fen (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e12 }),
        fc
          .array(fc.integer({ min: 0, max: 1e6 }), { minLength: 1, maxLength: 12 })
          .filter((w) => w.some((x) => x > 0)),
        (total, weights) => {
          const parts = allocate(total, weights);
          expect(parts.reduce((a, b) => a + b, 0)).toBe(total);
          parts.forEach((p, i) => {
            if (weights[i] === 0) expect(p).toBe(0);
          });
        },
      ),
    );
    expect(allocate(100, [1, 1, 1])).toEqual([34, 33, 33]);
  });
});
