/**
 * Brings derived sums (Opportunity.Amount = Σ its products' Total) up to date at the end of a write,
 * for every parent whose children changed. Updating a parent may touch further sums, so it repeats
 * until nothing is pending.
 */
import type { EdmEntitySet, EdmModel } from '../edm/model';
import { entitySetOfType } from '../edm/lookup';
import { columnOfName, tableOf } from '../edm/storage';
import { canonicalDecimal } from '../decimal';
import { compileSum } from '../sql/compile-write';
import { keyTypeOf } from '../plan/resolve-path';
import { singleKey } from '../plan/keys';
import type { KeyValue } from './entity-reference';
import { loadRow, updateEntity } from './entity-store';
import type { WriteSession } from './session';

const MAX_ROUNDS = 8;

function setOfType(model: EdmModel, qualifiedName: string): EdmEntitySet | undefined {
  const type = model.entityTypes.get(qualifiedName);
  return type ? entitySetOfType(model, type) : undefined;
}

export async function flushSums(s: WriteSession): Promise<void> {
  for (let round = 0; s.pendingSums.size > 0; round++) {
    if (round >= MAX_ROUNDS) throw new Error('derived sums did not settle');
    const pending = [...s.pendingSums];
    s.pendingSums.clear();
    for (const [rule, parents] of pending) {
      const parentSet = setOfType(s.model, rule.parentType);
      const childSet = setOfType(s.model, rule.childType);
      if (!parentSet || !childSet) continue;
      // the rule names properties; their columns may be mapped (src/edm/storage.ts)
      const parentType = parentSet.entityType;
      const childType = childSet.entityType;
      for (const key of parents) await recompute(s, parentSet, childSet, columnOfName(parentType, rule.column), columnOfName(childType, rule.foreignKey), columnOfName(childType, rule.childColumn), key);
    }
  }
}

async function recompute(s: WriteSession, parentSet: EdmEntitySet, childSet: EdmEntitySet, column: string, foreignKey: string, childColumn: string, key: KeyValue): Promise<void> {
  // server-maintained: the sum is the parent's whoever may see it
  const parent = await loadRow(s, parentSet, key, true, 'any');
  if (!parent) return;
  const [row] = await s.read(compileSum(s.ex.dialect, tableOf(childSet), childColumn, { column: foreignKey, type: keyTypeOf(parentSet) }, singleKey(key)));
  const total = canonicalDecimal(row.total) ?? '0';
  if (canonicalDecimal(parent.values.get(column)) === total) return;
  await updateEntity(s, parent, new Map([[column, { column, value: total, type: 'Edm.Decimal' }]]));
}
