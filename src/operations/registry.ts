/**
 * Handlers by the qualified name of the operation they implement. An operation declared in the
 * model without a handler answers 501; a handler without a declaration is never reachable.
 */
import type { OperationHandler } from './handler';
import { clearActivity } from './handlers/activity';
import { massDelete, massUpdate } from './handlers/mass';
import { totalAmount } from './handlers/opportunity';
import { addPicklistItems } from './handlers/picklist';
import { systemInfo } from './handlers/service-info';
import { changePassword } from './handlers/user';

export const OPERATION_HANDLERS: ReadonlyMap<string, OperationHandler> = new Map([
  ['Crm.MassUpdate', massUpdate],
  ['Crm.MassDelete', massDelete],
  ['Crm.Clear', clearActivity],
  ['Crm.TotalAmount', totalAmount],
  ['Crm.SystemInfo', systemInfo],
  ['Crm.ChangePassword', changePassword],
  ['Crm.AddItems', addPicklistItems],
]);
