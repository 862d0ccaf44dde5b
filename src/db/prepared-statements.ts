/**
 * Prepared statements kept per connection, by SQL text. Values are always bound, so a statement's
 * text is its query's shape: a shape seen before on a connection runs without being parsed and
 * planned again. Each connection keeps at most `limit` of them; the least recently used goes first.
 *
 * SQLite (better-sqlite3): the connection's `prepare` answers from the registry.
 * PostgreSQL (pg): statements are named by a hash of their text (pg parses a named statement once per
 * connection and binds it afterwards); an evicted one is DEALLOCATEd on its connection.
 */
import { createHash } from 'node:crypto';

/** Counts over every connection of one database (tests and the bench read them). */
export interface StatementCounts {
  /** statements parsed and prepared (a shape new to its connection, or evicted before) */
  prepared: number;
  /** runs of a statement already prepared on its connection */
  reused: number;
  /** statements dropped to keep a connection within the limit */
  evicted: number;
}

export function emptyStatementCounts(): StatementCounts {
  return { prepared: 0, reused: 0, evicted: 0 };
}

export const DEFAULT_STATEMENTS_PER_CONNECTION = 500;

/** A bounded map, least recently used first (a Map keeps insertion order; a hit moves to the end). */
export class StatementRegistry<S> {
  private readonly entries = new Map<string, S>();
  /** the most recently used entry (a change set runs one INSERT a thousand times: no Map churn then) */
  private lastText: string | undefined;
  private lastStatement: S | undefined;

  constructor(private readonly limit: number, private readonly counts: StatementCounts, private readonly evict: (statement: S) => void = () => undefined) {}

  get size(): number {
    return this.entries.size;
  }

  /** The statement for `text`, prepared by `prepare` when the connection has none. */
  lookup(text: string, prepare: () => S): S {
    if (text === this.lastText && this.lastStatement !== undefined) {
      this.counts.reused++;
      return this.lastStatement;
    }
    const known = this.entries.get(text);
    if (known !== undefined) {
      this.counts.reused++;
      // most recently used last; skipped above when already last (the common case of one hot shape)
      this.entries.delete(text);
      this.entries.set(text, known);
      this.lastText = text;
      this.lastStatement = known;
      return known;
    }
    const statement = prepare();
    this.counts.prepared++;
    while (this.entries.size >= this.limit) {
      const [oldestText, oldest] = this.entries.entries().next().value as [string, S];
      this.entries.delete(oldestText);
      this.counts.evicted++;
      this.evict(oldest);
    }
    this.entries.set(text, statement);
    this.lastText = text;
    this.lastStatement = statement;
    return statement;
  }

  /** Forgets a statement (the database dropped it). */
  forget(text: string): void {
    this.entries.delete(text);
    if (text === this.lastText) this.lastText = this.lastStatement = undefined;
  }
}

/** The name of a PostgreSQL prepared statement: a hash of its text (same text, same name, on every connection). */
export function statementName(text: string): string {
  return `s_${createHash('sha256').update(text).digest('base64url').slice(0, 24)}`;
}

/** The part of a pg client this module uses. */
export interface PgConnection {
  query(config: { name?: string; text: string; values?: readonly unknown[] }): Promise<unknown>;
  /** pg's own record of the names parsed on this connection */
  readonly connection?: { parsedStatements?: Record<string, string> };
}

interface PgStatement {
  readonly name: string;
  /** the text with PostgreSQL's numbered placeholders */
  readonly text: string;
}

/** `?` placeholders as PostgreSQL's `$1, $2, …` (as Knex numbers them: `\\?` stays a literal `?`). */
export function numberedPlaceholders(text: string): string {
  let n = 0;
  return text.replace(/(\\*)(\?)/g, (_, escapes: string) => (escapes.length % 2 ? '?' : `$${++n}`));
}

const pgRegistries = new WeakMap<object, StatementRegistry<PgStatement>>();

/**
 * The model version statements are prepared for. A schema change may change a column's type, and a
 * PostgreSQL plan prepared before it fails afterwards ("cached plan must not change result type"),
 * so statements are named and registered per version: the old ones are never run again and age out.
 */
let statementEpoch = 0;

export function setStatementEpoch(modelVersion: number): void {
  statementEpoch = modelVersion;
}

/** Gives a new pg connection its registry (called from the pool's afterCreate). */
export function registerPgConnection(connection: PgConnection, limit: number, counts: StatementCounts): void {
  const registry = new StatementRegistry<PgStatement>(limit, counts, (evicted) => {
    // queued on the connection before any later statement
    delete connection.connection?.parsedStatements?.[evicted.name];
    connection.query({ text: `DEALLOCATE "${evicted.name}"` }).catch(() => {
      // the server still holds it (e.g. inside a failed transaction): pg must not parse that name
      // again, so it is marked parsed again (reused if its text comes back)
      const parsed = connection.connection?.parsedStatements;
      if (parsed !== undefined) parsed[evicted.name] = evicted.text;
    });
  });
  pgRegistries.set(connection, registry);
}

/**
 * Runs a statement (`?` placeholders) on a pg connection: as a named prepared statement when the
 * connection has a registry (the service's pool), otherwise (a connection made elsewhere) unnamed.
 */
export function runPg(connection: PgConnection, text: string, values: readonly unknown[]): Promise<unknown> {
  const registry = pgRegistries.get(connection);
  if (registry === undefined) return connection.query({ text: numberedPlaceholders(text), values });
  const key = `${statementEpoch}:${text}`;
  const statement = registry.lookup(key, () => ({ name: statementName(key), text: numberedPlaceholders(text) }));
  const running = connection.query({ name: statement.name, text: statement.text, values });
  // beside the promise the caller waits on: a statement that failed to parse was never prepared, so it must not count as held
  running.catch(() => {
    if (connection.connection?.parsedStatements?.[statement.name] === undefined) registry.forget(key);
  });
  return running;
}
