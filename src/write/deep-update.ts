/**
 * Deep update (OData 4.01 Protocol §11.4.3.1): a PATCH or PUT whose body holds a collection navigation
 * makes the relation exactly the entities given. A nested entity with its key is updated (and related
 * when it was not), one without a key is created and related, and a related entity left out is deleted
 * when it cannot exist alone (its foreign key to the parent is required) or else unlinked. `Nav@delta`
 * (JSON Format §15) applies only what it lists: added or changed entities as above, `@removed` entries
 * unlinked, or deleted when their reason is "deleted" or they cannot exist alone. It all runs in the
 * write's one transaction; a nested problem is a 400 naming its path (e.g. `Products/1/Quantity`).
 */
import { targetEntitySet } from '../edm/lookup';
import type { EdmEntitySet } from '../edm/model';
import { navigationStorage, tableOf, type NavigationStorage } from '../edm/storage';
import { ODataError } from '../errors/odata-error';
import { compileKeysWhere } from '../sql/compile-write';
import type { KeyValue } from './entity-reference';
import type { NestedInput } from './entity-input';
import { addLink, deleteEntity, insertEntity, keyBinding, keyColumnValues, loadRow, referenceBinding, removeLink, selectedKey, updateEntity, type CurrentRow } from './entity-store';
import { keyLabel, keyText, type KeyScalar } from '../plan/keys';
import type { WriteSession } from './session';

export async function applyDeepUpdate(s: WriteSession, parent: CurrentRow, nested: NestedInput): Promise<void> {
  const update = nested.update;
  if (update === undefined) throw new Error('applyDeepUpdate needs a nested update');
  const nav = nested.navigation;
  const storage = navigationStorage(s.model, parent.set.entityType, nav);
  const childSet = targetEntitySet(s.model, parent.set, nav);
  const related = await relatedKeys(s, parent, storage, childSet);
  const kept = new Set<string>();
  for (const [i, child] of nested.entities.entries()) {
    const at = `${nav.name}${update.kind === 'delta' ? '@delta' : ''}/${update.positions[i]}`;
    if (child.key === undefined) {
      const key = storage.kind === 'reverse-foreign-key'
        ? await insertEntity(s, child, keyColumnValues(parent.set, storage.targetColumns, parent.key))
        : await insertEntity(s, child);
      if (storage.kind === 'link-table') await addLink(s, parent, nav, key);
      kept.add(normal(key));
      continue;
    }
    const row = await loadRow(s, childSet, child.key);
    if (!row) throw nestedError('BIND_NOT_FOUND', at, `${childSet.name}(${keyLabel(childSet.entityType, child.key)}) does not exist`);
    const updated = child.values.size > 0 ? await updateEntity(s, row, child.values) : row;
    if (!related.has(normal(child.key))) await addLink(s, parent, nav, row.key);
    for (const deeper of child.nested) await applyDeepUpdate(s, updated, deeper);
    kept.add(normal(child.key));
  }
  const removals = update.kind === 'set'
    ? [...related.values()].filter((key) => !kept.has(normal(key))).map((key) => ({ key, deleted: false, target: nav.name }))
    : update.removed;
  const dependent = storage.kind === 'reverse-foreign-key' && storage.targetColumns.some((c) => !childSet.entityType.properties.find((p) => p.name === c)?.nullable);
  for (const removal of removals) {
    if (!related.has(normal(removal.key))) throw nestedError('NOT_FOUND', removal.target, `${childSet.name}(${keyLabel(childSet.entityType, removal.key)}) is not related to ${parent.set.name}(${keyLabel(parent.set.entityType, parent.key)})`);
    if (removal.deleted || dependent) {
      const row = await loadRow(s, childSet, removal.key);
      if (row) await deleteEntity(s, row);
    } else {
      await removeLink(s, parent, nav, removal.key);
    }
  }
}

/** The keys of the entities related to `parent` through the navigation now, normalised → as stored. */
async function relatedKeys(s: WriteSession, parent: CurrentRow, storage: NavigationStorage, childSet: EdmEntitySet): Promise<Map<string, KeyValue>> {
  let keys: KeyValue[];
  switch (storage.kind) {
    case 'reverse-foreign-key': {
      const rows = await s.read(compileKeysWhere(s.ex.dialect, tableOf(childSet), keyBinding(childSet), referenceBinding(parent.set, storage.targetColumns), [parent.key]));
      keys = rows.map((r) => selectedKey(childSet, r));
      break;
    }
    case 'link-table': {
      const target = referenceBinding(childSet, storage.targetColumns);
      const rows = await s.read(compileKeysWhere(s.ex.dialect, storage.table, target, referenceBinding(parent.set, storage.sourceColumns), [parent.key]));
      // a one-column side comes back as "key", a composite one under the link table's column names
      keys = rows.map((r) => (storage.targetColumns.length === 1 ? r.key as KeyValue : storage.targetColumns.map((c) => r[c] as KeyScalar)));
      break;
    }
    case 'foreign-key':
      throw new Error('deep update of a single-valued navigation is refused when the body is read');
  }
  return new Map(keys.map((k) => [normal(k), k]));
}

/** GUIDs compare ignoring case (PostgreSQL answers lower case, a client may send upper case). */
function normal(key: KeyValue): string {
  return keyText(key).toLowerCase();
}

function nestedError(code: string, target: string, message: string): ODataError {
  return new ODataError(code === 'NOT_FOUND' ? 'VALIDATION_FAILED' : 'VALIDATION_FAILED', `${target}: ${message}`, { target, details: [{ code, target, message: `${target}: ${message}` }] });
}
