/**
 * Passwords are kept as scrypt hashes (Node's crypto; `scrypt$N$r$p$salt$hash`, base64url) and
 * compared in constant time. Verifying against no stored hash still runs one scrypt, against a
 * dummy, so an unknown user name costs as long as a wrong password.
 */
import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const COST: ScryptOptions = { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const KEY_BYTES = 32;
const SALT_BYTES = 16;

function derive(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // scrypt's PBKDF2-HMAC pads short keys with zero bytes, so "pw" and "pw\0" would derive alike;
    // a SHA-256 of the password first gives every password a distinct fixed-length key
    const digest = createHash('sha256').update(password.normalize('NFC'), 'utf8').digest();
    scrypt(digest, salt, KEY_BYTES, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, COST);
  return ['scrypt', COST.N, COST.r, COST.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

interface StoredHash { readonly options: ScryptOptions; readonly salt: Buffer; readonly key: Buffer }

function parseStored(stored: string): StoredHash | undefined {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const [N, r, p] = parts.slice(1, 4).map(Number);
  if (![N, r, p].every((n) => Number.isInteger(n) && n > 0) || N > 1 << 20) return undefined;
  const key = Buffer.from(parts[5], 'base64url');
  if (key.length !== KEY_BYTES) return undefined;
  return { options: { N, r, p, maxmem: COST.maxmem }, salt: Buffer.from(parts[4], 'base64url'), key };
}

let dummy: Promise<StoredHash> | undefined;

function dummyHash(): Promise<StoredHash> {
  dummy ??= hashPassword(randomBytes(16).toString('hex')).then((h) => parseStored(h)!);
  return dummy;
}

/** Whether `password` matches `stored`; with nothing (or nothing valid) stored, false after the same work. */
export async function verifyPassword(password: string, stored: string | null | undefined): Promise<boolean> {
  const parsed = stored ? parseStored(stored) : undefined;
  const target = parsed ?? (await dummyHash());
  const key = await derive(password, target.salt, target.options);
  return timingSafeEqual(key, target.key) && parsed !== undefined;
}

/** A random password for a user nobody chose one for (printed once). */
export function randomPassword(): string {
  return randomBytes(18).toString('base64url');
}
