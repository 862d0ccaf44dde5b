/**
 * What differs between SQL engines, as one table per engine: canonical functions, how values are
 * bound and read back, and a few capability flags. The compiler asks the dialect and never
 * branches on the engine's name.
 */
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
  /** a row's keyset value as stored in a $skiptoken */
  keysetValue(value: unknown): string | number | boolean | null;
  /** appended to a SELECT that reads rows about to be written (empty where transactions already serialize writers) */
  readonly lockForUpdate: string;
  /** case-insensitive substring match, `pattern` already LIKE-escaped with `\` */
  likeInsensitive(column: Fragment, pattern: string): Fragment;
}

export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => '\\' + c);
}
