/** Crm.Clear, bound to an Activity: marks it done (IsCleared, ClearedDate = the transaction's time). */
import { locate } from '../../write/execute-write';
import { ODataError } from '../../errors/odata-error';
import { updateEntity } from '../../write/entity-store';
import type { OperationHandler } from '../handler';

export const clearActivity: OperationHandler = async (call) => {
  const binding = call.plan.binding;
  if (!binding) throw new Error('Crm.Clear must be bound');
  const row = await locate(call.session, call.plan.context, binding);
  if (!row) throw new ODataError('NOT_FOUND', `No entity exists at ${binding.canonical}`);
  await updateEntity(call.session, row, new Map([
    ['IsCleared', { column: 'IsCleared', value: true, type: 'Edm.Boolean' }],
    ['ClearedDate', { column: 'ClearedDate', value: call.session.now, type: 'Edm.DateTimeOffset' }],
  ]));
  return { kind: 'entity', set: binding.set, key: row.key };
};
