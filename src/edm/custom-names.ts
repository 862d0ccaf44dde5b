/**
 * The names run-time additions may take (issue 17, item 6): custom fields (`FieldDefinitions.Name`)
 * and custom tables (`TableDefinitions.Name`, `EntityTypeName`). A name matches
 * `[A-Za-z][A-Za-z0-9_]{0,63}` and equals, ignoring case, nothing the model already names that a URL
 * or payload could confuse it with, nor a name kept for features still to come (README, Custom fields).
 */
import { ODataError } from '../errors/odata-error';
import type { EdmEntityType, EdmModel } from './model';

export const CUSTOM_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/** Kept for features still to come and for words that read as OData syntax; README lists them. */
export const RESERVED_NAMES: readonly string[] = [
  'Id', 'Key', 'Type', 'Entity', 'Value', 'Count', 'Ref', 'Links', 'Metadata', 'Batch', 'Root', 'It', 'This',
  'Null', 'True', 'False', 'Owner', 'Team', 'Attachments', 'Documents', 'Comments', 'Followers', 'Workflow',
  'Audit', 'History', 'Version', 'Deleted', 'IsDeleted', 'Custom', 'System',
];

/** What the name is for: a property of `targetType`, or a new entity set or entity type. */
export type CustomNameKind = 'property' | 'entity-set' | 'entity-type';

/** Throws a 400 (target: `target`) naming what the name clashes with; returns nothing when it is free. */
export function checkCustomName(model: EdmModel, kind: CustomNameKind, name: string, targetType?: EdmEntityType, target = 'Name'): void {
  if (!CUSTOM_NAME_PATTERN.test(name)) {
    throw new ODataError('VALIDATION_FAILED', `${name} is not a valid name: it must match [A-Za-z][A-Za-z0-9_]{0,63}`, { target });
  }
  const clash = clashOf(model, kind, name.toLowerCase(), targetType);
  if (clash) throw new ODataError('VALIDATION_FAILED', `The name ${name} is already taken by ${clash} (names are compared ignoring case)`, { target });
}

/** The element the lower-cased name clashes with, described for the client; undefined when free. */
function clashOf(model: EdmModel, kind: CustomNameKind, lower: string, targetType: EdmEntityType | undefined): string | undefined {
  const same = (candidate: string) => candidate.toLowerCase() === lower;
  if (kind === 'property' && targetType) {
    for (const p of targetType.properties) if (same(p.name)) return `the property ${targetType.name}.${p.name}`;
    for (const n of targetType.navigations) if (same(n.name)) return `the navigation property ${targetType.name}.${n.name}`;
  }
  const reserved = RESERVED_NAMES.find(same);
  if (reserved) return `the reserved name ${reserved}`;
  for (const name of model.entitySets.keys()) if (same(name)) return `the entity set ${name}`;
  for (const name of model.singletons.keys()) if (same(name)) return `the singleton ${name}`;
  for (const name of model.operationImports.keys()) if (same(name)) return `the operation import ${name}`;
  const types: [ReadonlyMap<string, { readonly name: string }>, string][] = [
    [model.entityTypes, 'entity type'], [model.complexTypes, 'complex type'], [model.enumTypes, 'enumeration type'],
  ];
  for (const [map, what] of types) for (const type of map.values()) if (same(type.name)) return `the ${what} ${type.name}`;
  for (const overloads of model.operations.values()) {
    const op = overloads[0];
    if (op && same(op.name)) return `the ${op.kind} ${op.qualifiedName}`;
  }
  return undefined;
}
