/** Typed access to the converted arguments of an operation call; a handler asks for what its declaration promises. */
import type { EntityInput } from '../write/entity-input';
import type { StoredValue } from '../write/json-values';
import type { OperationPlan } from './operation-plan';

export function valueArg(plan: OperationPlan, name: string): StoredValue {
  const arg = plan.args.get(name);
  if (arg?.kind !== 'value') throw new Error(`${plan.operation.qualifiedName}: parameter ${name} is not a single value`);
  return arg.value;
}

export function valuesArg(plan: OperationPlan, name: string): readonly StoredValue[] {
  const arg = plan.args.get(name);
  if (arg?.kind !== 'values') throw new Error(`${plan.operation.qualifiedName}: parameter ${name} is not a collection`);
  return arg.values;
}

export function entityArg(plan: OperationPlan, name: string): EntityInput {
  const arg = plan.args.get(name);
  if (arg?.kind !== 'entity') throw new Error(`${plan.operation.qualifiedName}: parameter ${name} is not an entity`);
  return arg.input;
}
