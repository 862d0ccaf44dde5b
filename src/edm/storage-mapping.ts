/**
 * The storage mapping: what the model says about storage that `$metadata` does not show. It sits
 * beside the CSDL file (`crm.csdl.json` → `crm.storage.json`) and travels with the model
 * (`EdmModel.storageMapping`, part of its version). Without an entry the conventions of
 * src/edm/storage.ts hold (table = set name, column = property path).
 *
 * ```json
 * { "entitySets":  { "<Set>":  { "table": "…", "indexes": [["ColumnA", "ColumnB"], …] } },
 *   "entityTypes": { "<Ns.Type>": { "derived": [ <DerivedValueRule>, … ], "columns": { "<Property>": "<column>" } } },
 *   "linkTables":  { "<TypeA>_<TypeB>": { "table": "…" } } }
 * ```
 * (`linkTables`: the table of a many-to-many pair whose conventional name, the two type names in
 * alphabetical order, is not the table's; custom tables use it: src/edm/custom-tables.ts.)
 * (`columns`: the column of a primitive or collection property when it is not the property's name;
 * every custom field has one, `cf_<Name>`, so no later built-in property's column can take its name:
 * src/edm/custom-columns.ts. A declared property's column may not start with that prefix.)
 */
import { existsSync, readFileSync } from 'node:fs';
import type { DerivedValueRule } from './model';

type Json = Record<string, unknown>;

export interface SetMapping {
  readonly table?: string;
  readonly indexes: readonly (readonly string[])[];
}

export interface StorageMapping {
  readonly sets: ReadonlyMap<string, SetMapping>;
  readonly derived: ReadonlyMap<string, readonly DerivedValueRule[]>;
  /** conventional link table name → the table that holds the pair */
  readonly linkTables: ReadonlyMap<string, string>;
  /** qualified entity type name → property name → its column (when it is not the property's name) */
  readonly columns: ReadonlyMap<string, ReadonlyMap<string, string>>;
}

const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** The mapping file beside a CSDL file (`X.csdl.json` → `X.storage.json`); `{}` when there is none. */
export function readStorageMappingFor(csdlFile: string): Json {
  const file = csdlFile.replace(/\.csdl\.json$/, '') + '.storage.json';
  return file !== csdlFile && existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) as Json : {};
}

/** Reads and checks a mapping document; throws naming the first entry that is not understood. */
export function parseStorageMapping(raw: Readonly<Json>): StorageMapping {
  const sets = new Map<string, SetMapping>();
  for (const [name, value] of Object.entries(objectAt(raw, 'entitySets'))) {
    const entry = value as Json;
    const table = entry.table;
    if (table !== undefined && (typeof table !== 'string' || !TABLE_NAME.test(table))) throw new Error(`storage mapping: entitySets.${name}.table is not a table name`);
    const indexes = (entry.indexes ?? []) as unknown;
    if (!Array.isArray(indexes) || !indexes.every((ix) => Array.isArray(ix) && ix.length > 0 && ix.every((c) => typeof c === 'string'))) {
      throw new Error(`storage mapping: entitySets.${name}.indexes must be lists of column names`);
    }
    sets.set(name, { ...(typeof table === 'string' ? { table } : {}), indexes: indexes as string[][] });
  }
  const derived = new Map<string, DerivedValueRule[]>();
  const columns = new Map<string, Map<string, string>>();
  for (const [typeName, value] of Object.entries(objectAt(raw, 'entityTypes'))) {
    const rules = ((value as Json).derived ?? []) as unknown;
    if (!Array.isArray(rules)) throw new Error(`storage mapping: entityTypes.${typeName}.derived must be a list`);
    if (rules.length > 0) derived.set(typeName, rules.map((r, i) => derivedRule(r as Json, `entityTypes.${typeName}.derived[${i}]`)));
    const byProperty = new Map<string, string>();
    for (const [property, column] of Object.entries(objectAt(value as Json, 'columns'))) {
      if (typeof column !== 'string' || !TABLE_NAME.test(column)) throw new Error(`storage mapping: entityTypes.${typeName}.columns.${property} is not a column name`);
      byProperty.set(property, column);
    }
    if (byProperty.size > 0) columns.set(typeName, byProperty);
  }
  const linkTables = new Map<string, string>();
  for (const [name, value] of Object.entries(objectAt(raw, 'linkTables'))) {
    const table = (value as Json).table;
    if (typeof table !== 'string' || !TABLE_NAME.test(table)) throw new Error(`storage mapping: linkTables.${name}.table is not a table name`);
    linkTables.set(name, table);
  }
  return { sets, derived, linkTables, columns };
}

function objectAt(raw: Readonly<Json>, key: string): Json {
  const value = raw[key] ?? {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`storage mapping: ${key} must be an object`);
  return value as Json;
}

function derivedRule(r: Json, where: string): DerivedValueRule {
  const str = (k: string): string => {
    if (typeof r[k] !== 'string') throw new Error(`storage mapping: ${where}.${k} must be a string`);
    return r[k] as string;
  };
  switch (r.kind) {
    case 'join-text': {
      const inputs = r.inputs;
      if (!Array.isArray(inputs) || !inputs.every((x) => typeof x === 'string')) throw new Error(`storage mapping: ${where}.inputs must be property names`);
      return { kind: 'join-text', property: str('property'), inputs: inputs as string[], separator: typeof r.separator === 'string' ? r.separator : ' ' };
    }
    case 'line-total': {
      if (!Number.isInteger(r.scale)) throw new Error(`storage mapping: ${where}.scale must be an integer`);
      return { kind: 'line-total', property: str('property'), quantity: str('quantity'), price: str('price'), discountPercent: str('discountPercent'), scale: r.scale as number };
    }
    case 'sum-of-children':
      return { kind: 'sum-of-children', property: str('property'), childType: str('childType'), foreignKey: str('foreignKey'), childProperty: str('childProperty') };
    default: throw new Error(`storage mapping: ${where}.kind ${String(r.kind)} is not join-text, line-total or sum-of-children`);
  }
}

/** The properties a rule reads on its own type (checked against the model when it loads). */
export function ruleInputs(rule: DerivedValueRule): readonly string[] {
  switch (rule.kind) {
    case 'join-text': return rule.inputs;
    case 'line-total': return [rule.quantity, rule.price, rule.discountPercent];
    case 'sum-of-children': return [];
  }
}
