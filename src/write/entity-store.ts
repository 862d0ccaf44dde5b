/**
 * Entity-level writes inside a WriteSession: load (and lock) a row, insert with deep inserts and
 * binds, update with derived values and a new ETag, delete under the model's OnDelete rules, and add
 * or remove links. Every statement goes through the session, so hooks see each one.
 */
import { randomUUID } from 'node:crypto';
import { propertyOf, targetEntitySet } from '../edm/lookup';
import type { EdmEntitySet, EdmModel, EdmNavigation, PrimitiveTypeName } from '../edm/model';
import { columnsOf, navigationStorage, tableOf } from '../edm/storage';
import { ODataError, type ErrorDetail } from '../errors/odata-error';
import { keyTypeOf } from '../plan/resolve-path';
import { etagOf } from '../serialize/etag';
import {
  compileDelete, compileInsert, compileKeysWhere, compileLinkDelete, compileLinkInsert, compileSelectRows, compileUpdate, type RowKeyBinding,
} from '../sql/compile-write';
import { keyLabel, keyOfRow, keyPartsOf, keyScalars, keyText, sameKey, type KeyScalar } from '../plan/keys';
import { formatUtc } from '../uri/temporal';
import { completeComplexValues } from './complex-values';
import { deleteRestrictions } from './delete-restrictions';
import { CREATED, CREATED_BY, deriveRow, EDITED, EDITED_BY, sumRulesOverChildren } from './derived-values';
import type { KeyValue } from './entity-reference';
import { storedType, type ColumnValue, type EntityInput, type EntityRefInput } from './entity-input';
import type { StoredValue } from './json-values';
import type { WriteSession } from './session';
import { checkRowWrite, forbidden, hasSecrets, ownerPropertyOf, protectSecrets, type OwnUserGrant } from '../auth/write-rules';
import { checkSetRestrictions } from './set-restrictions';
import { checkPicklistValues, hasPicklists } from './picklist-values';
import { memoizedByObject } from '../memo';
import { isPersonalTokenSet, issuePersonalToken } from '../auth/personal-tokens';

export interface CurrentRow {
  readonly set: EdmEntitySet;
  readonly key: KeyValue;
  /** column → value, normalised the way request bodies are (enums as integers, date-times as UTC text) */
  readonly values: ReadonlyMap<string, StoredValue>;
  readonly etag: string | undefined;
}

export interface EntityAddress {
  readonly set: EdmEntitySet;
  readonly key: KeyValue;
}

/** A row as a plain object (what ETags and serialisers read); a loop, Object.fromEntries is 5x slower here. */
export function rowObject(row: ReadonlyMap<string, StoredValue>): Record<string, StoredValue> {
  const out: Record<string, StoredValue> = {};
  row.forEach((value, column) => {
    out[column] = value;
  });
  return out;
}

/** How a session names an entity it wrote. */
export function rowKey(set: EdmEntitySet, key: KeyValue): string {
  return `${set.name}(${keyText(key)})`;
}

/** The key columns of a set's table (a list for a composite key). */
export function keyBinding(set: EdmEntitySet): RowKeyBinding {
  const parts = keyPartsOf(set.entityType);
  return parts.length === 1 ? { column: parts[0].column, type: parts[0].type } : parts.map((p) => ({ column: p.column, type: p.type }));
}

const INTEGER_PARTS: ReadonlySet<string> = new Set(['Edm.Byte', 'Edm.SByte', 'Edm.Int16', 'Edm.Int32', 'Edm.Int64']);

/** Columns that refer to rows of `set` by key (a foreign key, a link-table side), as a key binding: one per key part. */
export function referenceBinding(set: EdmEntitySet, columns: readonly string[]): RowKeyBinding {
  const parts = keyPartsOf(set.entityType);
  return columns.length === 1 ? { column: columns[0], type: parts[0].type } : columns.map((column, i) => ({ column, type: parts[i].type }));
}

/**
 * The columns that refer to a row of `set` by its key: a foreign key or a link-table side, one column
 * per key part (`columns` in the key's order), each holding that part's value.
 */
export function keyColumnValues(set: EdmEntitySet, columns: readonly string[], key: KeyValue): ColumnValue[] {
  const values = keyScalars(key);
  const parts = keyPartsOf(set.entityType);
  if (columns.length !== parts.length) throw new Error(`${set.name}: ${columns.length} columns refer to a key of ${parts.length} parts`);
  // an integer part from a URL keeps its text (keys.ts); stored and answered as the number it is
  return columns.map((column, i) => ({ column, value: INTEGER_PARTS.has(parts[i].type) && typeof values[i] === 'string' && Number.isSafeInteger(Number(values[i])) ? Number(values[i]) : values[i], type: parts[i].type }));
}

/** The key a row's referring columns hold (undefined when any is null). */
export function keyInColumns(values: ReadonlyMap<string, StoredValue>, columns: readonly string[]): KeyValue | undefined {
  const parts = columns.map((c) => values.get(c));
  if (parts.some((v) => v === null || v === undefined)) return undefined;
  return columns.length === 1 ? parts[0] as KeyScalar : parts as KeyScalar[];
}

/** Which rows a lookup finds: those the caller may see (the default), or every row (existence checks). */
export type RowVisibility = 'caller' | 'any';

export async function loadRow(s: WriteSession, set: EdmEntitySet, key: KeyValue, lock = true, visibility: RowVisibility = 'caller'): Promise<CurrentRow | undefined> {
  const [raw] = await s.read(compileSelectRows(s.ex.dialect, tableOf(set), keyBinding(set), [key], lock, visibility === 'caller' ? s.ex : undefined));
  if (!raw) return undefined;
  const values = new Map<string, StoredValue>();
  for (const { column, property } of columnsOf(set.entityType)) {
    const v = raw[column];
    if (v === null || v === undefined) values.set(column, null);
    else if (property.collection) values.set(column, String(v));
    else if (property.type.kind === 'enum') values.set(column, Number(v));
    else if (property.type.kind === 'primitive') values.set(column, s.ex.dialect.read(v, property.type.name) as StoredValue);
  }
  return { set, key, values, etag: etagOf(set, rowObject(values), s.ex.dialect) };
}

export async function requireRow(s: WriteSession, set: EdmEntitySet, key: KeyValue, lock = true): Promise<CurrentRow> {
  const row = await loadRow(s, set, key, lock);
  if (!row) throw new ODataError('NOT_FOUND', `${set.name} has no entity with key ${String(key)}`);
  return row;
}

/** The next `Edited`: now, or one millisecond after the previous value, so the ETag always changes. */
function nextEdited(previous: StoredValue | undefined, now: string): string {
  if (typeof previous !== 'string' || previous < now) return now;
  return formatUtc(new Date(Date.parse(previous) + 1));
}

function generateKey(set: EdmEntitySet): KeyValue {
  const names = set.entityType.key;
  if (names.length === 1 && keyTypeOf(set) === 'Edm.Guid') return randomUUID();
  throw new ODataError('VALIDATION_FAILED', `${names.join(', ')} ${names.length === 1 ? 'is' : 'are'} required`, {
    details: names.map((name) => ({ code: 'NULL_NOT_ALLOWED', target: name, message: `${name} is required` })),
  });
}

/** What every insert into a set needs to know of it, worked out once per set (per model version). */
interface InsertShape {
  readonly table: string;
  readonly keyColumns: readonly string[];
  /** the server-stamped columns the type has */
  readonly created: boolean;
  readonly edited: boolean;
  readonly authorColumns: readonly string[];
  readonly owner: string | undefined;
  readonly secrets: boolean;
}

const insertShapeOf = memoizedByObject((set: EdmEntitySet): InsertShape => ({
  table: tableOf(set),
  keyColumns: keyPartsOf(set.entityType).map((p) => p.column),
  created: hasProperty(set, CREATED),
  edited: hasProperty(set, EDITED),
  authorColumns: [CREATED_BY, EDITED_BY].filter((column) => hasProperty(set, column)),
  owner: ownerPropertyOf(set),
  secrets: hasSecrets(set),
}));

const hasProperty = (set: EdmEntitySet, name: string) => set.entityType.properties.some((p) => p.name === name);

function timestamp(column: string, value: string): ColumnValue {
  return { column, value, type: 'Edm.DateTimeOffset' };
}

function userReference(column: string, userId: string): ColumnValue {
  return { column, value: userId, type: 'Edm.Guid' };
}

/**
 * The `@odata.bind`s of an input, split by where they are stored: the foreign keys on the row
 * itself (single-valued navigations) and the links to add once the row exists (everything else).
 */
export function splitBinds(s: WriteSession, input: EntityInput): { foreignKeys: ReadonlyMap<string, ColumnValue>; links: readonly { navigation: EdmNavigation; key: KeyValue }[] } {
  if (input.binds.length === 0) return NO_BINDS;
  const foreignKeys = new Map<string, ColumnValue>();
  const links: { navigation: EdmNavigation; key: KeyValue }[] = [];
  for (const bind of input.binds) {
    const storage = navigationStorage(s.model, input.set.entityType, bind.navigation);
    if (storage.kind === 'foreign-key') {
      const ref = bind.refs[0];
      if (ref) for (const c of keyColumnValues(ref.set, storage.columns, ref.key)) foreignKeys.set(c.column, c);
    } else {
      for (const ref of bind.refs) links.push({ navigation: bind.navigation, key: ref.key });
    }
  }
  return { foreignKeys, links };
}

const NO_BINDS = { foreignKeys: new Map<string, ColumnValue>() as ReadonlyMap<string, ColumnValue>, links: [] as const };

/**
 * A key the client chooses for a new row. Whether it is taken (409) would tell a caller who sees only
 * part of the set that a hidden record exists, so such a caller may not choose keys there at all (403,
 * whatever exists; the service assigns one). Upserts are refused to them before this (404).
 */
async function checkClientKey(s: WriteSession, set: EdmEntitySet, key: KeyValue): Promise<void> {
  const keyName = set.entityType.key.join(',');
  if (s.ex.access.has(tableOf(set))) {
    throw forbidden(`${set.name}: your role sees only some ${set.name}, so it cannot choose the key of a new one; leave ${keyName} out and the service assigns it`, keyName);
  }
  if (await loadRow(s, set, key, false, 'any')) throw new ODataError('ALREADY_EXISTS', `${set.name}(${keyLabel(set.entityType, key)}) already exists`, { target: keyName });
}

/** Inserts an entity with its nested entities and links; returns its key. `supplied` are columns a parent fills in. */
export async function insertEntity(s: WriteSession, input: EntityInput, supplied: readonly ColumnValue[] = []): Promise<KeyValue> {
  const { set } = input;
  const type = set.entityType;
  // copied with forEach: `new Map(map)` and `for…of` over a Map allocate an iterator result per entry
  const values = new Map<string, ColumnValue>();
  input.values.forEach((v, column) => values.set(column, v));
  for (const c of supplied) values.set(c.column, c);
  // Single-valued navigations held by this row's own foreign key: the related row must exist first.
  for (const nested of input.nested) {
    const storage = navigationStorage(s.model, type, nested.navigation);
    if (storage.kind !== 'foreign-key') continue;
    const childKey = await insertEntity(s, nested.entities[0]);
    for (const c of keyColumnValues(targetEntitySet(s.model, set, nested.navigation), storage.columns, childKey)) values.set(c.column, c);
  }
  const binds = splitBinds(s, input);
  binds.foreignKeys.forEach((value, column) => values.set(column, value));
  const shape = insertShapeOf(set);
  const key = input.key ?? generateKey(set);
  // A generated GUID cannot collide (nor a composite key with a generated GUID part); a key from the client can.
  if (input.key !== undefined && input.keyGenerated !== true) await checkClientKey(s, set, key);
  for (const c of keyColumnValues(set, shape.keyColumns, key)) values.set(c.column, c);
  if (shape.created) values.set(CREATED, timestamp(CREATED, s.now));
  if (shape.edited) values.set(EDITED, timestamp(EDITED, s.now));
  const author = s.actor.user.id;
  if (author !== null) {
    for (const column of shape.authorColumns) values.set(column, userReference(column, author));
    // an owner the body leaves out defaults to the creator (an explicit null keeps the record unowned)
    const owner = shape.owner;
    if (owner !== undefined && input.given?.has(owner) !== true && (values.get(owner)?.value ?? null) === null) values.set(owner, userReference(owner, author));
  }
  if (isPersonalTokenSet(set)) s.issuedTokens.set(rowKey(set, key), issuePersonalToken(values, s.actor.user));
  const row = new Map<string, StoredValue>();
  values.forEach((v, column) => row.set(column, v.value));
  deriveRow(type, row).forEach((value, column) => {
    values.set(column, { column, value, type: storedTypeOf(set, column) });
    row.set(column, value);
  });
  checkSetRestrictions(s.model, set, 'insert', undefined, row);
  checkRowWrite(s.actor.user, set, 'insert', undefined, row);
  if (hasPicklists(s.model, type)) await checkPicklistValues(s, set, undefined, row, values, input.given);
  if (shape.secrets) await protectSecrets(set, values, s.actor.minPasswordLength, row);
  const columns: ColumnValue[] = [];
  values.forEach((v) => columns.push(v));
  await s.write(compileInsert(s.ex.dialect, shape.table, columns), { table: shape.table, statement: 'insert' });
  s.rows.set(rowKey(set, key), row);
  s.noteWritten(set, key, 'inserted');
  for (const rule of sumRulesOverChildren(type)) s.touchSum(rule, values.get(rule.foreignKey)?.value);

  const self: EntityAddress = { set, key };
  for (const link of binds.links) await addLink(s, self, link.navigation, link.key);
  for (const nested of input.nested) {
    const storage = navigationStorage(s.model, type, nested.navigation);
    for (const child of storage.kind === 'foreign-key' ? [] : nested.entities) {
      if (storage.kind === 'reverse-foreign-key') await insertEntity(s, child, keyColumnValues(set, storage.targetColumns, key));
      else await addLink(s, self, nested.navigation, await insertEntity(s, child));
    }
  }
  return key;
}

function storedTypeOf(set: EdmEntitySet, column: string): PrimitiveTypeName | 'enum' {
  const found = columnsOf(set.entityType).find((c) => c.column === column);
  if (!found) throw new Error(`${set.name} has no column ${column}`);
  return storedType(found.property);
}

/** Applies changes to a loaded row, with derived values and a new `Edited`; returns the row as it now is. */
/** `grant`: the caller changes their own user's profile or password (write-rules.ts OwnUserGrant). */
export async function updateEntity(s: WriteSession, current: CurrentRow, changes: ReadonlyMap<string, ColumnValue>, grant?: OwnUserGrant): Promise<CurrentRow> {
  const { set } = current;
  const type = set.entityType;
  const writes = new Map(changes);
  for (const name of type.key) writes.delete(name);
  const merged = new Map(current.values);
  for (const c of writes.values()) merged.set(c.column, c.value);
  completeComplexValues(type, current.values, merged, writes);
  for (const [column, value] of deriveRow(type, merged)) {
    writes.set(column, { column, value, type: storedTypeOf(set, column) });
    merged.set(column, value);
  }
  if (hasProperty(set, EDITED)) {
    const edited = nextEdited(current.values.get(EDITED), s.now);
    writes.set(EDITED, timestamp(EDITED, edited));
    merged.set(EDITED, edited);
  }
  const editor = s.actor.user.id;
  if (editor !== null && hasProperty(set, EDITED_BY)) {
    writes.set(EDITED_BY, userReference(EDITED_BY, editor));
    merged.set(EDITED_BY, editor);
  }
  checkSetRestrictions(s.model, set, 'update', current.values, merged);
  checkRowWrite(s.actor.user, set, 'update', current.values, merged, grant);
  await checkPicklistValues(s, set, current.values, merged, writes);
  await protectSecrets(set, writes, s.actor.minPasswordLength, merged);
  if (writes.size > 0) {
    await s.write(compileUpdate(s.ex.dialect, tableOf(set), keyBinding(set), current.key, [...writes.values()]), { table: tableOf(set), statement: 'update' });
  }
  for (const rule of sumRulesOverChildren(type)) {
    s.touchSum(rule, current.values.get(rule.foreignKey));
    s.touchSum(rule, merged.get(rule.foreignKey));
  }
  s.rows.set(rowKey(set, current.key), merged);
  s.noteWritten(set, current.key, [...writes.keys()]);
  return { set, key: current.key, values: merged, etag: etagOf(set, rowObject(merged), s.ex.dialect) };
}

export async function deleteEntity(s: WriteSession, current: CurrentRow): Promise<void> {
  const { set } = current;
  checkSetRestrictions(s.model, set, 'delete', current.values, undefined);
  checkRowWrite(s.actor.user, set, 'delete', current.values, undefined);
  const problems = await deleteRestrictions(s, set, current.key);
  if (problems.length > 0) {
    throw new ODataError('DELETE_RESTRICTED', `${set.name}(${keyLabel(set.entityType, current.key)}) cannot be deleted: other records refer to it`, { details: problems });
  }
  for (const rule of sumRulesOverChildren(set.entityType)) s.touchSum(rule, current.values.get(rule.foreignKey));
  await s.write(compileDelete(s.ex.dialect, tableOf(set), keyBinding(set), [current.key]), { table: tableOf(set), statement: 'delete' });
  s.rows.delete(rowKey(set, current.key));
}

/** Relates `target` to `parent` through `navigation`: a link row, or the foreign key on whichever side holds it. */
export async function addLink(s: WriteSession, parent: EntityAddress, navigation: EdmNavigation, target: KeyValue): Promise<void> {
  const storage = navigationStorage(s.model, parent.set.entityType, navigation);
  const targetSet = targetEntitySet(s.model, parent.set, navigation);
  switch (storage.kind) {
    case 'link-table':
      await s.write(compileLinkInsert(s.ex.dialect, storage.table, keyColumnValues(parent.set, storage.sourceColumns, parent.key), keyColumnValues(targetSet, storage.targetColumns, target)),
        { table: storage.table, statement: 'insert' });
      return;
    case 'reverse-foreign-key': {
      const row = await requireRow(s, targetSet, target);
      await updateEntity(s, row, new Map(keyColumnValues(parent.set, storage.targetColumns, parent.key).map((c) => [c.column, c])));
      return;
    }
    case 'foreign-key': {
      const row = await requireRow(s, parent.set, parent.key);
      await updateEntity(s, row, new Map(keyColumnValues(targetSet, storage.columns, target).map((c) => [c.column, c])));
      return;
    }
  }
}

/** Removes the relation between `parent` and `target` (the only one, for a single-valued navigation). */
export async function removeLink(s: WriteSession, parent: EntityAddress, navigation: EdmNavigation, target: KeyValue | undefined): Promise<void> {
  const storage = navigationStorage(s.model, parent.set.entityType, navigation);
  const targetSet = targetEntitySet(s.model, parent.set, navigation);
  const missing = () => new ODataError('NOT_FOUND', `${parent.set.name}(${keyLabel(parent.set.entityType, parent.key)})/${navigation.name} has no link to ${targetSet.name}(${target === undefined ? '' : keyLabel(targetSet.entityType, target)})`);
  const clear = async (row: CurrentRow, columns: readonly string[], referred: EdmEntitySet) => {
    const parts = keyPartsOf(referred.entityType);
    for (const column of columns) {
      if (!propertyOf(row.set.entityType, column).nullable) {
        throw new ODataError('VALIDATION_FAILED', `${row.set.name}.${column} is required, so this link cannot be removed; delete or re-link the ${row.set.name} entity instead`, {
          details: [{ code: 'NULL_NOT_ALLOWED', target: column, message: `${column} cannot be null` }],
        });
      }
    }
    await updateEntity(s, row, new Map(columns.map((column, i): [string, ColumnValue] => [column, { column, value: null, type: parts[i].type }])));
  };
  switch (storage.kind) {
    case 'link-table': {
      if (target === undefined) throw new ODataError('INVALID_QUERY_OPTION', 'Name the entity to unlink with $id or a key', { target: '$id' });
      if (!(await loadRow(s, targetSet, target, false))) throw missing();
      const removed = await s.write(
        compileLinkDelete(s.ex.dialect, storage.table, keyColumnValues(parent.set, storage.sourceColumns, parent.key), keyColumnValues(targetSet, storage.targetColumns, target)),
        { table: storage.table, statement: 'delete' });
      if (removed === 0) throw missing();
      return;
    }
    case 'reverse-foreign-key': {
      if (target === undefined) throw new ODataError('INVALID_QUERY_OPTION', 'Name the entity to unlink with $id or a key', { target: '$id' });
      const row = await loadRow(s, targetSet, target);
      const holds = row && keyInColumns(row.values, storage.targetColumns);
      if (!row || holds === undefined || !sameKey(holds, parent.key)) throw missing();
      await clear(row, storage.targetColumns, parent.set);
      return;
    }
    case 'foreign-key': {
      const row = await requireRow(s, parent.set, parent.key);
      const current = keyInColumns(row.values, storage.columns);
      if (current === undefined || (target !== undefined && !sameKey(current, target))) throw missing();
      await clear(row, storage.columns, targetSet);
      return;
    }
  }
}

/** Whether an input tree names other entities (`@odata.bind` or a foreign-key value, here or in nested entities). */
export function hasReferences(model: EdmModel, input: EntityInput): boolean {
  return input.binds.length > 0 || foreignKeyRefs(model, input).length > 0 || input.nested.some((n) => n.entities.some((e) => hasReferences(model, e)));
}

/**
 * Foreign-key values given as plain properties (`"CompanyId": …`): they name an entity as a bind does,
 * so the caller must be able to see it (the database's constraint alone would accept a hidden record).
 */
function foreignKeyRefs(model: EdmModel, input: EntityInput): EntityRefInput[] {
  const refs: EntityRefInput[] = [];
  for (const nav of input.set.entityType.navigations) {
    if (nav.collection) continue;
    const storage = navigationStorage(model, input.set.entityType, nav);
    if (storage.kind !== 'foreign-key') continue;
    const values = storage.columns.map((c) => input.values.get(c)?.value);
    if (values.some((v) => v === null || v === undefined)) continue;
    const key = values.length === 1 ? values[0] as KeyScalar : values as KeyScalar[];
    refs.push({ set: targetEntitySet(model, input.set, nav), key, target: storage.columns.join(',') });
  }
  return refs;
}

/** Every `@odata.bind` (and nested reference) in an input tree must name an existing entity. */
export async function checkReferences(s: WriteSession, inputs: readonly EntityInput[]): Promise<void> {
  const bySet = new Map<EdmEntitySet, EntityRefInput[]>();
  const visit = (input: EntityInput) => {
    const refs = [...input.binds.flatMap((b) => b.refs), ...foreignKeyRefs(s.model, input)];
    for (const r of refs) bySet.set(r.set, [...(bySet.get(r.set) ?? []), r]);
    for (const n of input.nested) n.entities.forEach(visit);
  };
  inputs.forEach(visit);
  const details: ErrorDetail[] = [];
  for (const [set, refs] of bySet) {
    // a record the caller may not see cannot be bound: it reads as not existing
    const found = await existingKeys(s, set, refs.map((r) => r.key));
    for (const r of refs) {
      if (!found.has(keyText(r.key))) details.push({ code: 'BIND_NOT_FOUND', target: r.target, message: `${r.target}: ${set.name}(${keyLabel(set.entityType, r.key)}) does not exist` });
    }
  }
  if (details.length > 0) throw new ODataError('VALIDATION_FAILED', `${details.length} referenced ${details.length === 1 ? 'entity does' : 'entities do'} not exist`, { details });
}

/** Which of `keys` name rows of `set` the caller may see, as keyText. */
async function existingKeys(s: WriteSession, set: EdmEntitySet, keys: readonly KeyValue[]): Promise<Set<string>> {
  const parts = keyPartsOf(set.entityType);
  if (parts.length > 1) {
    const rows = await s.read(compileSelectRows(s.ex.dialect, tableOf(set), keyBinding(set), keys, false, s.ex));
    return new Set(rows.map((r) => keyText(keyOfRow(set.entityType, r))));
  }
  const single = { column: parts[0].column, type: parts[0].type };
  const rows = await s.read(compileKeysWhere(s.ex.dialect, tableOf(set), single, single, [...new Set(keys.map((k) => keyScalars(k)[0]))], undefined, s.ex));
  return new Set(rows.map((r) => String(r.key)));
}

/** The key of a row compileKeysWhere returned for `set`. */
export function selectedKey(set: EdmEntitySet, row: Readonly<Record<string, unknown>>): KeyValue {
  return set.entityType.key.length > 1 ? keyOfRow(set.entityType, row) : row.key as KeyValue;
}
