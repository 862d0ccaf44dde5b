/**
 * Helpers of the $apply and $compute tests: exact decimal arithmetic in plain BigInt (sharing no code
 * with the service), grouping of rows read through the service, and reading every page of an answer.
 * Every expected value is computed here from rows the service returned unaggregated.
 */
import type { TestService } from '../helpers/service';
import { allPages, type Row } from './support';

/** Decimals and Int64 as exact strings, so sums can be compared digit for digit. */
export const EXACT = { Accept: 'application/json;odata.metadata=minimal;IEEE754Compatible=true' };

/** value = units / 10^scale */
export interface Dec { readonly units: bigint; readonly scale: number }

export function dec(value: unknown): Dec {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(String(value));
  if (!m) throw new Error(`not a decimal: ${String(value)}`);
  const fraction = m[3] ?? '';
  const units = BigInt(m[2] + fraction);
  return { units: m[1] ? -units : units, scale: fraction.length };
}

const p10 = (n: number) => 10n ** BigInt(n);

export function add(a: Dec, b: Dec): Dec {
  const s = Math.max(a.scale, b.scale);
  return { units: a.units * p10(s - a.scale) + b.units * p10(s - b.scale), scale: s };
}

export function compare(a: Dec, b: Dec): number {
  const s = Math.max(a.scale, b.scale);
  const x = a.units * p10(s - a.scale);
  const y = b.units * p10(s - b.scale);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The service's documented decimal quotient: truncated to 20 fractional digits. */
export function divide(a: Dec, n: number): Dec {
  return { units: (a.units * p10(20)) / (BigInt(n) * p10(a.scale)), scale: 20 };
}

export function text(a: Dec): string {
  const negative = a.units < 0n;
  const digits = (negative ? -a.units : a.units).toString().padStart(a.scale + 1, '0');
  let out = a.scale === 0 ? digits : `${digits.slice(0, -a.scale)}.${digits.slice(-a.scale)}`;
  if (a.scale > 0) out = out.replace(/0+$/, '').replace(/\.$/, '');
  return negative && out !== '0' ? `-${out}` : out;
}

export const sumText = (values: readonly unknown[]): string | null => {
  const present = values.filter((v) => v !== null && v !== undefined);
  return present.length ? text(present.map(dec).reduce(add)) : null;
};

/** Rows grouped by a key function (JSON of the key values). */
export function groupBy<T>(rows: readonly T[], key: (row: T) => unknown): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const r of rows) {
    const k = JSON.stringify(key(r));
    const list = groups.get(k);
    if (list) list.push(r);
    else groups.set(k, [r]);
  }
  return groups;
}

/** Every row of every page of an answer. */
export async function allRows(svc: TestService, path: string, headers: Record<string, string> = EXACT): Promise<Row[]> {
  return (await allPages(svc, path, headers)).flatMap((p) => p.body.value);
}

/** SQL statements sent while `action` runs, as the Knex 'query' event reports them. */
export async function statementsDuring(svc: TestService, action: () => Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  const listener = (q: { sql: string }) => seen.push(q.sql);
  svc.knex.on('query', listener);
  try {
    await action();
  } finally {
    svc.knex.off('query', listener);
  }
  return seen;
}
