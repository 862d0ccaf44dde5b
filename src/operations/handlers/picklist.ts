/**
 * Crm.AddItems(Items), bound to a Picklist: adds the items in the operation's one transaction. A value
 * the picklist already has (ignoring case, removed items included: values stay unique per picklist)
 * or one given twice refuses the whole call (400, each duplicate named); an item without a Sequence
 * goes after the last one.
 */
import { ITEM_COLUMNS, picklistStorageOf } from '../../edm/picklists';
import type { EdmEntitySet } from '../../edm/model';
import { tableOf } from '../../edm/storage';
import { ODataError, type ErrorDetail } from '../../errors/odata-error';
import { singleKey } from '../../plan/keys';
import { keyTypeOf } from '../../plan/resolve-path';
import { compileSelectRows } from '../../sql/compile-write';
import type { ColumnValue } from '../../write/entity-input';
import { insertEntity } from '../../write/entity-store';
import type { KeyValue } from '../../write/entity-reference';
import { locate } from '../../write/execute-write';
import type { StoredValue } from '../../write/json-values';
import type { OperationHandler } from '../handler';

const ITEMS = 'Items';

export const addPicklistItems: OperationHandler = async (call) => {
  const { binding, args, context } = call.plan;
  if (!binding) throw new Error('Crm.AddItems must be bound');
  const storage = picklistStorageOf(call.session.model);
  if (!storage) throw new Error('Crm.AddItems needs the Picklist and PicklistItem sets');
  const picklist = await locate(call.session, context, binding);
  if (!picklist) throw new ODataError('NOT_FOUND', `No entity exists at ${binding.canonical}`);
  const arg = args.get(ITEMS);
  const records = arg?.kind === 'records' ? arg.records : [];
  const existing = await call.session.read(compileSelectRows(call.session.ex.dialect, tableOf(storage.items),
    { column: ITEM_COLUMNS.picklist, type: keyTypeOf(storage.picklists) }, [singleKey(picklist.key)], false));
  const taken = new Map(existing.map((row) => [String(row[ITEM_COLUMNS.value]).toLowerCase(), `the picklist has '${String(row[ITEM_COLUMNS.value])}'`]));
  const problems: ErrorDetail[] = [];
  for (const [i, record] of records.entries()) {
    const value = String(record.get(ITEM_COLUMNS.value));
    const clash = taken.get(value.toLowerCase());
    const target = `${ITEMS}/${i}/${ITEM_COLUMNS.value}`;
    if (clash) problems.push({ code: 'ALREADY_EXISTS', target, message: `${target}: '${value}' is a duplicate (${clash})` });
    else taken.set(value.toLowerCase(), `${ITEMS}/${i} has '${value}'`);
  }
  if (problems.length > 0) {
    throw new ODataError('VALIDATION_FAILED', `${problems.map((p) => p.message).join('; ')}; no item was added`, { target: problems[0].target, details: problems });
  }
  let sequence = existing.reduce((max, row) => Math.max(max, Number(row[ITEM_COLUMNS.sequence] ?? 0)), 0);
  const keys: KeyValue[] = [];
  for (const record of records) {
    const given = record.get(ITEM_COLUMNS.sequence);
    sequence = typeof given === 'number' ? Math.max(sequence, given) : sequence + 1;
    const values = itemValues(storage.picklists, picklist.key, record, typeof given === 'number' ? given : sequence);
    keys.push(await insertEntity(call.session, { set: storage.items, values, binds: [], nested: [] }));
  }
  return { kind: 'entities', set: storage.items, keys };
};

function itemValues(picklists: EdmEntitySet, picklistKey: KeyValue, record: ReadonlyMap<string, StoredValue>, sequence: number): Map<string, ColumnValue> {
  const column = (name: string, value: StoredValue, type: ColumnValue['type']): [string, ColumnValue] => [name, { column: name, value, type }];
  return new Map([
    column(ITEM_COLUMNS.picklist, singleKey(picklistKey), keyTypeOf(picklists)),
    column(ITEM_COLUMNS.value, record.get(ITEM_COLUMNS.value) ?? null, 'Edm.String'),
    column(ITEM_COLUMNS.description, record.get(ITEM_COLUMNS.description) ?? null, 'Edm.String'),
    column(ITEM_COLUMNS.sequence, sequence, 'Edm.Int32'),
    column(ITEM_COLUMNS.removed, null, 'Edm.DateTimeOffset'),
  ]);
}
