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
} as const;

interface FunctionOptions { readonly deterministic: boolean; readonly varargs?: boolean }
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
  conn.aggregate<Decimal | null>(SQLITE_DECIMAL.sum, {
    deterministic: true,
    start: () => null,
    step: (total, value) => {
      const x = decimalOf(value);
      if (x === null) return total;
      return total === null ? x : addDecimal(total, x);
    },
    inverse: (total, dropped) => {
      const x = decimalOf(dropped as unknown);
      return x === null || total === null ? total : subtractDecimal(total, x);
    },
    result: (total) => (total === null ? null : formatDecimal(total)),
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
