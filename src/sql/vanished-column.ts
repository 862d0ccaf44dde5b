/**
 * Whether a failed statement named a column the table no longer has: a read planned on a model that a
 * schema change has replaced since (the change dropped a custom field while the read waited for the
 * table's lock). PostgreSQL's SQLSTATE 42703 (undefined_column); SQLite's "no such column".
 */
import { DbError } from '../errors/odata-error';

export function isVanishedColumn(err: unknown): boolean {
  if (!(err instanceof DbError)) return false;
  const cause = err.cause as { code?: unknown; message?: unknown } | undefined;
  if (cause === undefined || cause === null) return false;
  return cause.code === '42703' || (typeof cause.message === 'string' && cause.message.includes('no such column'));
}
