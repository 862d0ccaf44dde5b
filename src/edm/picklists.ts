/**
 * Picklists in the model. A string or collection-of-strings property annotated `@<ns>.PicklistId`
 * (a term of the model's own schema, value: the Id of a picklist) takes its values from that
 * picklist's items; the write path checks them (src/write/picklist-values.ts). Picklists and their
 * items live in the entity sets of the types `<ns>.Picklist` and `<ns>.PicklistItem`.
 */
import { isJsonObject } from '../json';
import { memoizedByObject } from '../memo';
import type { EdmEntitySet, EdmEntityType, EdmModel, EdmProperty } from './model';
import { columnsOf } from './storage';

export const PICKLIST_TERM = 'PicklistId';

export interface PicklistProperty {
  readonly property: EdmProperty;
  readonly column: string;
  /** the Id of the picklist, as the annotation gives it */
  readonly picklistId: string;
}

/** Where picklists are stored: the sets, and the item columns the checks read. */
export interface PicklistStorage {
  readonly picklists: EdmEntitySet;
  readonly items: EdmEntitySet;
}

export const PICKLIST_COLUMNS = { name: 'Name', limited: 'IsLimitedToList', allowBlank: 'AllowBlank', system: 'IsSystem' } as const;
export const ITEM_COLUMNS = { picklist: 'PicklistId', value: 'Value', description: 'Description', sequence: 'Sequence', removed: 'RemovedDate' } as const;

/** Per entity type, its properties annotated with the picklist term (absent: none). */
export const picklistPropertiesByType = memoizedByObject((model: EdmModel): ReadonlyMap<EdmEntityType, readonly PicklistProperty[]> => {
  const out = new Map<EdmEntityType, PicklistProperty[]>();
  const schema = model.csdl[model.namespace];
  if (!isJsonObject(schema)) return out;
  const annotation = `@${model.namespace}.${PICKLIST_TERM}`;
  for (const type of model.entityTypes.values()) {
    const declared = schema[type.name];
    if (!isJsonObject(declared)) continue;
    for (const { column, property, path } of columnsOf(type)) {
      const member = path.length === 1 ? declared[property.name] : undefined;
      const picklistId = isJsonObject(member) ? member[annotation] : undefined;
      if (typeof picklistId !== 'string') continue;
      if (!isStringValued(property)) throw new Error(`${type.name}.${property.name}: ${annotation} applies to Edm.String or Collection(Edm.String) properties`);
      const list = out.get(type) ?? [];
      list.push({ property, column, picklistId });
      out.set(type, list);
    }
  }
  return out;
});

export function picklistPropertiesOf(model: EdmModel, type: EdmEntityType): readonly PicklistProperty[] {
  return picklistPropertiesByType(model).get(type) ?? NONE;
}

const NONE: readonly PicklistProperty[] = [];

function isStringValued(p: EdmProperty): boolean {
  return p.type.kind === 'primitive' && p.type.name === 'Edm.String';
}

/** The picklist sets, when the model has them. */
export const picklistStorageOf = memoizedByObject((model: EdmModel): PicklistStorage | undefined => {
  const setOf = (typeName: string) => [...model.entitySets.values()].find((s) => s.entityType.qualifiedName === `${model.namespace}.${typeName}`);
  const picklists = setOf('Picklist');
  const items = setOf('PicklistItem');
  return picklists && items ? { picklists, items } : undefined;
});
