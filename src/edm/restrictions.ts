/**
 * What a model forbids on an entity set, as its CSDL declares it: Capabilities.InsertRestrictions
 * (Insertable), DeleteRestrictions (Deletable), UpdateRestrictions (Updatable, NonUpdatableProperties)
 * on the set, and Core.Immutable on the type's properties. The write session enforces them on every
 * row it writes (single writes, deep inserts, upserts, $batch parts, mass operations); $metadata shows
 * the same annotations, so what clients are told is what happens.
 */
import { isJsonObject } from '../json';
import { memoizedByObject } from '../memo';
import type { EdmEntitySet, EdmModel } from './model';

const CAP = '@Org.OData.Capabilities.V1.';
const IMMUTABLE = '@Org.OData.Core.V1.Immutable';

export interface SetRestrictions {
  readonly insertable: boolean;
  readonly updatable: boolean;
  readonly deletable: boolean;
  /** properties an update cannot change (NonUpdatableProperties and Core.Immutable ones) */
  readonly fixedProperties: ReadonlySet<string>;
}

const NONE: SetRestrictions = { insertable: true, updatable: true, deletable: true, fixedProperties: new Set() };

const restrictionsByModel = memoizedByObject((model: EdmModel): ReadonlyMap<string, SetRestrictions> => {
  const out = new Map<string, SetRestrictions>();
  const schema = model.csdl[model.namespace];
  const container = isJsonObject(schema) ? schema[model.containerName] : undefined;
  const typeJson = (name: string): Record<string, unknown> => {
    const element = isJsonObject(schema) ? schema[name] : undefined;
    return isJsonObject(element) ? element : {};
  };
  for (const set of model.entitySets.values()) {
    const member = isJsonObject(container) ? container[set.name] : undefined;
    const declared: Record<string, unknown> = isJsonObject(member) ? member : {};
    const flag = (term: string, member: string): boolean => {
      const record = declared[`${CAP}${term}`];
      return !(isJsonObject(record) && record[member] === false);
    };
    const update = declared[`${CAP}UpdateRestrictions`];
    const fixed = new Set<string>(isJsonObject(update) && Array.isArray(update.NonUpdatableProperties) ? update.NonUpdatableProperties.map(String) : []);
    const type = typeJson(set.entityType.name);
    for (const p of set.entityType.properties) {
      const declaredProperty = type[p.name];
      if (isJsonObject(declaredProperty) && declaredProperty[IMMUTABLE] === true) fixed.add(p.name);
    }
    const restrictions: SetRestrictions = {
      insertable: flag('InsertRestrictions', 'Insertable'), updatable: flag('UpdateRestrictions', 'Updatable'),
      deletable: flag('DeleteRestrictions', 'Deletable'), fixedProperties: fixed,
    };
    if (!restrictions.insertable || !restrictions.updatable || !restrictions.deletable || fixed.size > 0) out.set(set.name, restrictions);
  }
  return out;
});

export function restrictionsOf(model: EdmModel, set: EdmEntitySet): SetRestrictions {
  return restrictionsByModel(model).get(set.name) ?? NONE;
}
