/**
 * What the floor's handlers need from a database: run a named statement (with its integers written into
 * the text) and run a few statements in one transaction. SQLite answers synchronously (better-sqlite3),
 * PostgreSQL with a promise (pg, named prepared statements); `Pending` lets the handlers stay synchronous
 * on SQLite.
 */
import { STATEMENTS, type StatementName } from './statements';

export type Row = Record<string, unknown>;
export type Pending<T> = T | Promise<T>;
export type Value = string | number | boolean | null;

export interface Query {
  (name: StatementName, values: readonly Value[], integers?: readonly number[]): Pending<Row[]>;
}

export interface FloorStore {
  readonly engine: 'sqlite' | 'postgres';
  /** Whether Contacts has the Categories column (then every contact statement reads it). */
  readonly contactCategories: boolean;
  readonly query: Query;
  /** Runs `work` in one transaction (BEGIN ... COMMIT, ROLLBACK on a failure) with the transaction's query. */
  transaction<T>(work: (query: Query) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** The statement text with its `#` integers written in (`integers` in order). */
export function statementText(name: StatementName, integers: readonly number[], contactCategories: boolean): string {
  let i = 0;
  const source = contactCategories ? STATEMENTS[name].replace('"IsPrivate", "CompanyId"', '"IsPrivate", "Categories", "CompanyId"') : STATEMENTS[name];
  const text = source.replace(/#/g, () => {
    const n = integers[i++];
    if (n === undefined || !Number.isSafeInteger(n) || n < 0) throw new Error(`${name}: integer #${i} missing or invalid`);
    return String(n);
  });
  if (i !== integers.length) throw new Error(`${name}: ${integers.length} integers given, ${i} used`);
  return text;
}

/** Applies `then` to a value that may still be pending, without a promise when it is not. */
export function after<T, U>(value: Pending<T>, then: (v: T) => U): Pending<U> {
  return value instanceof Promise ? value.then(then) : then(value);
}
