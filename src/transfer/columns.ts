/**
 * CSV columns ↔ an entity type's properties. A header names a property (case-insensitive), a
 * member of a complex property as `BusinessAddress/City`, or a field by its display name
 * (FieldDefinitions' DisplayName, case-insensitive) when no property has that name. Cells are only turned from text into the
 * JSON shape an OData client would send (numbers, booleans); whether the value fits its property
 * is decided by the write pipeline itself (src/write), never here.
 */
import type { EdmComplexType, EdmEntityType, EdmProperty, EdmTypeRef } from '../edm/model';

export interface ImportColumn {
  /** position in the CSV record */
  readonly index: number;
  readonly header: string;
  /** property names from the entity type down: `['BusinessAddress', 'City']` */
  readonly path: readonly string[];
  readonly property: EdmProperty;
}

export interface ColumnMapping {
  readonly columns: readonly ImportColumn[];
  /** headers naming server-maintained (computed) properties: read, not written */
  readonly ignored: readonly string[];
}

function findProperty(type: EdmEntityType | EdmComplexType, name: string): EdmProperty | undefined {
  const lower = name.trim().toLowerCase();
  return type.properties.find((p) => p.name === name.trim()) ?? type.properties.find((p) => p.name.toLowerCase() === lower);
}

/**
 * Maps a CSV header row to properties; an unknown or unusable column is an error for the whole file.
 * `displayNames`: lower-case display name → property name, for headers that name no property.
 */
export function mapColumns(type: EdmEntityType, headers: readonly string[], displayNames: ReadonlyMap<string, string> = new Map()): ColumnMapping {
  const columns: ImportColumn[] = [];
  const ignored: string[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  headers.forEach((header, index) => {
    const displayed = displayNames.get(header.trim().toLowerCase());
    const segments = findProperty(type, header.split('/')[0]) === undefined && displayed !== undefined ? [displayed] : header.split('/');
    const path: string[] = [];
    let owner: EdmEntityType | EdmComplexType = type;
    let property: EdmProperty | undefined;
    for (const [i, segment] of segments.entries()) {
      property = findProperty(owner, segment);
      if (!property) break;
      path.push(property.name);
      if (i < segments.length - 1) {
        if (property.type.kind !== 'complex') { property = undefined; break; }
        owner = property.type.type;
      }
    }
    if (!property || property.hidden) { problems.push(`column '${header}' names no property of ${type.name}`); return; }
    if (property.type.kind === 'complex') { problems.push(`column '${header}' is a structured property: name its members, e.g. '${property.name}/${property.type.type.properties[0]?.name ?? 'Member'}'`); return; }
    if (property.collection) { problems.push(`column '${header}' is a collection, which CSV cannot carry`); return; }
    const key = path.join('/');
    if (seen.has(key)) { problems.push(`column '${header}' repeats ${key}`); return; }
    seen.add(key);
    if (property.computed) { ignored.push(header); return; }
    columns.push({ index, header, path, property });
  });
  if (problems.length > 0) throw new Error(problems.join('; '));
  return { columns, ignored };
}

const INTEGER = /^[+-]?\d+$/;

/** A cell's text as the JSON value a client would send for it; the write pipeline validates it. */
export function cellValue(type: EdmTypeRef, text: string): unknown {
  if (type.kind !== 'primitive') return text;
  switch (type.name) {
    case 'Edm.Byte': case 'Edm.SByte': case 'Edm.Int16': case 'Edm.Int32':
      return INTEGER.test(text.trim()) ? Number(text.trim()) : text;
    case 'Edm.Boolean': {
      const lower = text.trim().toLowerCase();
      return lower === 'true' ? true : lower === 'false' ? false : text;
    }
    case 'Edm.Int64': case 'Edm.Decimal': case 'Edm.Double': case 'Edm.Single':
      return text.trim();
    case 'Edm.String': case 'Edm.Guid': case 'Edm.Date': case 'Edm.DateTimeOffset': case 'Edm.TimeOfDay': case 'Edm.Duration': case 'Edm.Binary':
      return text;
  }
}

/**
 * One CSV record → the JSON body of a write. An empty cell leaves its property unset (a new entity
 * gets the default, an updated one keeps its value).
 */
export function recordBody(mapping: ColumnMapping, record: readonly string[]): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const column of mapping.columns) {
    const text = record[column.index] ?? '';
    if (text === '') continue;
    const value = cellValue(column.property.type, text);
    let target = body;
    for (const name of column.path.slice(0, -1)) {
      const inner = target[name];
      target = typeof inner === 'object' && inner !== null ? inner as Record<string, unknown> : (target[name] = {}) as Record<string, unknown>;
    }
    target[column.path[column.path.length - 1]] = value;
  }
  return body;
}

export class UnknownColumnError extends Error {}

/** The CSV columns of an export: the selected (or all readable) properties, complex ones as their members. */
export function exportHeaders(type: EdmEntityType, select: readonly string[] | undefined): string[] {
  const chosen = select === undefined ? type.properties.filter((p) => !p.hidden && !p.collection)
    : select.map((name) => {
      const p = findProperty(type, name);
      if (!p || p.hidden) throw new UnknownColumnError(`$select names '${name}', no property of ${type.name}`);
      return p;
    });
  const headers: string[] = [];
  const walk = (p: EdmProperty, prefix: string): void => {
    if (p.collection) return;
    if (p.type.kind === 'complex') for (const m of p.type.type.properties) walk(m, `${prefix}${p.name}/`);
    else headers.push(prefix + p.name);
  };
  for (const p of chosen) walk(p, '');
  return headers;
}

/** The property path of each export header (`BusinessAddress/City` → `['BusinessAddress', 'City']`), split once per export. */
export function headerPaths(headers: readonly string[]): string[][] {
  return headers.map((header) => header.split('/'));
}

/** An entity from a JSON answer → its CSV cells in header order (null and absent: empty). */
export function entityCells(paths: readonly (readonly string[])[], entity: Readonly<Record<string, unknown>>): string[] {
  return paths.map((path) => {
    let value: unknown = entity;
    for (const name of path) value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined;
    if (value === null || value === undefined) return '';
    return typeof value === 'object' ? JSON.stringify(value) : String(value);
  });
}
