/**
 * How custom fields are stored: a custom field's column is `cf_<Name>` (the storage mapping's
 * `entityTypes.<Type>.columns`, src/edm/storage-mapping.ts), never its bare name, so a later release
 * that declares a property of the same name gets a column of its own. A declared (built-in) property's
 * column may not start with the prefix; the model refuses one that does (`checkDeclaredColumns`).
 * Custom tables (`ct_<Set>`) follow the same rule for their fields; their system columns (Id,
 * Created, …) are named as their properties.
 */
import { createHash } from 'node:crypto';

export const CUSTOM_COLUMN_PREFIX = 'cf_';
const MAX_IDENTIFIER = 63;

/** The column of the custom field `name`: `cf_<name>`, within PostgreSQL's identifier length (a long name keeps its beginning and a digest of the whole). */
export function customColumnName(name: string): string {
  const full = `${CUSTOM_COLUMN_PREFIX}${name}`;
  if (full.length <= MAX_IDENTIFIER) return full;
  const digest = createHash('sha256').update(name).digest('hex').slice(0, 10);
  return `${full.slice(0, MAX_IDENTIFIER - digest.length - 1)}_${digest}`;
}

export function hasCustomPrefix(column: string): boolean {
  return column.toLowerCase().startsWith(CUSTOM_COLUMN_PREFIX);
}

type Json = Record<string, unknown>;

/**
 * Throws naming the first declared property of the built-in model whose column (its mapped column,
 * else its name, complex members flattened under it) would start with the custom prefix.
 */
export function checkDeclaredColumns(csdl: Readonly<Json>, storage: Readonly<Json>): void {
  const container = String(csdl.$EntityContainer ?? '');
  const namespace = container.slice(0, container.lastIndexOf('.'));
  const schema = csdl[namespace] as Json | undefined;
  if (!schema) return;
  const mapped = (storage.entityTypes ?? {}) as Record<string, { columns?: Record<string, unknown> } | undefined>;
  for (const [typeName, element] of Object.entries(schema)) {
    if (!element || typeof element !== 'object' || (element as Json).$Kind !== 'EntityType') continue;
    const columns = mapped[`${namespace}.${typeName}`]?.columns ?? {};
    for (const [name, member] of Object.entries(element as Json)) {
      if (name.startsWith('$') || name.startsWith('@') || (member as Json).$Kind === 'NavigationProperty') continue;
      const column = typeof columns[name] === 'string' ? columns[name] as string : name;
      if (hasCustomPrefix(column)) {
        throw new Error(`${namespace}.${typeName}/${name}: a declared property's column may not start with '${CUSTOM_COLUMN_PREFIX}' (${column}); that prefix is kept for custom fields' columns`);
      }
    }
  }
}
