/**
 * What differs between SQL engines, as one table per engine: canonical functions, how values are
 * bound and read back, and a few capability flags. The compiler asks the dialect and never
 * branches on the engine's name.
 */
import type { OwnerOrPublic } from '../../auth/access';
import type { PrimitiveTypeName } from '../../edm/model';
import type { CanonicalFunction } from '../../plan/plan';
import type { Fragment } from '../fragment';

export interface FunctionArgument {
  readonly sql: Fragment;
  readonly type: PrimitiveTypeName | 'null' | 'enum';
  /** the value, when the argument is a literal (lets a dialect pick an index-friendly form) */
  readonly literal?: string | number | boolean;
}

export type FunctionCompiler = (args: readonly FunctionArgument[]) => Fragment;

export interface Dialect {
  readonly name: 'sqlite' | 'postgres';
  readonly functions: Readonly<Record<CanonicalFunction, FunctionCompiler>>;
  /** a bound literal of an EDM type, cast where the engine cannot infer the parameter's type */
  bind(value: string | number | boolean, type: PrimitiveTypeName | 'enum'): Fragment;
  /** a database value as the JSON-ready JS value of its EDM type */
  read(value: unknown, type: PrimitiveTypeName): unknown;
  /** decimal (not integer) division */
  divide(left: Fragment, right: Fragment): Fragment;
  /** the right operand of `/` or `%`, made to fail when it is zero where the engine would answer null */
  divisor(right: Fragment): Fragment;
  /** a row's keyset value as stored in a $skiptoken */
  keysetValue(value: unknown): string | number | boolean | null;
  /**
   * a deep `$skip` finds the page's keys in a subquery first (compile-deep-skip.ts): the engine's OFFSET
   * reads each skipped row whole, and an index that serves the order covers the subquery
   */
  readonly deepSkipByKey: boolean;
  /** appended to a SELECT that reads rows about to be written (empty where transactions already serialize writers) */
  readonly lockForUpdate: string;
  /** case-insensitive substring match, `pattern` already LIKE-escaped with `\` */
  likeInsensitive(column: Fragment, pattern: string): Fragment;
  /** a FROM item over the elements of a stored JSON array (a collection of strings), one row each, its text as `alias.value` */
  arrayElements(array: Fragment, alias: Fragment): Fragment;
  /** exact Edm.Decimal computation (round/floor/ceiling are in `functions`, by argument type) */
  readonly decimal: DecimalDialect;
  /**
   * `SELECT … AS "count"`: how many rows of `table` a caller restricted by `rule` sees, read from counts
   * the engine keeps (db/sqlite-visible-counts.ts), `scan` (a scalar COUNT query under the predicate)
   * where it keeps none for the table; absent where the engine keeps no counts.
   */
  countVisible?(table: string, rule: OwnerOrPublic, scan: Fragment): Fragment;
}

export type DecimalOperator = 'add' | 'sub' | 'mul' | 'div' | 'mod';

/**
 * Edm.Decimal expressions are exact on every engine. Operands are of Edm.Decimal or an integer type;
 * equal decimal values of Edm.Decimal expressions compare equal with plain `=`.
 */
export interface DecimalDialect {
  /** the result scales of URL Conventions §5.1.1.2; `div` truncates to DIVISION_SCALE digits (src/decimal.ts) */
  arithmetic(op: DecimalOperator, left: Fragment, right: Fragment): Fragment;
  negate(operand: Fragment): Fragment;
  /** an expression whose native comparisons (`<`, `=`, ORDER BY) order the operand's decimal values exactly */
  comparable(operand: Fragment): Fragment;
  /** SUM of a decimal column (null over no rows, as SUM); also usable as a window function */
  sum(column: Fragment): Fragment;
  /** MIN / MAX of a decimal expression by its numeric value (null over no rows) */
  min(column: Fragment): Fragment;
  max(column: Fragment): Fragment;
  /** absent where `sum` is already the engine's native exact sum */
  readonly nativeSum?: NativeDecimalSum;
}

/**
 * A decimal SUM in the engine's native integer arithmetic, for a column whose values have at most `scale`
 * fraction digits. Its result is the same decimal as `sum`'s whenever the statement succeeds: where the values
 * do not prove the native sum exact (too many digits, an overflow), the statement fails with an error that
 * `unproven` recognizes, and the caller compiles it again with `sum`.
 */
export interface NativeDecimalSum {
  sum(column: Fragment, scale: number): Fragment | undefined;
  unproven(err: unknown): boolean;
}

export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => '\\' + c);
}
