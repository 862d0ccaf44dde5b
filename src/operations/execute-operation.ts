/**
 * Runs an operation in one transaction: the registered handler, then derived sums, then the read
 * of any entities it returns (inside the same transaction, so the answer is what was committed).
 */
import type { EdmModel } from '../edm/model';
import { NotImplementedError } from '../errors/odata-error';
import { entitiesByKeyPlan, entityReadPlan, type ReadOnlyPlan } from '../plan/plan-request';
import { entityPosition } from '../plan/resolve-path';
import { executeRead, type ReadResult } from '../sql/execute';
import { inTransaction, type WriteServices } from '../write/execute-write';
import { WriteSession } from '../write/session';
import { flushSums } from '../write/sums';
import { flushDynamicGroups } from '../write/dynamic-groups';
import type { OperationResult } from './handler';
import type { OperationPlan } from './operation-plan';
import { OPERATION_HANDLERS } from './registry';
import { recordAccess } from '../auth/access';

export type OperationOutcome =
  | { readonly kind: 'none' }
  | { readonly kind: 'entities'; readonly single: boolean; readonly plan: ReadOnlyPlan; readonly result: ReadResult }
  | { readonly kind: 'value'; readonly value: unknown };

export function executeOperation(model: EdmModel, plan: OperationPlan, svc: WriteServices): Promise<OperationOutcome> {
  const handler = OPERATION_HANDLERS.get(plan.operation.qualifiedName);
  if (!handler) throw new NotImplementedError(`the operation ${plan.operation.qualifiedName}`);
  return inTransaction(svc.knex, async (trx) => {
    const actor = { user: plan.context.user, minPasswordLength: plan.context.limits.minPasswordLength };
    const session = new WriteSession({ knex: trx, dialect: svc.dialect, access: recordAccess(model, actor.user) }, model, svc.hooks, actor);
    const result: OperationResult = await handler({ plan, session });
    await flushSums(session);
    await flushDynamicGroups(session);
    switch (result.kind) {
      case 'none': return { kind: 'none' };
      case 'value': return { kind: 'value', value: result.value };
      case 'entities': {
        const read = entitiesByKeyPlan(model, plan.context, result.set, result.keys, { select: plan.options.select, expand: plan.options.expand, orderby: plan.options.orderby });
        return { kind: 'entities', single: false, plan: read, result: await executeRead(session.ex, read.read, false) };
      }
      case 'entity': {
        const read = entityReadPlan(model, plan.context, entityPosition(result.set, result.key), { select: plan.options.select, expand: plan.options.expand });
        return { kind: 'entities', single: true, plan: read, result: await executeRead(session.ex, read.read, false) };
      }
    }
  });
}
