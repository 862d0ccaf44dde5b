/**
 * The database side of identity: users by name or id, session tokens (`odata_auth_tokens`),
 * personal tokens (the `AccessTokens` entity set) and failed sign-ins (`odata_auth_failures`).
 * Every lookup a request makes goes through an index (token hashes are primary keys or indexed).
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Role, TokenScope } from '../plan/request-context';
import { formatUtc } from '../uri/temporal';
import type { Dialect } from '../sql/dialect/dialect';
import { run, type Executor } from '../sql/execute';
import { id, sql } from '../sql/fragment';
import { UNRESTRICTED_ACCESS } from './access';
import { AUTH_FAILURES_TABLE, AUTH_TOKENS_TABLE } from '../../migrations/20261204000004_auth';
import { newToken, tokenHash } from './tokens';

/** Crm.Role members by their stored value (metadata/crm.csdl.json) */
export const ROLES: readonly Role[] = ['Administrator', 'Manager', 'Standard', 'Restricted', 'Browse'];

export function roleValue(role: Role): number {
  return ROLES.indexOf(role);
}

export interface StoredUser {
  readonly id: string;
  readonly userName: string;
  readonly role: Role;
  readonly active: boolean;
  readonly passwordHash: string | null;
}

export interface TokenOwner {
  readonly userId: string;
  readonly role: Role;
  readonly active: boolean;
  readonly scopes: readonly TokenScope[];
  readonly teamIds: readonly string[];
  readonly expiresAt: number | null;
  readonly revoked: boolean;
  /** personal tokens: the AccessTokens row and when it was last used */
  readonly personal?: { readonly id: string; readonly lastUsed: number | null };
}

export interface IssuedTokens {
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly expiresIn: number;
}

type Row = Record<string, unknown>;

const SCOPES: readonly TokenScope[] = ['data', 'login'];

function toRole(value: unknown): Role {
  const role = ROLES[Number(value)];
  if (!role) throw new Error(`unknown role value ${String(value)}`);
  return role;
}

function toBool(value: unknown): boolean {
  return value === true || value === 1 || value === '1' || value === 't';
}

function toMillis(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  const t = value instanceof Date ? value.getTime() : new Date(String(value)).getTime();
  return Number.isNaN(t) ? null : t;
}

export function scopesOf(text: unknown): TokenScope[] {
  let list: unknown = [];
  try { list = JSON.parse(String(text ?? '[]')); } catch { list = []; }
  return Array.isArray(list) ? SCOPES.filter((s) => list.includes(s)) : [];
}

function teamIdsOf(rows: readonly Row[]): string[] {
  return rows.flatMap((r) => (r.TeamId === null || r.TeamId === undefined ? [] : [String(r.TeamId)]));
}

/** The columns of a user that sign-in reads. */
const USER_COLUMNS = sql`SELECT "Id", "UserName", "Role", "IsActive", "Password" FROM "Users"`;
const SESSION_TOKEN = sql`SELECT t."user_id", t."scopes", t."expires_at", t."revoked_at", u."Role", u."IsActive", m."TeamId"
  FROM ${id(AUTH_TOKENS_TABLE)} AS t JOIN "Users" AS u ON u."Id" = t."user_id" LEFT JOIN "Team_User" AS m ON m."UserId" = t."user_id"`;
const PERSONAL_TOKEN = sql`SELECT a."Id", a."UserId", a."Scopes", a."ExpiresDate", a."LastUsedDate", u."Role", u."IsActive", m."TeamId"
  FROM "AccessTokens" AS a JOIN "Users" AS u ON u."Id" = a."UserId" LEFT JOIN "Team_User" AS m ON m."UserId" = a."UserId"`;

export class AuthStore {
  /**
   * `lookups` runs the statements every signed-in request makes (token, user and team lookups) through the
   * service's own statement path (prepared once per connection on SQLite), not Knex's query builder.
   */
  private readonly lookups: Executor;

  constructor(readonly knex: Knex, dialect: Dialect) {
    this.lookups = { knex, dialect, access: UNRESTRICTED_ACCESS };
  }

  async userByName(userName: string): Promise<StoredUser | undefined> {
    const [row] = await run(this.lookups, sql`${USER_COLUMNS} WHERE "UserName" = ${userName} LIMIT 1`);
    return row ? this.toUser(row) : undefined;
  }

  async userById(id: string): Promise<StoredUser | undefined> {
    const [row] = await run(this.lookups, sql`${USER_COLUMNS} WHERE "Id" = ${this.lookups.dialect.bind(id, 'Edm.Guid')} LIMIT 1`);
    return row ? this.toUser(row) : undefined;
  }

  private toUser(row: Row): StoredUser {
    return { id: String(row.Id), userName: String(row.UserName), role: toRole(row.Role), active: toBool(row.IsActive), passwordHash: row.Password === null ? null : String(row.Password) };
  }

  async teamIdsOf(userId: string): Promise<string[]> {
    const rows = await run(this.lookups, sql`SELECT "TeamId" FROM "Team_User" WHERE "UserId" = ${this.lookups.dialect.bind(userId, 'Edm.Guid')}`);
    return rows.map((r) => String(r.TeamId));
  }

  /**
   * The owner of an access token by its hash, with the user's teams: one statement (a row per team),
   * since it runs on every request.
   */
  async sessionToken(hash: string): Promise<TokenOwner | undefined> {
    const rows = await run(this.lookups, sql`${SESSION_TOKEN} WHERE t."token_hash" = ${hash} AND t."kind" = ${'access'}`);
    const row = rows[0];
    if (!row) return undefined;
    return {
      userId: String(row.user_id), role: toRole(row.Role), active: toBool(row.IsActive), scopes: scopesOf(row.scopes), teamIds: teamIdsOf(rows),
      expiresAt: Number(row.expires_at), revoked: row.revoked_at !== null && row.revoked_at !== undefined,
    };
  }

  async personalToken(hash: string): Promise<TokenOwner | undefined> {
    const rows = await run(this.lookups, sql`${PERSONAL_TOKEN} WHERE a."Token" = ${hash}`);
    const row = rows[0];
    if (!row) return undefined;
    return {
      userId: String(row.UserId), role: toRole(row.Role), active: toBool(row.IsActive), scopes: scopesOf(row.Scopes), teamIds: teamIdsOf(rows),
      expiresAt: toMillis(row.ExpiresDate), revoked: false, personal: { id: String(row.Id), lastUsed: toMillis(row.LastUsedDate) },
    };
  }

  async markPersonalTokenUsed(id: string, now: number): Promise<void> {
    await this.knex('AccessTokens').update({ LastUsedDate: formatUtc(new Date(now)) }).where('Id', id);
  }

  /** A new access token and refresh token in `chain` (a new chain for a password grant). */
  async issue(userId: string, scopes: readonly TokenScope[], lifetimes: { accessSeconds: number; refreshSeconds: number }, chain: string = randomUUID()): Promise<IssuedTokens> {
    const now = Date.now();
    const accessToken = newToken('access');
    const refreshToken = newToken('refresh');
    const common = { user_id: userId, chain_id: chain, scopes: JSON.stringify(scopes), created_at: now };
    await this.knex(AUTH_TOKENS_TABLE).insert([
      { ...common, token_hash: tokenHash(accessToken), kind: 'access', expires_at: now + lifetimes.accessSeconds * 1000 },
      { ...common, token_hash: tokenHash(refreshToken), kind: 'refresh', expires_at: now + lifetimes.refreshSeconds * 1000 },
    ]);
    return { accessToken, refreshToken, expiresIn: lifetimes.accessSeconds };
  }

  /**
   * Uses a refresh token once: marks it used (only if still unused and unrevoked, so of two racing
   * refreshes one wins). `reused`: it had been used before, so its whole chain is revoked.
   */
  async useRefreshToken(hash: string): Promise<{ kind: 'ok'; chain: string; userId: string; scopes: TokenScope[] } | { kind: 'unknown' | 'reused' | 'revoked' | 'expired' }> {
    const now = Date.now();
    const [row] = await this.knex(AUTH_TOKENS_TABLE).select('chain_id', 'user_id', 'scopes', 'expires_at', 'used_at', 'revoked_at')
      .where({ token_hash: hash, kind: 'refresh' }).limit(1) as Row[];
    if (!row) return { kind: 'unknown' };
    const chain = String(row.chain_id);
    if (row.revoked_at !== null && row.revoked_at !== undefined) return { kind: 'revoked' };
    if (Number(row.expires_at) <= now) return { kind: 'expired' };
    const claimed = await this.knex(AUTH_TOKENS_TABLE).update({ used_at: now })
      .where({ token_hash: hash }).whereNull('used_at').whereNull('revoked_at');
    if (claimed !== 1) {
      await this.revokeChain(chain);
      return { kind: 'reused' };
    }
    // the access token issued with it goes too: the new pair replaces both
    await this.knex(AUTH_TOKENS_TABLE).update({ revoked_at: now }).where({ chain_id: chain, kind: 'access' }).whereNull('revoked_at');
    return { kind: 'ok', chain, userId: String(row.user_id), scopes: scopesOf(row.scopes) };
  }

  async revokeChain(chain: string): Promise<void> {
    await this.knex(AUTH_TOKENS_TABLE).update({ revoked_at: Date.now() }).where('chain_id', chain).whereNull('revoked_at');
  }

  /** RFC 7009: revokes a session token (a refresh token takes its chain along) or deletes a personal one. */
  async revokeToken(hash: string): Promise<void> {
    const [row] = await this.knex(AUTH_TOKENS_TABLE).select('chain_id', 'kind').where('token_hash', hash).limit(1) as Row[];
    if (row && row.kind === 'refresh') return this.revokeChain(String(row.chain_id));
    if (row) {
      await this.knex(AUTH_TOKENS_TABLE).update({ revoked_at: Date.now() }).where('token_hash', hash).whereNull('revoked_at');
      return;
    }
    await this.knex('AccessTokens').delete().where('Token', hash);
  }

  async revokeRefreshTokensOf(userId: string, knex: Knex | Knex.Transaction = this.knex): Promise<void> {
    await knex(AUTH_TOKENS_TABLE).update({ revoked_at: Date.now() }).where({ user_id: userId, kind: 'refresh' }).whereNull('revoked_at');
  }

  /** Drops session tokens that expired more than a day ago (called now and then, never per request). */
  async purgeExpired(now = Date.now()): Promise<void> {
    await this.knex(AUTH_TOKENS_TABLE).delete().where('expires_at', '<', now - 24 * 3600 * 1000);
  }

  /** The moment until which sign-ins for any of `subjects` must wait (0: none). */
  async lockedUntil(subjects: readonly string[]): Promise<number> {
    const rows = await this.knex(AUTH_FAILURES_TABLE).select('locked_until').whereIn('subject', [...subjects]) as Row[];
    return rows.reduce((max, r) => Math.max(max, Number(r.locked_until)), 0);
  }

  /** Counts a failed sign-in; past `free` failures each one locks the subject for twice as long (1 s up to 15 min). */
  async noteFailure(subjects: readonly string[], free: number): Promise<void> {
    const now = Date.now();
    for (const subject of subjects) {
      const [row] = await this.knex(AUTH_FAILURES_TABLE).select('failures', 'last_failure_at').where('subject', subject) as Row[];
      // failures an hour apart start counting afresh
      const failures = row && now - Number(row.last_failure_at) < 3600 * 1000 ? Number(row.failures) + 1 : 1;
      const over = failures - free;
      const lockedUntil = over > 0 ? now + Math.min(1000 * 2 ** Math.min(over - 1, 20), 15 * 60 * 1000) : 0;
      await this.knex(AUTH_FAILURES_TABLE).insert({ subject, failures, last_failure_at: now, locked_until: lockedUntil })
        .onConflict('subject').merge(['failures', 'last_failure_at', 'locked_until']);
    }
  }

  async clearFailures(subject: string): Promise<void> {
    await this.knex(AUTH_FAILURES_TABLE).delete().where('subject', subject);
  }
}
