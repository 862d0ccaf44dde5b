/**
 * First start: an empty database (no Administrator who can sign in) gets one, `admin`, whose password
 * is the setting ODATA_ADMIN_PASSWORD or, without it, random and printed once. When demo data is
 * seeded, demo users of the other roles are added (`demo.manager`, `demo.standard`,
 * `demo.restricted`, `demo.browse`), with ODATA_DEMO_PASSWORD or random passwords, printed once.
 * There is no fixed default password anywhere.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Role } from '../plan/request-context';
import { formatUtc } from '../uri/temporal';
import { roleValue } from './auth-store';
import { hashPassword, randomPassword } from './passwords';

export interface BootstrapSettings {
  readonly adminPassword: string;
  readonly demoPassword: string;
  readonly minPasswordLength: number;
}

export const DEMO_ROLES: readonly Exclude<Role, 'Administrator'>[] = ['Manager', 'Standard', 'Restricted', 'Browse'];

export function demoUserName(role: Role): string {
  return `demo.${role.toLowerCase()}`;
}

/** Creates the bootstrap Administrator if no Administrator can sign in; returns what to print (nothing when settings chose the passwords). */
export async function ensureAdministrator(knex: Knex, settings: BootstrapSettings): Promise<string[]> {
  const [existing] = await knex('Users').select('Id').where('Role', roleValue('Administrator')).whereNotNull('Password').limit(1) as unknown[];
  if (existing) return [];
  const taken = await knex('Users').select('Id').where('UserName', 'admin').limit(1) as unknown[];
  const userName = taken.length === 0 ? 'admin' : `admin-${randomUUID().slice(0, 8)}`;
  const password = chosen(settings.adminPassword, settings.minPasswordLength, 'ODATA_ADMIN_PASSWORD');
  const plain = await insertUser(knex, userName, 'Administrator', password ?? '');
  return password ? [] : [`Created the Administrator "${userName}"; its password (shown once): ${plain}`];
}

async function insertUser(knex: Knex, userName: string, role: Role, password: string): Promise<string> {
  const plain = password || randomPassword();
  const now = formatUtc(new Date());
  await knex('Users').insert({
    Id: randomUUID(), Created: now, Edited: now, UserName: userName, DisplayName: `${role} (${userName})`, Email: null,
    Role: roleValue(role), IsActive: true, Password: await hashPassword(plain), ContactId: null,
  });
  return plain;
}

/** Demo users of every role but Administrator (seeded with the demo data). */
export async function ensureDemoUsers(knex: Knex, settings: BootstrapSettings): Promise<string[]> {
  const lines: string[] = [];
  const password = chosen(settings.demoPassword, settings.minPasswordLength, 'ODATA_DEMO_PASSWORD');
  for (const role of DEMO_ROLES) {
    const userName = demoUserName(role);
    const exists = await knex('Users').select('Id').where('UserName', userName).limit(1) as unknown[];
    if (exists.length > 0) continue;
    const plain = await insertUser(knex, userName, role, password ?? '');
    if (!password) lines.push(`Created the demo user "${userName}" (${role}); its password (shown once): ${plain}`);
  }
  return lines;
}

function chosen(value: string, minLength: number, setting: string): string | undefined {
  if (value === '') return undefined;
  if ([...value].length < minLength) throw new Error(`${setting} must have at least ${minLength} characters`);
  return value;
}

/** The Administrator every request acts as when authentication is off (ODATA_AUTH=off). */
export async function bootstrapAdministratorId(knex: Knex): Promise<string | undefined> {
  const [row] = await knex('Users').select('Id').where('Role', roleValue('Administrator')).whereNotNull('Password').orderBy('Created').limit(1) as { Id: unknown }[];
  return row ? String(row.Id) : undefined;
}

/** Everything a first start does for identity; prints passwords nobody chose (once: later starts find the users). */
export async function prepareIdentity(knex: Knex, settings: BootstrapSettings, demoDataSeeded: boolean): Promise<void> {
  const lines = [...await ensureAdministrator(knex, settings), ...(demoDataSeeded ? await ensureDemoUsers(knex, settings) : [])];
  for (const line of lines) process.stdout.write(`${line}\n`);
}
