/**
 * Verified HTTP Basic credentials, remembered in memory so that a client sending Basic on every call
 * (Excel) costs one scrypt per TTL rather than per request. The key is an HMAC-SHA256 of the user
 * name and password under a per-process random key (no password is kept, not even hashed with a
 * known function); the value is the user id and a fingerprint of the password hash and user name
 * that were verified. A hit is believed only while the user's current row still has that
 * fingerprint, so a password change or rename takes effect at once. Failures are never remembered.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';

interface Entry {
  readonly userId: string;
  readonly fingerprint: string;
  readonly expiresAt: number;
}

export class VerifiedBasicCache {
  private readonly secret = randomBytes(32);
  /** Map keeps insertion order: the first entry is the oldest */
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly ttlSeconds: number, private readonly maxEntries: number) {}

  get enabled(): boolean {
    return this.ttlSeconds > 0 && this.maxEntries > 0;
  }

  keyOf(userName: string, password: string): string {
    // length-prefixed, so ("ab", "c") and ("a", "bc") differ
    return createHmac('sha256', this.secret).update(`${userName.length}:${userName}:${password}`, 'utf8').digest('base64url');
  }

  /** The user id remembered for `key` (and until when), if the entry is still fresh. */
  lookup(key: string, now = Date.now()): { readonly userId: string; readonly fingerprint: string; readonly expiresAt: number } | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Remembers a verification; answers until when it holds. */
  remember(key: string, userId: string, fingerprint: string, now = Date.now()): number {
    const expiresAt = now + this.ttlSeconds * 1000;
    if (!this.enabled) return expiresAt;
    this.entries.delete(key);
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    this.entries.set(key, { userId, fingerprint, expiresAt });
    return expiresAt;
  }

  forget(key: string): void {
    this.entries.delete(key);
  }
}

/** What a cache entry is checked against: the user's stored password hash and user name as they are now. */
export function credentialFingerprint(userName: string, passwordHash: string): string {
  return createHash('sha256').update(`${userName.length}:${userName}:${passwordHash}`, 'utf8').digest('base64url');
}
