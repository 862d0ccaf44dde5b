/**
 * The OnDelete rules of a delete (issue 8; issue 14 item 4): which rows forbid it. Referrers the caller
 * may not see are counted, never named, so a refused delete does not reveal them.
 */
import { targetEntitySet } from '../edm/lookup';
import { alternateKeysOf } from '../edm/alternate-keys';
import type { EdmEntitySet, EdmNavigation, EdmProperty } from '../edm/model';
import { propertyColumn, tableOf } from '../edm/storage';
import type { ErrorDetail } from '../errors/odata-error';
import { compileKeysWhere, compileReferrerCounts, type RowKeyBinding } from '../sql/compile-write';
import type { KeyValue } from './entity-reference';
import { keyLabel, keyText } from '../plan/keys';
import { keyBinding, loadRow, referenceBinding, selectedKey } from './entity-store';
import type { StoredValue } from './json-values';
import type { WriteSession } from './session';


/** Entity sets whose rows point at `set` through a single-valued navigation with a foreign key. */
function referrersOf(s: WriteSession, set: EdmEntitySet): { set: EdmEntitySet; navigation: EdmNavigation; columns: readonly string[] }[] {
  const out: { set: EdmEntitySet; navigation: EdmNavigation; columns: readonly string[] }[] = [];
  for (const other of s.model.entitySets.values()) {
    for (const nav of other.entityType.navigations) {
      if (nav.collection || !nav.foreignKeys || targetEntitySet(s.model, other, nav) !== set) continue;
      out.push({ set: other, navigation: nav, columns: nav.foreignKeys });
    }
  }
  return out;
}

const SHOWN_REFERRERS = 5;

/**
 * The rows of `referrer` that refer to `keys` and forbid the delete: up to SHOWN_REFERRERS named (only
 * rows the caller may see) and a count of those the caller may not see, which are never named.
 */
async function blockingReferrers(s: WriteSession, referrer: EdmEntitySet, column: RowKeyBinding, keys: readonly KeyValue[], seen: Set<string>): Promise<{ named: string[]; more: boolean; hidden: number }> {
  const table = tableOf(referrer);
  const restricted = s.ex.access.has(table);
  const rows = await s.read(compileKeysWhere(s.ex.dialect, table, keyBinding(referrer), column, keys, SHOWN_REFERRERS + 1, restricted ? s.ex : undefined));
  const shown = rows.map((r) => selectedKey(referrer, r)).filter((k) => !seen.has(`${referrer.name}/${keyText(k)}`));
  const named: string[] = [];
  for (const k of shown.slice(0, SHOWN_REFERRERS)) named.push(`${referrer.name}(${await readableKey(s, referrer, k)})`);
  let hidden = 0;
  if (restricted) {
    const [counts] = await s.read(compileReferrerCounts(s.ex.dialect, table, column, keys, s.ex));
    hidden = Number(counts.total) - Number(counts.visible);
  }
  return { named, more: shown.length > SHOWN_REFERRERS, hidden };
}

/**
 * How a message names a row: by its type's first alternate key when it has one
 * (`FieldDefinitions(EntityType='Contact',Name='Hobby')` says more than a GUID), else by its key.
 */
async function readableKey(s: WriteSession, set: EdmEntitySet, key: KeyValue): Promise<string> {
  const [alternate] = alternateKeysOf(set.entityType);
  const row = alternate && await loadRow(s, set, key, false);
  if (!alternate || !row) return keyLabel(set.entityType, key);
  return alternate.parts.map((part) => `${part.alias}=${literalOf(part.property, row.values.get(propertyColumn(part.property)) ?? null)}`).join(',');
}

function literalOf(property: EdmProperty, value: StoredValue): string {
  if (value === null) return 'null';
  if (property.type.kind === 'enum') return `'${property.type.type.memberByValue.get(Number(value)) ?? String(value)}'`;
  if (property.type.kind === 'primitive' && property.type.name === 'Edm.String') return `'${String(value).replace(/'/g, "''")}'`;
  return String(value);
}

function referrersMessage(referrer: EdmEntitySet, found: { named: string[]; more: boolean; hidden: number }): string {
  const parts = [...found.named];
  if (found.more) parts.push('more');
  if (found.hidden > 0) parts.push(`${found.hidden} ${referrer.name} record${found.hidden === 1 ? '' : 's'} you cannot see`);
  return parts.length <= 1 ? parts.join('') : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
}

/**
 * Refuses a delete that OnDelete `None` forbids, following `Cascade` to the rows that would go too;
 * `SetNull` and link rows are left to the database's foreign-key actions. `deleting` names the rows at
 * this level; below the first, rows of a table the caller sees only in part are not named.
 */
async function restrictionsOf(s: WriteSession, set: EdmEntitySet, keys: readonly KeyValue[], deleting: string, seen: Set<string>, out: ErrorDetail[]): Promise<void> {
  for (const referrer of referrersOf(s, set)) {
    const action = referrer.navigation.onDelete ?? 'None';
    if (action === 'SetNull' || action === 'SetDefault') continue;
    const column = referenceBinding(set, referrer.columns);
    if (action === 'None') {
      const blocking = await blockingReferrers(s, referrer.set, column, keys, seen);
      if (blocking.named.length === 0 && blocking.hidden === 0) continue;
      out.push({ code: 'REFERENCED', target: referrer.set.name, message: `${referrersMessage(referrer.set, blocking)} refer to ${deleting} through ${referrer.navigation.name}` });
      continue;
    }
    const rows = await s.read(compileKeysWhere(s.ex.dialect, tableOf(referrer.set), keyBinding(referrer.set), column, keys));
    const found = rows.map((r) => selectedKey(referrer.set, r)).filter((k) => !seen.has(`${referrer.set.name}/${keyText(k)}`));
    if (found.length === 0) continue;
    for (const k of found) seen.add(`${referrer.set.name}/${keyText(k)}`);
    const cascaded = s.ex.access.has(tableOf(referrer.set)) ? `${referrer.set.name} records deleted with it` : `${referrer.set.name}(${found.map((k) => keyLabel(referrer.set.entityType, k)).join(', ')})`;
    await restrictionsOf(s, referrer.set, found, cascaded, seen, out);
  }
}

/** Why deleting `key` of `set` is refused (empty when it may go). */
export async function deleteRestrictions(s: WriteSession, set: EdmEntitySet, key: KeyValue): Promise<ErrorDetail[]> {
  const problems: ErrorDetail[] = [];
  await restrictionsOf(s, set, [key], `${set.name}(${keyLabel(set.entityType, key)})`, new Set([`${set.name}/${keyText(key)}`]), problems);
  return problems;
}
