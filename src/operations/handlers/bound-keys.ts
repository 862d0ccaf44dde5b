/** Which of some keys lie inside the collection an operation is bound to (a set, or a navigation's targets). */
import { entitiesByKeyPlan } from '../../plan/plan-request';
import type { EntityPosition } from '../../plan/resolve-path';
import { executeRead } from '../../sql/execute';
import { keyOfRow, keyText, type KeyValue } from '../../plan/keys';
import type { OperationCall } from '../handler';

export async function keysWithin(call: OperationCall, binding: EntityPosition, keys: readonly KeyValue[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const plan = entitiesByKeyPlan(call.session.model, call.plan.context, binding.set, keys, { select: [] }, binding);
  const result = await executeRead(call.session.ex, plan.read, false);
  return new Set(result.nodes.map((n) => keyText(keyOfRow(binding.set.entityType, n.row))));
}
