/** Types and helpers shared by the seed generators: row shapes, counts per scale, the context, timestamps. */
import { Random } from './random';
import * as W from './words';

export type SeedValue = string | number | boolean | null;
export type SeedRow = Record<string, SeedValue>;

export interface SeedTable {
  readonly table: string;
  readonly rows: readonly SeedRow[];
}

/** Column values set after all tables are in (references that would otherwise form an insert cycle). */
export interface SeedUpdate {
  readonly table: string;
  readonly key: string;
  readonly rows: readonly SeedRow[];
}

export interface SeedDataset {
  /** In insert order: a table comes after every table it references. */
  readonly tables: readonly SeedTable[];
  readonly updates: readonly SeedUpdate[];
}

export interface SeedOptions {
  readonly contacts: number;
  /** PRNG seed; the default makes every demo database identical. */
  readonly seed?: number;
}

export interface SeedCounts {
  readonly contacts: number;
  readonly users: number;
  readonly teams: number;
  readonly companies: number;
  readonly groups: number;
  readonly processes: number;
  readonly products: number;
  readonly opportunities: number;
  readonly activityTypes: number;
  readonly activities: number;
  readonly historyTypes: number;
  readonly histories: number;
  readonly notes: number;
}

export const DEFAULT_SEED = 20261123;
/** "Now" for the demo data; every timestamp is relative to it. */
export const REFERENCE_TIME = Date.UTC(2026, 0, 1);
export const DAY = 86_400_000;

/** Entity counts for N contacts (the proportions the demo data keeps at every scale). */
export function seedCounts(contacts: number): SeedCounts {
  if (!Number.isInteger(contacts) || contacts < 0) throw new Error(`contacts must be a non-negative integer, got ${contacts}`);
  const users = Math.max(5, Math.floor(contacts / 500));
  return {
    contacts, users, teams: Math.max(2, Math.ceil(users / 10)), companies: Math.max(1, Math.floor(contacts / 10)),
    groups: Math.max(3, Math.floor(contacts / 50)), processes: W.PROCESSES.length, products: 50,
    opportunities: Math.floor(contacts / 5), activityTypes: W.ACTIVITY_TYPES.length, activities: Math.floor(contacts / 2),
    historyTypes: W.HISTORY_TYPES.length, histories: Math.floor(contacts / 2), notes: Math.floor(contacts / 2),
  };
}

/** Shared, read-only facts later tables draw on (ids of earlier tables, names, companies). */
export interface SeedContext {
  readonly seed: number;
  readonly counts: SeedCounts;
  readonly ids: Readonly<Record<string, readonly string[]>>;
  readonly contactNames: readonly string[];
  /** index into ids.Companies, or -1 */
  readonly contactCompany: Int32Array;
  readonly companyNames: readonly string[];
  stream(purpose: string): Random;
}

export function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** ISO 8601 UTC with milliseconds, fixed width: 'YYYY-MM-DDTHH:MM:SS.sssZ'. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** Deterministic Created/Edited: created within three years before REFERENCE_TIME, edited since. */
export function stamps(r: Random): { Created: string; Edited: string } {
  const created = REFERENCE_TIME - r.int(1, 3 * 365 * DAY);
  const edited = r.chance(0.4) ? created : created + r.int(0, REFERENCE_TIME - created);
  return { Created: isoTime(created), Edited: isoTime(edited) };
}

/** How many of `count` rows are top-level; the rest are children (divisions, subgroups) of those. */
export function topLevelCount(count: number, childShare: number, minTop: number): number {
  if (count <= minTop) return count;
  return Math.max(minTop, count - Math.max(1, Math.floor(count * childShare)));
}
