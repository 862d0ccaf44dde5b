/**
 * Name resolution against the model. Identifiers resolve exactly first, then case-insensitively
 * when exactly one candidate matches (OData 4.01 §"case-insensitive"; the old Act! API's clients rely on it).
 */
import { memoizedByObject } from '../memo';
import type { EdmEntitySet, EdmEntityType, EdmModel, EdmNavigation, EdmProperty, EdmComplexType, EdmEnumType } from './model';

export type Lookup<T> = { found: T } | { missing: true } | { ambiguous: readonly string[] };

export function resolveName<T extends { readonly name: string }>(items: Iterable<T>, name: string): Lookup<T> {
  return lookUp(indexByName(items), name);
}

/** Names → items, exactly and by lower case: built once per list of members or sets (see `memoizedByObject`). */
interface NameIndex<T> {
  readonly exact: ReadonlyMap<string, T>;
  readonly lower: ReadonlyMap<string, readonly T[]>;
}

function indexByName<T extends { readonly name: string }>(items: Iterable<T>): NameIndex<T> {
  const exact = new Map<string, T>();
  const lower = new Map<string, T[]>();
  for (const item of items) {
    if (!exact.has(item.name)) exact.set(item.name, item);
    const key = item.name.toLowerCase();
    lower.set(key, [...(lower.get(key) ?? []), item]);
  }
  return { exact, lower };
}

function lookUp<T extends { readonly name: string }>(index: NameIndex<T>, name: string): Lookup<T> {
  const exact = index.exact.get(name);
  if (exact) return { found: exact };
  const matches = index.lower.get(name.toLowerCase()) ?? [];
  if (matches.length === 1) return { found: matches[0] };
  if (matches.length > 1) return { ambiguous: matches.map((m) => m.name) };
  return { missing: true };
}

export type Member =
  | { readonly kind: 'property'; readonly property: EdmProperty }
  | { readonly kind: 'navigation'; readonly navigation: EdmNavigation };

/** A structural or navigation member of an entity or complex type, by (case-insensitive) name. */
export function resolveMember(type: EdmEntityType | EdmComplexType, name: string): Lookup<Member> {
  return lookUp(membersOf(type), name);
}

const membersOf = memoizedByObject((type: EdmEntityType | EdmComplexType): NameIndex<Member & { name: string }> => {
  const members: (Member & { name: string })[] = type.properties.map((p) => ({ kind: 'property' as const, property: p, name: p.name }));
  if (type.kind === 'entity') {
    for (const n of type.navigations) members.push({ kind: 'navigation', navigation: n, name: n.name });
  }
  return indexByName(members);
});

export function resolveEntitySet(model: EdmModel, name: string): Lookup<EdmEntitySet> {
  return lookUp(entitySetsOf(model), name);
}

const entitySetsOf = memoizedByObject((model: EdmModel) => indexByName(model.entitySets.values()));

export function resolveQualifiedType(model: EdmModel, qualifiedName: string): EdmEntityType | EdmComplexType | EdmEnumType | undefined {
  return model.entityTypes.get(qualifiedName) ?? model.complexTypes.get(qualifiedName) ?? model.enumTypes.get(qualifiedName)
    ?? caseInsensitive(model, qualifiedName);
}

function caseInsensitive(model: EdmModel, qualifiedName: string): EdmEntityType | EdmComplexType | EdmEnumType | undefined {
  const lower = qualifiedName.toLowerCase();
  const all = [...model.entityTypes.values(), ...model.complexTypes.values(), ...model.enumTypes.values()];
  const hits = all.filter((t) => t.qualifiedName.toLowerCase() === lower);
  return hits.length === 1 ? hits[0] : undefined;
}

export function entityTypeOf(model: EdmModel, qualifiedName: string): EdmEntityType {
  const type = model.entityTypes.get(qualifiedName);
  if (!type) throw new Error(`model has no entity type ${qualifiedName}`);
  return type;
}

/** The entity set a navigation leads to: the container's binding, else the only set of the target type. */
export function targetEntitySet(model: EdmModel, from: EdmEntitySet, navigation: EdmNavigation): EdmEntitySet {
  const bound = from.navigationBindings.get(navigation.name);
  const set = bound ? model.entitySets.get(bound) : [...model.entitySets.values()].find((s) => s.entityType.qualifiedName === navigation.targetTypeName);
  if (!set) throw new Error(`no entity set for navigation ${from.name}/${navigation.name}`);
  return set;
}

/** The entity set (table) that holds entities of a type: the first set declared with it. */
export function entitySetOfType(model: EdmModel, type: EdmEntityType): EdmEntitySet {
  for (const set of model.entitySets.values()) if (set.entityType === type) return set;
  throw new Error(`model has no entity set of type ${type.qualifiedName}`);
}

/** The (single) key property of an entity set's type (found once per set object). */
export const keyPropertyOf: (set: EdmEntitySet) => EdmProperty = memoizedByObject((set: EdmEntitySet) => propertyOf(set.entityType, set.entityType.key[0]));

export function propertyOf(type: EdmEntityType | EdmComplexType, name: string): EdmProperty {
  const p = type.properties.find((x) => x.name === name);
  if (!p) throw new Error(`${type.qualifiedName} has no property ${name}`);
  return p;
}
