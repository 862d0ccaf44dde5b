/** The floor on SQLite: better-sqlite3, one prepared statement per statement name and integers, kept for the run. */
import BetterSqlite3 from 'better-sqlite3';
import type { StatementName } from './statements';
import { statementText, type FloorStore, type Query, type Row, type Value } from './store';

export function openSqliteStore(file: string): FloorStore {
  const db = new BetterSqlite3(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('temp_store = MEMORY');
  const contactCategories = db.prepare(`SELECT 1 FROM pragma_table_info('Contacts') WHERE name = 'Categories'`).get() !== undefined;
  const prepared = new Map<string, BetterSqlite3.Statement>();
  const statement = (name: StatementName, integers: readonly number[]): BetterSqlite3.Statement => {
    const key = integers.length === 0 ? name : `${name}:${integers.join(',')}`;
    let s = prepared.get(key);
    if (!s) {
      s = db.prepare(statementText(name, integers, contactCategories));
      prepared.set(key, s);
    }
    return s;
  };
  const bind = (values: readonly Value[]): unknown[] => values.map((v) => (typeof v === 'boolean' ? (v ? 1 : 0) : v));
  const query: Query = (name, values, integers = []) => {
    const s = statement(name, integers);
    if (!s.reader) {
      s.run(...bind(values));
      return [];
    }
    return s.all(...bind(values)) as Row[];
  };
  return {
    engine: 'sqlite',
    contactCategories,
    query,
    async transaction(work) {
      // better-sqlite3 is synchronous, so nothing else runs on this connection between BEGIN and COMMIT
      db.exec('BEGIN');
      try {
        const result = await work(query);
        db.exec('COMMIT');
        return result;
      } catch (err) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw err;
      }
    },
    async close() {
      db.close();
    },
  };
}
