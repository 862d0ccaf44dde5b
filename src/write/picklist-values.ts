/**
 * Checks what a write puts into picklist properties (edm/picklists.ts), for every row the session
 * inserts or updates: with the picklist's IsLimitedToList, each value must be an available item
 * (RemovedDate null); with AllowBlank false, '' and [] are refused. A value the row already holds
 * stays valid even when its item has been removed since; only new values are checked. A value that
 * matches an item ignoring case is stored as the item spells it. Null is the property's nullability's
 * business, not the picklist's.
 */
import { ITEM_COLUMNS, PICKLIST_COLUMNS, picklistPropertiesOf, picklistStorageOf, type PicklistProperty, type PicklistStorage } from '../edm/picklists';
import type { EdmEntitySet, EdmEntityType, EdmModel } from '../edm/model';
import { tableOf } from '../edm/storage';
import { ODataError, type ErrorDetail } from '../errors/odata-error';
import { keyTypeOf } from '../plan/resolve-path';
import { compileSelectRows } from '../sql/compile-write';
import type { ColumnValue } from './entity-input';
import type { StoredValue } from './json-values';
import type { WriteSession } from './session';

interface PicklistRules {
  readonly name: string;
  readonly limitedToList: boolean;
  readonly allowBlank: boolean;
  /** lower-cased value → the value as the available item spells it */
  readonly available: ReadonlyMap<string, string>;
}

type Row = ReadonlyMap<string, StoredValue>;

/** Picklists read by a session, while it has not written to the picklist tables itself. */
const rulesBySession = new WeakMap<WriteSession, Map<string, PicklistRules | undefined>>();

/** Whether rows of the type have picklist values to check (most have none: no need to call the check). */
export function hasPicklists(model: EdmModel, type: EdmEntityType): boolean {
  return picklistPropertiesOf(model, type).length > 0;
}

/**
 * Checks (and spells as their items do) the picklist values of a row about to be written. `before`:
 * the stored row (updates); `given`: the properties a body named (inserts; omitted ones keep their
 * defaults unchecked). Corrections go into both `after` and `writes`.
 */
export async function checkPicklistValues(
  s: WriteSession, set: EdmEntitySet, before: Row | undefined, after: Map<string, StoredValue>, writes: Map<string, ColumnValue>, given?: ReadonlySet<string>,
): Promise<void> {
  const annotated = picklistPropertiesOf(s.model, set.entityType);
  if (annotated.length === 0) return;
  const storage = picklistStorageOf(s.model);
  if (!storage) return;
  const problems: ErrorDetail[] = [];
  for (const p of annotated) {
    const written = writes.get(p.column);
    if (!written || written.value === null) continue;
    if (before ? written.value === before.get(p.column) : given !== undefined && !given.has(p.property.name)) continue;
    const rules = await rulesOf(s, storage, p.picklistId);
    if (!rules) continue;
    const corrected = p.property.collection
      ? checkMany(p, rules, String(written.value), before?.get(p.column), problems)
      : checkOne(p, rules, String(written.value), problems);
    if (corrected === undefined || corrected === written.value) continue;
    writes.set(p.column, { ...written, value: corrected });
    after.set(p.column, corrected);
  }
  if (problems.length === 0) return;
  const message = problems.map((d) => d.message).join('; ');
  throw new ODataError('VALIDATION_FAILED', problems.length === 1 ? message : `${problems.length} problems in the request: ${message}`, { target: problems[0].target, details: problems });
}

function checkOne(p: PicklistProperty, rules: PicklistRules, value: string, problems: ErrorDetail[]): string | undefined {
  if (value === '') {
    if (!rules.allowBlank) problems.push(problem(p, `the picklist ${rules.name} does not allow a blank value`));
    return undefined;
  }
  if (!rules.limitedToList) return undefined;
  const item = rules.available.get(value.toLowerCase());
  if (item === undefined) problems.push(problem(p, `'${value}' is not an available item of the picklist ${rules.name}`));
  return item;
}

/** A collection is stored as JSON text; members already stored stay valid. Answers the corrected text. */
function checkMany(p: PicklistProperty, rules: PicklistRules, text: string, stored: StoredValue | undefined, problems: ErrorDetail[]): string | undefined {
  const values = parseMembers(text);
  if (values.length === 0 || values.includes('')) {
    if (!rules.allowBlank) problems.push(problem(p, `the picklist ${rules.name} does not allow a blank value`));
    if (values.length === 0) return undefined;
  }
  if (!rules.limitedToList) return undefined;
  const kept = new Set(typeof stored === 'string' ? parseMembers(stored) : []);
  const corrected = values.map((v) => {
    if (v === '' || kept.has(v)) return v;
    const item = rules.available.get(v.toLowerCase());
    if (item === undefined) problems.push(problem(p, `'${v}' is not an available item of the picklist ${rules.name}`));
    return item ?? v;
  });
  return JSON.stringify(corrected);
}

function parseMembers(text: string): string[] {
  const parsed: unknown = JSON.parse(text);
  return Array.isArray(parsed) ? parsed.map(String) : [];
}

function problem(p: PicklistProperty, message: string): ErrorDetail {
  return { code: 'NOT_IN_PICKLIST', target: p.property.name, message: `${p.property.name}: ${message}` };
}

async function rulesOf(s: WriteSession, storage: PicklistStorage, picklistId: string): Promise<PicklistRules | undefined> {
  const fresh = !s.writtenTables.has(tableOf(storage.picklists)) && !s.writtenTables.has(tableOf(storage.items));
  let known = rulesBySession.get(s);
  if (fresh && known?.has(picklistId)) return known.get(picklistId);
  const rules = await readRules(s, storage, picklistId);
  if (fresh) {
    if (!known) rulesBySession.set(s, (known = new Map()));
    known.set(picklistId, rules);
  }
  return rules;
}

async function readRules(s: WriteSession, storage: PicklistStorage, picklistId: string): Promise<PicklistRules | undefined> {
  const { dialect } = s.ex;
  const picklistKey = { column: storage.picklists.entityType.key[0], type: keyTypeOf(storage.picklists) };
  const [picklist] = await s.read(compileSelectRows(dialect, tableOf(storage.picklists), picklistKey, [picklistId], false));
  if (!picklist) return undefined;
  const items = await s.read(compileSelectRows(dialect, tableOf(storage.items), { column: ITEM_COLUMNS.picklist, type: keyTypeOf(storage.picklists) }, [picklistId], false));
  const available = new Map<string, string>();
  for (const item of items) {
    if (item[ITEM_COLUMNS.removed] !== null && item[ITEM_COLUMNS.removed] !== undefined) continue;
    const value = String(item[ITEM_COLUMNS.value]);
    available.set(value.toLowerCase(), value);
  }
  return {
    name: String(picklist[PICKLIST_COLUMNS.name]),
    limitedToList: dialect.read(picklist[PICKLIST_COLUMNS.limited], 'Edm.Boolean') === true,
    allowBlank: dialect.read(picklist[PICKLIST_COLUMNS.allowBlank], 'Edm.Boolean') === true,
    available,
  };
}
