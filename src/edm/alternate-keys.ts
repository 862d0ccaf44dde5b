/**
 * Alternate keys (Core.AlternateKeys, OData Core vocabulary): other property sets that identify an
 * entity, usable in key predicates (`Tags(Name='VIP')`) and entity references. The canonical key
 * stays `$Key`; an alternate key only finds it. A string part of an alternate key matches ignoring
 * case (this service resolves names so, and stores them unique ignoring case).
 */
import { memoizedByObject } from '../memo';
import type { EdmEntityType, EdmProperty } from './model';

const ALTERNATE_KEYS = '@Org.OData.Core.V1.AlternateKeys';

export interface AlternateKeyPart {
  /** the name used in key predicates (the PropertyRef's Alias, else the property name) */
  readonly alias: string;
  readonly property: EdmProperty;
}

export interface AlternateKey {
  readonly parts: readonly AlternateKeyPart[];
}

/** The alternate keys declared on an entity type, parts resolved to properties (found once per type object). */
export const alternateKeysOf: (type: EdmEntityType) => readonly AlternateKey[] = memoizedByObject((type: EdmEntityType) => {
  const declared = type.annotations[ALTERNATE_KEYS];
  if (declared === undefined) return [];
  if (!Array.isArray(declared)) throw new Error(`${type.name}: ${ALTERNATE_KEYS} must be a collection`);
  return declared.map((key: unknown, i): AlternateKey => {
    const refs = (key as { Key?: unknown }).Key;
    if (!Array.isArray(refs) || refs.length === 0) throw new Error(`${type.name}: alternate key ${i} has no Key`);
    return {
      parts: refs.map((ref: unknown) => {
        const { Name, Alias } = ref as { Name?: unknown; Alias?: unknown };
        if (typeof Name !== 'string' || Name.includes('/')) throw new Error(`${type.name}: alternate key ${i} names ${String(Name)}, not a property of the type itself`);
        const property = type.properties.find((p) => p.name === Name);
        if (!property || property.collection || property.type.kind === 'complex') throw new Error(`${type.name}: alternate key part ${Name} is not a primitive or enum property`);
        return { alias: typeof Alias === 'string' ? Alias : Name, property };
      }),
    };
  });
});

/** Whether a part compares ignoring case (string values). */
export function matchesIgnoringCase(part: AlternateKeyPart): boolean {
  return part.property.type.kind === 'primitive' && part.property.type.name === 'Edm.String';
}
