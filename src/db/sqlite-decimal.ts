/**
 * SQLite has no exact decimal type: Edm.Decimal columns hold canonical decimal text (src/decimal.ts),
 * and these deterministic functions, registered on every connection, compute on it exactly.
 * Every function is null when an argument is null, as SQL operators are.
 */
import {
  addDecimal, canonicalDecimal, compareDecimal, decimalOf, decimalSortKey, divideDecimal, formatDecimal, modDecimal, multiplyDecimal,
  negateDecimal, roundDecimal, subtractDecimal, type Decimal,
} from '../decimal';

export const SQLITE_DECIMAL = {
  canonical: 'odata_decimal',
  /** a value rounded to a column's scale (the migration from REAL columns) */
  scaled: 'odata_decimal_scaled',
  add: 'odata_decimal_add',
  sub: 'odata_decimal_sub',
  mul: 'odata_decimal_mul',
  div: 'odata_decimal_div',
  mod: 'odata_decimal_mod',
  negate: 'odata_decimal_negate',
  round: 'odata_decimal_round',
  floor: 'odata_decimal_floor',
  ceiling: 'odata_decimal_ceiling',
  /** order-preserving text: native `<`, `=` and ORDER BY on it are exact */
  sortKey: 'odata_decimal_key',
  sum: 'odata_decimal_sum',
  min: 'odata_decimal_min',
  max: 'odata_decimal_max',
  /** integer units of 10^-scale (a native integer sum) as decimal text */
  fromUnits: 'odata_decimal_from_units',
  /** fails the statement with NATIVE_SUM_UNPROVEN: a native sum's values were not all proven exact in a double */
  unproven: 'odata_decimal_sum_unproven',
} as const;

export const NATIVE_SUM_UNPROVEN = 'native decimal sum not proven exact';

interface FunctionOptions {
  readonly deterministic: boolean;
  readonly varargs?: boolean;
  /** integers arrive as BigInt: exact beyond 2^53 */
  readonly safeIntegers?: boolean;
}
interface AggregateOptions<T> {
  readonly start: () => T;
  readonly step: (total: T, value: unknown) => T | void;
  readonly result: (total: T) => unknown;
  /** removes a value leaving a window frame (makes the aggregate usable as a window function) */
  readonly inverse?: (total: T, dropped: T) => T;
  readonly deterministic: boolean;
}

export interface SqliteFunctionHost {
  function(name: string, options: FunctionOptions, fn: (...args: unknown[]) => unknown): unknown;
  aggregate<T>(name: string, options: AggregateOptions<T>): unknown;
}

const unary = (f: (a: Decimal) => Decimal) => (a: unknown) => {
  const x = decimalOf(a);
  return x === null ? null : formatDecimal(f(x));
};
const binary = (f: (a: Decimal, b: Decimal) => Decimal) => (a: unknown, b: unknown) => {
  const x = decimalOf(a);
  const y = decimalOf(b);
  return x === null || y === null ? null : formatDecimal(f(x, y));
};

export function registerDecimalFunctions(conn: SqliteFunctionHost): void {
  const exact = { deterministic: true };
  conn.function(SQLITE_DECIMAL.canonical, exact, (a) => canonicalDecimal(a));
  conn.function(SQLITE_DECIMAL.scaled, exact, (a, scale) => {
    const x = decimalOf(a);
    return x === null ? null : formatDecimal(roundDecimal(x, Number(scale), 'half-away-from-zero'));
  });
  conn.function(SQLITE_DECIMAL.add, exact, binary(addDecimal));
  conn.function(SQLITE_DECIMAL.sub, exact, binary(subtractDecimal));
  conn.function(SQLITE_DECIMAL.mul, exact, binary(multiplyDecimal));
  conn.function(SQLITE_DECIMAL.div, exact, binary((a, b) => divideDecimal(a, b)));
  conn.function(SQLITE_DECIMAL.mod, exact, binary(modDecimal));
  conn.function(SQLITE_DECIMAL.negate, exact, unary(negateDecimal));
  conn.function(SQLITE_DECIMAL.round, exact, unary((a) => roundDecimal(a, 0, 'half-away-from-zero')));
  conn.function(SQLITE_DECIMAL.floor, exact, unary((a) => roundDecimal(a, 0, 'floor')));
  conn.function(SQLITE_DECIMAL.ceiling, exact, unary((a) => roundDecimal(a, 0, 'ceiling')));
  conn.function(SQLITE_DECIMAL.sortKey, exact, decimalSortKey);
  conn.function(SQLITE_DECIMAL.fromUnits, { deterministic: true, safeIntegers: true }, (units, scale) => (
    units === null || units === undefined ? null : formatDecimal({ units: BigInt(units as bigint | number), scale: Number(scale) })));
  // the argument (the group's largest magnitude) keeps SQLite from evaluating the call once, as a constant
  conn.function(SQLITE_DECIMAL.unproven, { deterministic: true }, (largest) => {
    throw new RangeError(`${NATIVE_SUM_UNPROVEN}: a magnitude of ${String(largest)}`);
  });
  conn.aggregate<ExactSum>(SQLITE_DECIMAL.sum, {
    deterministic: true,
    start: () => ({ small: 0, big: null, scale: 0, any: false }),
    step: (total, value) => addToSum(total, value, 1),
    inverse: (total, dropped) => addToSum(total, dropped as unknown, -1),
    result: (total) => (total.any ? formatDecimal({ units: total.big ?? BigInt(total.small), scale: total.scale }) : null),
  });
  for (const [name, wanted] of [[SQLITE_DECIMAL.min, -1], [SQLITE_DECIMAL.max, 1]] as const) {
    conn.aggregate<Decimal | null>(name, {
      deterministic: true,
      start: () => null,
      step: (best, value) => {
        const x = decimalOf(value);
        if (x === null) return best;
        return best === null || compareDecimal(x, best) === wanted ? x : best;
      },
      result: (best) => (best === null ? null : formatDecimal(best)),
    });
  }
}

/**
 * A running exact sum: integer units at `scale`, kept in a double while every value is exact there
 * (|units| below 2^53) and in a BigInt beyond. Canonical decimal text of up to 15 digits, the common
 * column value, is added without BigInt arithmetic: a GROUP BY sum costs little more than SQLite's own.
 */
interface ExactSum { small: number; big: bigint | null; scale: number; any: boolean }

const SHORT_DECIMAL = /^-?\d{1,15}(?:\.\d{1,15})?$/;

function addToSum(total: ExactSum, value: unknown, sign: 1 | -1): ExactSum {
  if (value === null || value === undefined) return total;
  total.any = true;
  const text = typeof value === 'string' ? value : undefined;
  if (text !== undefined && text.length <= 17 && SHORT_DECIMAL.test(text)) {
    const dot = text.indexOf('.');
    const scale = dot < 0 ? 0 : text.length - dot - 1;
    const digits = dot < 0 ? text : text.slice(0, dot) + text.slice(dot + 1);
    if (digits.length - (digits.startsWith('-') ? 1 : 0) <= 15) {
      rescale(total, scale);
      const units = Number(digits) * 10 ** (total.scale - scale) * sign;
      if (total.big === null && Number.isSafeInteger(units) && Math.abs(total.small) + Math.abs(units) <= Number.MAX_SAFE_INTEGER) {
        total.small += units;
        return total;
      }
    }
  }
  const x = decimalOf(value);
  if (x === null) return total;
  rescale(total, x.scale);
  const units = x.units * 10n ** BigInt(total.scale - x.scale);
  total.big = (total.big ?? BigInt(total.small)) + (sign === 1 ? units : -units);
  return total;
}

/** Raises the sum's scale to at least `scale` (its units grow by the factor; a double that would lose digits becomes a BigInt). */
function rescale(total: ExactSum, scale: number): void {
  if (scale <= total.scale) return;
  const factor = scale - total.scale;
  if (total.big === null) {
    const grown = total.small * 10 ** factor;
    if (Number.isSafeInteger(grown)) total.small = grown;
    else total.big = BigInt(total.small) * 10n ** BigInt(factor);
  } else total.big *= 10n ** BigInt(factor);
  total.scale = scale;
}
