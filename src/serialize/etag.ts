/**
 * Entity ETags (OData Protocol §11.4.1.1, Core.OptimisticConcurrency): a weak ETag over the values
 * of the entity set's concurrency properties. The write path keeps `Edited` strictly increasing per
 * row, so every write yields a new ETag.
 */
import { propertyOf } from '../edm/lookup';
import type { EdmEntitySet } from '../edm/model';
import { memoizedByObject } from '../memo';
import { propertyColumn } from '../edm/storage';
import type { Dialect } from '../sql/dialect/dialect';

export function etagOf(set: EdmEntitySet, row: Readonly<Record<string, unknown>>, dialect: Dialect): string | undefined {
  if (set.concurrency.length === 0) return undefined;
  const parts = concurrencyProperties(set).map((property) => {
    const column = propertyColumn(property);
    const value = property.type.kind === 'primitive' ? dialect.read(row[column], property.type.name) : row[column];
    return value === null || value === undefined ? '' : String(value);
  });
  return `W/"${parts.join(',').replace(/["\\]/g, '')}"`;
}

const concurrencyProperties = memoizedByObject((set: EdmEntitySet) => set.concurrency.map((name) => propertyOf(set.entityType, name)));

/** Whether an `If-Match` / `If-None-Match` header value (a list, or `*`) matches a current ETag. */
export function etagMatches(header: string, current: string | undefined): boolean {
  if (current === undefined) return false;
  if (header.trim() === '*') return true;
  return splitEtags(header).some((tag) => tag === current || weakless(tag) === weakless(current));
}

function splitEtags(header: string): string[] {
  return header.match(/(W\/)?"[^"]*"/g) ?? [];
}

function weakless(tag: string): string {
  return tag.replace(/^W\//, '');
}
