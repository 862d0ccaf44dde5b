/** Crm.TotalAmount(Status), bound to a collection of opportunities: Σ Amount of those with that status. */
import { propertyOf } from '../../edm/lookup';
import { entityReadPlan } from '../../plan/plan-request';
import type { PlanExpr, ValueType } from '../../plan/plan';
import { executeSum } from '../../sql/execute';
import { valueArg } from '../arguments';
import type { OperationHandler } from '../handler';

export const totalAmount: OperationHandler = async (call) => {
  const binding = call.plan.binding;
  if (!binding) throw new Error('Crm.TotalAmount must be bound');
  const status = propertyOf(binding.set.entityType, 'Status');
  if (status.type.kind !== 'enum') throw new Error('Opportunity.Status must be an enumeration');
  const type: ValueType = { kind: 'enum', type: status.type.type };
  const plan = entityReadPlan(call.session.model, call.plan.context, binding).read;
  const sameStatus: PlanExpr = {
    kind: 'compare', op: 'eq', left: { kind: 'column', scope: plan.scope, joins: [], column: 'Status', type },
    right: { kind: 'literal', value: Number(valueArg(call.plan, 'Status')), type },
  };
  const amount = propertyOf(binding.set.entityType, 'Amount');
  const total = await executeSum(call.session.ex, Object.assign({}, plan, { where: [...plan.where, sameStatus] }), 'Amount', amount.scale);
  return { kind: 'value', value: total };
};
