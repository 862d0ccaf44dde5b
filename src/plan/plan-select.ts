/**
 * `$select` → the properties of the result shape (complex properties keep their nesting).
 * With no `$select`, or `*`, all structural properties are selected.
 */
import { memoizedByObject } from '../memo';
import { PlanError, NotImplementedError } from '../errors/odata-error';
import { resolveMember } from '../edm/lookup';
import type { EdmComplexType, EdmEntityType, EdmProperty } from '../edm/model';
import { isSingleComplex, nullIndicatorColumns } from '../edm/complex-null';
import { columnOf } from '../edm/storage';
import type { SelectItem } from '../uri/ast';
import type { SelectedProperty } from './plan';

/** All structural properties of a type, as a selection; memoised per type object (see `columnsOf`). */
export const allProperties: (type: EdmEntityType | EdmComplexType) => readonly SelectedProperty[] = memoizedByObject((type) => propertiesUnder(type, []));

function propertiesUnder(type: EdmEntityType | EdmComplexType, prefix: readonly string[]): SelectedProperty[] {
  return type.properties.filter((p) => !p.hidden).map((p) => selectedProperty(p, prefix));
}

function selectedProperty(p: EdmProperty, prefix: readonly string[]): SelectedProperty {
  if (isSingleComplex(p)) {
    const path = [...prefix, p.name];
    return { kind: 'complex', name: p.name, property: p, members: propertiesUnder(p.type.type, path), indicatorColumns: nullIndicatorColumns(p.type.type, path) };
  }
  return { kind: 'primitive', name: p.name, column: columnOf([...prefix, p.name], p), property: p };
}

export interface SelectResult {
  readonly properties: readonly SelectedProperty[];
  /** navigation properties named in $select (they add nothing to a minimal-metadata payload) */
  readonly navigations: string[];
  /** canonical select list for @odata.context */
  readonly contextItems: string[];
}

export function planSelect(type: EdmEntityType, items: readonly SelectItem[] | undefined, where: string): SelectResult {
  if (!items || items.some((i) => i.kind === 'all')) {
    const explicit = items ? items.filter((i) => i.kind === 'path') : [];
    const navs = explicit.length ? planSelect(type, explicit, where).navigations : [];
    return { properties: allProperties(type), navigations: navs, contextItems: items ? ['*'] : [] };
  }
  // Merge paths into a tree that keeps declaration order.
  const chosen = new Map<string, Set<string> | true>();
  const navigations: string[] = [];
  const contextItems: string[] = [];
  for (const item of items) {
    if (item.kind !== 'path') continue;
    const [head, ...rest] = item.segments;
    if (head.name.endsWith('.*') || head.name.includes('.')) throw new NotImplementedError('selecting operations or type casts', { target: where });
    const found = resolveMember(type, head.name);
    if ('missing' in found) throw new PlanError('UNKNOWN_PROPERTY', `'${head.name}' is not a property of ${type.qualifiedName} at position ${head.position} in ${where}`, { target: where, position: head.position });
    if ('ambiguous' in found) throw new PlanError('AMBIGUOUS_NAME', `'${head.name}' is ambiguous in ${where}`, { target: where });
    if (found.found.kind === 'navigation') {
      if (rest.length) throw new NotImplementedError('selecting through a navigation', { target: where });
      navigations.push(found.found.navigation.name);
      contextItems.push(found.found.navigation.name);
      continue;
    }
    const p = found.found.property;
    if (p.hidden) throw new PlanError('PROPERTY_NOT_READABLE', `'${p.name}' cannot be read (in ${where})`, { target: where, position: head.position });
    if (rest.length === 0) {
      chosen.set(p.name, true);
      contextItems.push(p.name);
      continue;
    }
    if (p.type.kind !== 'complex') throw new PlanError('TYPE_MISMATCH', `'${p.name}' has no member '${rest[0].name}' in ${where}`, { target: where });
    let sub: EdmComplexType = p.type.type;
    const names: string[] = [];
    for (const step of rest) {
      const m = resolveMember(sub, step.name);
      if (!('found' in m) || m.found.kind !== 'property') throw new PlanError('UNKNOWN_PROPERTY', `'${step.name}' is not a property of ${sub.qualifiedName} in ${where}`, { target: where, position: step.position });
      names.push(m.found.property.name);
      if (m.found.property.type.kind === 'complex') sub = m.found.property.type.type;
    }
    if (names.length > 1) throw new NotImplementedError('selecting nested complex members deeper than one level', { target: where });
    const existing = chosen.get(p.name);
    if (existing !== true) chosen.set(p.name, new Set([...(existing ?? []), names[0]]));
    contextItems.push(`${p.name}/${names[0]}`);
  }
  const properties: SelectedProperty[] = [];
  for (const p of type.properties) {
    const c = chosen.get(p.name);
    if (c === undefined) continue;
    if (c === true) properties.push(selectedProperty(p, []));
    else if (isSingleComplex(p)) {
      properties.push({
        kind: 'complex', name: p.name, property: p,
        members: p.type.type.properties.filter((m) => c.has(m.name)).map((m) => selectedProperty(m, [p.name])),
        indicatorColumns: nullIndicatorColumns(p.type.type, [p.name]),
      });
    }
  }
  return { properties, navigations, contextItems };
}

/** Every column a set of selected properties reads (memoised for the shared all-properties selections). */
export const columnsOfSelection: (props: readonly SelectedProperty[]) => readonly string[] = memoizedByObject(
  (props) => props.flatMap((p) => (p.kind === 'primitive' ? [p.column] : [...p.indicatorColumns, ...columnsOfSelection(p.members)])),
);
