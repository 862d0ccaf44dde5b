/**
 * Keeps stored complex values whole when an update touches some of their members (PATCH merges
 * member by member; PUT/DELETE of one member's URL): a value that was null and gets a member starts
 * from its members' defaults (computed collections empty), and a value that is not null afterwards
 * must have every non-nullable member, or the write is refused (VALIDATION_FAILED) before any
 * statement runs. "Null" is the shared storage rule of edm/complex-null.
 */
import { isSingleComplex, nullIndicatorColumns } from '../edm/complex-null';
import type { EdmComplexType, EdmEntityType } from '../edm/model';
import { columnOf } from '../edm/storage';
import { ODataError, type ErrorDetail } from '../errors/odata-error';
import { defaultOf, storedType, type ColumnValue } from './entity-input';
import type { StoredValue } from './json-values';

/**
 * Completes `writes`/`merged` (the row after the update) for every complex property the update
 * touches; throws VALIDATION_FAILED naming each missing non-nullable member.
 */
export function completeComplexValues(
  type: EdmEntityType, before: ReadonlyMap<string, StoredValue>, merged: Map<string, StoredValue>, writes: Map<string, ColumnValue>,
): void {
  const problems: ErrorDetail[] = [];
  for (const p of type.properties) {
    if (isSingleComplex(p)) completeValue(p.type.type, [p.name], p.nullable, before, merged, writes, problems);
  }
  if (problems.length === 0) return;
  const message = problems.map((d) => d.message).join('; ');
  throw new ODataError('VALIDATION_FAILED', problems.length === 1 ? message : `${problems.length} problems in the request: ${message}`, { target: problems[0].target, details: problems });
}

function completeValue(
  complex: EdmComplexType, path: readonly string[], nullable: boolean,
  before: ReadonlyMap<string, StoredValue>, merged: Map<string, StoredValue>, writes: Map<string, ColumnValue>, problems: ErrorDetail[],
): void {
  const prefix = `${path.join('_')}_`;
  let touched = false;
  for (const column of writes.keys()) if (column.startsWith(prefix)) touched = true;
  if (!touched) return;
  const indicators = nullIndicatorColumns(complex, path);
  const isNull = (row: ReadonlyMap<string, StoredValue>) => indicators.every((c) => row.get(c) === null || row.get(c) === undefined);
  if (nullable && isNull(merged)) return;
  if (isNull(before)) fillFromDefaults(complex, path, merged, writes);
  checkMembers(complex, path, before, merged, writes, problems);
}

/** The members an update left out of a value that was null: their default, computed collections `[]`. */
function fillFromDefaults(complex: EdmComplexType, path: readonly string[], merged: Map<string, StoredValue>, writes: Map<string, ColumnValue>): void {
  for (const p of complex.properties) {
    const inner = [...path, p.name];
    if (isSingleComplex(p)) {
      if (!p.nullable) fillFromDefaults(p.type.type, inner, merged, writes);
      continue;
    }
    const column = columnOf(inner, p);
    if (writes.has(column)) continue;
    const initial = p.collection ? (p.computed ? '[]' : undefined) : defaultOf(p);
    if (initial === undefined) continue;
    writes.set(column, { column, value: initial, type: storedType(p) });
    merged.set(column, initial);
  }
}

function checkMembers(
  complex: EdmComplexType, path: readonly string[],
  before: ReadonlyMap<string, StoredValue>, merged: Map<string, StoredValue>, writes: Map<string, ColumnValue>, problems: ErrorDetail[],
): void {
  for (const p of complex.properties) {
    const inner = [...path, p.name];
    if (isSingleComplex(p)) {
      completeValue(p.type.type, inner, p.nullable, before, merged, writes, problems);
      continue;
    }
    if (p.nullable || p.collection) continue;
    const value = merged.get(columnOf(inner, p));
    if (value !== null && value !== undefined) continue;
    const target = inner.join('/');
    problems.push({
      code: 'NULL_NOT_ALLOWED', target,
      message: `${target}: ${p.name} cannot be null while ${path.join('/')} is not null (send it, or set ${path.join('/')} to null)`,
    });
  }
}
