/**
 * One read process of the SQLite read pool (db/read-pool.ts): its own connection to the database
 * file, read-only, configured like the service's (same SQL functions), prepared statements cached
 * by SQL text. Answers each request with the rows or SQLite's error.
 */
import Database from 'better-sqlite3';
import { configureSqliteConnection } from './sqlite-connection';
import { readInt64Exactly } from './sqlite-int64';
import type { ReadReply, ReadRequest } from './read-pool';

const STATEMENT_CACHE_SIZE = 500;

function main(file: string): void {
  const db = new Database(file);
  configureSqliteConnection(db);
  db.pragma('query_only = ON');
  const statements = new Map<string, Database.Statement>();
  const prepared = (sqlText: string): Database.Statement => {
    let statement = statements.get(sqlText);
    if (statement === undefined) {
      statement = readInt64Exactly(db.prepare(sqlText));
      if (statements.size >= STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value as string);
      statements.set(sqlText, statement);
    }
    return statement;
  };
  const reply = (message: ReadReply) => process.send?.(message);
  process.on('message', (request: ReadRequest) => {
    try {
      const rows = prepared(request.sql).all(request.bindings) as Record<string, unknown>[];
      reply({ kind: 'rows', id: request.id, rows });
    } catch (err) {
      const e = err as { message?: string; code?: string };
      reply({ kind: 'error', id: request.id, message: e.message ?? String(err), code: e.code });
    }
  });
  // the service went away (even killed): nothing is left to answer
  process.on('disconnect', () => process.exit(0));
  reply({ kind: 'ready' });
}

main(process.argv[2]);
