/**
 * Crm.MassUpdate(Ids, Changes) and Crm.MassDelete(Ids), bound to every entity set's collection:
 * all keys or none, in the operation's one transaction. Keys outside the bound collection (e.g.
 * `Companies(…)/Contacts/Crm.MassDelete`) count as missing.
 */
import { ODataError } from '../../errors/odata-error';
import type { EntityPosition } from '../../plan/resolve-path';
import type { KeyValue } from '../../write/entity-reference';
import { checkReferences, deleteEntity, loadRow, splitBinds, updateEntity, type CurrentRow } from '../../write/entity-store';
import { entityArg, valuesArg } from '../arguments';
import type { OperationCall, OperationHandler } from '../handler';
import { keysWithin } from './bound-keys';

async function loadAll(call: OperationCall, binding: EntityPosition, ids: readonly KeyValue[]): Promise<CurrentRow[]> {
  const unique = [...new Set(ids)];
  const limit = call.plan.context.limits.maxPageSize;
  if (unique.length > limit) throw new ODataError('LIMIT_EXCEEDED', `At most ${limit} Ids per call (ODATA_MAX_PAGE_SIZE)`, { target: 'Ids' });
  const within = await keysWithin(call, binding, unique);
  const rows: CurrentRow[] = [];
  const missing: KeyValue[] = [];
  for (const id of unique) {
    const row = within.has(String(id)) ? await loadRow(call.session, binding.set, id) : undefined;
    if (row) rows.push(row);
    else missing.push(id);
  }
  if (missing.length > 0) {
    throw new ODataError('NOT_FOUND', `${binding.canonical} has no entity with key ${missing.map(String).join(', ')}; nothing was changed`, { target: 'Ids' });
  }
  return rows;
}

function bindingOf(call: OperationCall): EntityPosition {
  if (!call.plan.binding) throw new Error(`${call.plan.operation.qualifiedName} must be bound`);
  return call.plan.binding;
}

export const massUpdate: OperationHandler = async (call) => {
  const binding = bindingOf(call);
  const changes = entityArg(call.plan, 'Changes');
  const binds = splitBinds(call.session, changes);
  if (binds.links.length > 0) throw new ODataError('VALIDATION_FAILED', 'MassUpdate sets single-valued links only', { target: 'Changes' });
  await checkReferences(call.session, [changes]);
  const values = new Map([...changes.values, ...binds.foreignKeys]);
  const rows = await loadAll(call, binding, valuesArg(call.plan, 'Ids') as KeyValue[]);
  for (const row of rows) await updateEntity(call.session, row, values);
  return { kind: 'entities', set: binding.set, keys: rows.map((r) => r.key) };
};

export const massDelete: OperationHandler = async (call) => {
  const binding = bindingOf(call);
  const rows = await loadAll(call, binding, valuesArg(call.plan, 'Ids') as KeyValue[]);
  for (const row of rows) await deleteEntity(call.session, row);
  return { kind: 'none' };
};
