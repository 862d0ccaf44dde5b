/**
 * Callers verified lately, by credential: a token's SHA-256 hash, or the HMAC key of a Basic user name
 * and password (basic-cache.ts; no password is kept). A signed-in request otherwise reads its token
 * row, or its user row and teams, on every request (~15-35 us of a by-key read's ~100 us on SQLite).
 *
 * An entry is believed only while the database has not changed since the rows it was made of were
 * read (db/change-watch.ts: any committed write, by any process, ends every entry), and only until
 * its token expires or its Basic verification's lifetime ends. So a revocation, a new password, a
 * deactivation, a new role or team is refused or applied on the next request, as when the rows are
 * read every time. Without a change watch (PostgreSQL) nothing is kept. Failures are never kept.
 */
import type { ChangeWatch } from '../db/change-watch';
import type { RequestUser } from '../plan/request-context';

export interface SignedInEntry {
  readonly user: RequestUser;
  /** the database's stamp read before the rows were: the entry holds while the stamp is the same */
  readonly stamp: number;
  /** when the token expires, or the Basic verification must be made again (null: never) */
  readonly expiresAt: number | null;
  /** personal tokens: the AccessTokens row and when its use was last written */
  readonly personal?: { readonly id: string; readonly lastUsed: number | null };
}

const MAX_SIGNED_IN_ENTRIES = 10_000;

export class SignedInCache {
  /** Map keeps insertion order: the first entry is the oldest */
  private readonly entries = new Map<string, SignedInEntry>();
  private lastStamp: number | undefined;

  constructor(private readonly watch: ChangeWatch | undefined, private readonly maxEntries = MAX_SIGNED_IN_ENTRIES) {}

  /** The database's stamp now (undefined: nothing is kept); read it before the rows an entry is made of. */
  stamp(): number | undefined {
    const stamp = this.watch?.stamp();
    // a change ends every entry: none is kept past it
    if (stamp !== this.lastStamp) {
      this.entries.clear();
      this.lastStamp = stamp;
    }
    return stamp;
  }

  lookup(key: string, stamp: number | undefined, now: number): SignedInEntry | undefined {
    if (stamp === undefined) return undefined;
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.stamp !== stamp || (entry.expiresAt !== null && entry.expiresAt <= now)) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  remember(key: string, entry: SignedInEntry): void {
    this.entries.delete(key);
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.entries.delete(oldest.value);
    }
    this.entries.set(key, entry);
  }

  close(): void {
    this.entries.clear();
    this.watch?.close();
  }
}
