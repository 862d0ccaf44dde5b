/**
 * Whether the database has changed since a moment: a stamp that differs whenever any connection of
 * any process has committed a write in between. The sign-in stage keeps the callers it has verified
 * against a stamp (auth/signed-in-cache.ts) and believes them only while the stamp is the same, so a
 * revocation, a new password or a deactivation written by any worker or tool counts at once.
 *
 * SQLite: `PRAGMA data_version` on a read-only connection of its own. The value changes when another
 * connection commits to the file, and every write of this process goes through its other connection
 * (knex's), so on this one it changes with every commit (~4 us per read in WAL mode: the read snapshot).
 * PostgreSQL and `:memory:`: no watch (the sign-in stage then reads its rows on every request).
 */
import BetterSqlite3 from 'better-sqlite3';
import type { Engine } from './connect';

export interface ChangeWatch {
  /** Differs from an earlier answer whenever a write was committed in between. */
  stamp(): number;
  close(): void;
}

class SqliteChangeWatch implements ChangeWatch {
  private readonly version: BetterSqlite3.Statement<[], number>;

  constructor(private readonly connection: BetterSqlite3.Database) {
    this.version = connection.prepare<[], number>('PRAGMA data_version').pluck();
  }

  stamp(): number {
    return this.version.get() as number;
  }

  close(): void {
    this.connection.close();
  }
}

export function openChangeWatch(engine: Engine, databaseUrl: string): ChangeWatch | undefined {
  if (engine !== 'sqlite') return undefined;
  const file = databaseUrl.replace(/^sqlite:(\/\/)?/, '');
  if (file === ':memory:' || file === '') return undefined;
  try {
    return new SqliteChangeWatch(new BetterSqlite3(file, { readonly: true, fileMustExist: true }));
  } catch {
    // a file this process cannot open a second time: callers are then verified on every request
    return undefined;
  }
}
