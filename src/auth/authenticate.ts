/**
 * The authenticate stage: the request's credential (credentials.ts) checked against the database
 * (auth-store.ts) → the caller (`RequestUser`), anonymous, or a refusal (401; 429 while sign-ins for
 * a user name or address are slowed down). Passwords are verified in constant time, and an unknown
 * user name costs one scrypt like a wrong password.
 */
import type { Config } from '../config';
import { createHash } from 'node:crypto';
import type { ChangeWatch } from '../db/change-watch';
import { ODataError } from '../errors/odata-error';
import type { RequestUser, TokenScope } from '../plan/request-context';
import type { AuthStore, StoredUser, TokenOwner } from './auth-store';
import { credentialFingerprint, VerifiedBasicCache } from './basic-cache';
import { credentialOf, takeQueryKey } from './credentials';
import { verifyPassword } from './passwords';
import { SignedInCache } from './signed-in-cache';
import { tokenHash, tokenKindOf, type TokenKind } from './tokens';

/** The sign-in settings of the configuration (documented there), and whether sign-in is on at all. */
export type AuthSettings = Pick<Config, 'apiKeyParameter' | 'accessTokenSeconds' | 'refreshTokenSeconds' | 'minPasswordLength'
  | 'signInFreeFailures' | 'basicCacheSeconds' | 'basicCacheEntries'> & {
  /** false: `ODATA_AUTH=off`, every request acts as the bootstrap Administrator */
  readonly enabled: boolean;
};

export type Authentication =
  /** `query`: the query string without the API key parameter, for everything after this stage */
  | { readonly kind: 'user'; readonly user: RequestUser; readonly query: string }
  | { readonly kind: 'anonymous'; readonly query: string }
  | { readonly kind: 'refused'; readonly error: ODataError; readonly headers: Readonly<Record<string, string>> };

export type SignIn =
  | { readonly kind: 'ok'; readonly user: StoredUser }
  | { readonly kind: 'invalid' }
  | { readonly kind: 'slowed'; readonly retryAfterSeconds: number };

type CallerOutcome = { readonly kind: 'ok'; readonly user: RequestUser } | Exclude<SignIn, { kind: 'ok' }>;

export const CHALLENGE = 'Bearer realm="CRM", Basic realm="CRM", charset="UTF-8"';

/** Token uses are written to AccessTokens.LastUsedDate at most this often (not a write per request). */
const LAST_USED_RESOLUTION_MS = 60_000;

const ALL_SCOPES: readonly TokenScope[] = ['data', 'login'];

export class Authenticator {
  private readonly basicCache: VerifiedBasicCache;
  private readonly signedIn: SignedInCache;

  constructor(
    readonly store: AuthStore,
    readonly settings: AuthSettings,
    /** the caller of every request when authentication is off */
    private readonly withoutAuth?: RequestUser,
    /** tells whether the database changed since a caller was verified (absent: the rows are read on every request) */
    changes?: ChangeWatch,
  ) {
    this.basicCache = new VerifiedBasicCache(settings.basicCacheSeconds, settings.basicCacheEntries);
    this.signedIn = new SignedInCache(changes);
  }

  close(): void {
    this.signedIn.close();
  }

  async authenticate(headers: Readonly<Record<string, string | undefined>>, rawQuery: string, address: string | undefined): Promise<Authentication> {
    const { query, key, repeated } = takeQueryKey(rawQuery, this.settings.apiKeyParameter);
    if (!this.settings.enabled && this.withoutAuth) return { kind: 'user', user: this.withoutAuth, query };
    if (repeated) return refused(`The ${this.settings.apiKeyParameter} parameter was given more than once`, 'invalid_request');
    const credential = credentialOf(headers, key);
    switch (credential.kind) {
      case 'none': return { kind: 'anonymous', query };
      case 'malformed': return refused(credential.message, 'invalid_request');
      case 'token': {
        const user = await this.tokenCaller(credential.token);
        if (!user) return refused('The token is not valid (unknown, expired or revoked)', 'invalid_token');
        return { kind: 'user', user, query };
      }
      case 'password': {
        const outcome = await this.basicCaller(credential.userName, credential.password, address);
        if (outcome.kind === 'slowed') return slowed(outcome.retryAfterSeconds);
        if (outcome.kind === 'invalid') return refused('The user name or password is not valid', undefined);
        return { kind: 'user', user: outcome.user, query };
      }
    }
  }

  /** The owner of a token that works now (by its hash): known, unexpired, unrevoked, its user active. */
  private async ownerOf(kind: Exclude<TokenKind, 'refresh'>, hash: string): Promise<TokenOwner | undefined> {
    const owner = kind === 'access' ? await this.store.sessionToken(hash) : await this.store.personalToken(hash);
    const now = Date.now();
    if (!owner || owner.revoked || !owner.active || (owner.expiresAt !== null && owner.expiresAt <= now)) return undefined;
    if (owner.personal && lastUseDue(owner.personal.lastUsed, now)) await this.store.markPersonalTokenUsed(owner.personal.id, now);
    return owner;
  }

  /** The caller of a token: from the signed-in cache while the database is unchanged, else from its rows. */
  private async tokenCaller(token: string): Promise<RequestUser | undefined> {
    const kind = tokenKindOf(token);
    if (kind === undefined || kind === 'refresh') return undefined;
    const hash = tokenHash(token);
    const key = `token:${hash}`;
    // read before the rows, so an entry never holds rows older than its stamp
    const stamp = this.signedIn.stamp();
    const now = Date.now();
    const kept = this.signedIn.lookup(key, stamp, now);
    if (kept !== undefined) {
      // the write changes the database, which ends the entry: the next request reads the rows again
      if (kept.personal && lastUseDue(kept.personal.lastUsed, now)) await this.store.markPersonalTokenUsed(kept.personal.id, now);
      return kept.user;
    }
    const owner = await this.ownerOf(kind, hash);
    if (!owner) return undefined;
    const user: RequestUser = Object.freeze({ id: owner.userId, role: owner.role, teamIds: owner.teamIds, scopes: owner.scopes });
    if (stamp !== undefined) this.signedIn.remember(key, { user, stamp, expiresAt: owner.expiresAt, personal: owner.personal });
    return user;
  }

  /**
   * HTTP Basic: a user name and password verified lately (basic-cache.ts) skips the scrypt, but the
   * user row is still read, so deactivation, a new password or a rename counts at once; while the
   * database has not changed since, the caller comes from the signed-in cache.
   */
  private async basicCaller(userName: string, password: string, address: string | undefined): Promise<CallerOutcome> {
    if (!this.basicCache.enabled) return this.callerOf(await this.signIn(userName, password, address));
    const key = this.basicCache.keyOf(userName, password);
    const signedInKey = `basic:${key}`;
    const stamp = this.signedIn.stamp();
    const kept = this.signedIn.lookup(signedInKey, stamp, Date.now());
    if (kept !== undefined) return { kind: 'ok', user: kept.user };
    const remembered = this.basicCache.lookup(key);
    let verifiedUntil: number | undefined;
    let outcome: SignIn | undefined;
    if (remembered) {
      const user = await this.store.userById(remembered.userId);
      if (user && user.active && user.passwordHash !== null && credentialFingerprint(user.userName, user.passwordHash) === remembered.fingerprint) {
        outcome = { kind: 'ok', user };
        verifiedUntil = remembered.expiresAt;
      } else {
        this.basicCache.forget(key);
      }
    }
    if (outcome === undefined) {
      outcome = await this.signIn(userName, password, address);
      if (outcome.kind === 'ok' && outcome.user.passwordHash !== null) {
        verifiedUntil = this.basicCache.remember(key, outcome.user.id, credentialFingerprint(outcome.user.userName, outcome.user.passwordHash));
      }
    }
    const caller = await this.callerOf(outcome);
    if (caller.kind === 'ok' && stamp !== undefined && verifiedUntil !== undefined) {
      this.signedIn.remember(signedInKey, { user: caller.user, stamp, expiresAt: verifiedUntil });
    }
    return caller;
  }

  private async callerOf(outcome: SignIn): Promise<CallerOutcome> {
    if (outcome.kind !== 'ok') return outcome;
    const { id, role } = outcome.user;
    return { kind: 'ok', user: Object.freeze({ id, role, teamIds: await this.store.teamIdsOf(id), scopes: ALL_SCOPES }) };
  }

  /**
   * Checks a user name and password. Failures are counted per user name and per address; past the
   * free ones, sign-ins for them wait (doubling) and are refused until then without a check.
   */
  async signIn(userName: string, password: string, address: string | undefined): Promise<SignIn> {
    const subjects = [`user:${digest(userName.normalize('NFC').toLowerCase())}`, ...(address ? [`addr:${address}`] : [])];
    const lockedUntil = await this.store.lockedUntil(subjects);
    const now = Date.now();
    if (lockedUntil > now) return { kind: 'slowed', retryAfterSeconds: Math.ceil((lockedUntil - now) / 1000) };
    // Names longer than any stored one, or holding NUL, find nobody; the password is still hashed.
    const plausible = userName.length > 0 && userName.length <= 100 && !userName.includes('\u0000');
    const user = plausible ? await this.store.userByName(userName) : undefined;
    const matches = await verifyPassword(password, user?.passwordHash);
    if (!user || !matches || !user.active) {
      await this.store.noteFailure(subjects, this.settings.signInFreeFailures);
      return { kind: 'invalid' };
    }
    await this.store.clearFailures(subjects[0]);
    return { kind: 'ok', user };
  }
}

function lastUseDue(lastUsed: number | null, now: number): boolean {
  return lastUsed === null || now - lastUsed > LAST_USED_RESOLUTION_MS;
}

function digest(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 40);
}

function refused(message: string, bearerError: 'invalid_request' | 'invalid_token' | undefined): Authentication {
  const challenge = bearerError ? `Bearer realm="CRM", error="${bearerError}", Basic realm="CRM", charset="UTF-8"` : CHALLENGE;
  return { kind: 'refused', error: new ODataError('UNAUTHENTICATED', message, { target: 'Authorization' }), headers: { 'WWW-Authenticate': challenge } };
}

function slowed(retryAfterSeconds: number): Authentication {
  return {
    kind: 'refused', headers: { 'Retry-After': String(retryAfterSeconds) },
    error: new ODataError('TOO_MANY_SIGN_IN_FAILURES', `Too many failed sign-ins; try again in ${retryAfterSeconds} s`, { target: 'Authorization' }),
  };
}
