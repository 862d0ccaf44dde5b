/**
 * The lookup of an entity's canonical key (and the alternate key's stored values) by an alternate key:
 *   Tags(Name='VIP') → SELECT "s0"."Id" AS "key", "s0"."Name" FROM "Tags" AS "s0" WHERE lower("s0"."Name") = lower(?) LIMIT 2
 * String parts compare lower-cased (the unique index is on the same expression); rows the caller may
 * not see are not found.
 */
import { matchesIgnoringCase } from '../edm/alternate-keys';
import type { EdmEntitySet, PrimitiveTypeName } from '../edm/model';
import { propertyColumn, tableOf } from '../edm/storage';
import type { AlternateKeyValue } from '../plan/alternate-key-match';
import { visibleRows, type SqlTarget } from './compile-expression';
import { id, join, sql, type Fragment } from './fragment';

const ALIAS = 's0';

export function compileAlternateKeyLookup(target: SqlTarget, set: EdmEntitySet, values: readonly AlternateKeyValue[]): Fragment {
  const { dialect } = target;
  const keys = set.entityType.key;
  const conditions = values.map(({ part, value }) => {
    const column = id(`${ALIAS}.${propertyColumn(part.property)}`);
    const type: PrimitiveTypeName | 'enum' = part.property.type.kind === 'primitive' ? part.property.type.name : 'enum';
    const bound = dialect.bind(value, type);
    return matchesIgnoringCase(part) ? sql`lower(${column}) = lower(${bound})` : sql`${column} = ${bound}`;
  });
  const visible = visibleRows(target, tableOf(set), ALIAS);
  const where = join(visible ? [...conditions, visible] : conditions, ' AND ');
  // two rows would mean the key is not unique (a model declaring one without its index): refused, not guessed
  // each part under its property's name (its column may be named otherwise: src/edm/storage.ts)
  const parts = values.map(({ part }) => sql`${id(`${ALIAS}.${propertyColumn(part.property)}`)} AS ${id(part.property.name)}`);
  // a single key as "key"; a composite key's parts under their own names (keys.ts keyOfRow)
  const key = keys.length === 1 ? sql`${id(`${ALIAS}.${keys[0]}`)} AS ${id('key')}` : join(keys.map((k) => id(`${ALIAS}.${k}`)), ', ');
  return sql`SELECT ${key}, ${join(parts, ', ')} FROM ${id(tableOf(set))} AS ${id(ALIAS)} WHERE ${where} LIMIT 2`;
}
