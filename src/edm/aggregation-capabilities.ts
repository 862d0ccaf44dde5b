/**
 * What `$apply` and `$compute` support, as annotations of each entity set (OData Extension for Data
 * Aggregation 4.0 §6, Aggregation vocabulary; Capabilities.ComputeSupported). Power Query folds a
 * Group By into `$apply` only when `Aggregation.ApplySupported` is declared. Computed from the CSDL
 * JSON document, so a model replaced at run time is described as it is.
 */
import { isJsonObject, type JsonObject } from '../json';

export const AGGREGATION = 'Org.OData.Aggregation.V1';
const CAP = 'Org.OData.Capabilities.V1';
const AGGREGATION_VOCABULARY = 'https://oasis-tcs.github.io/odata-vocabularies/vocabularies/Org.OData.Aggregation.V1.json';

/** The transformations `$apply` implements (src/plan/plan-apply.ts); the others answer 501. */
export const APPLY_TRANSFORMATIONS: readonly string[] = [
  'aggregate', 'groupby', 'filter', 'compute', 'orderby', 'top', 'skip', 'search', 'topcount', 'bottomcount', 'topsum', 'bottomsum', 'identity',
];

const NUMERIC = new Set(['Edm.Byte', 'Edm.SByte', 'Edm.Int16', 'Edm.Int32', 'Edm.Int64', 'Edm.Decimal', 'Edm.Double', 'Edm.Single']);

/** CSDL XML value types of the annotations below (see CAPABILITY_VALUE_TYPES). */
export const AGGREGATION_VALUE_TYPES: Readonly<Record<string, string>> = {
  [`${AGGREGATION}.ApplySupported`]: `${AGGREGATION}.ApplySupportedType`,
  [`${AGGREGATION}.ApplySupportedType/GroupableProperties`]: 'Edm.AnyPropertyPath',
  [`${AGGREGATION}.ApplySupportedType/AggregatableProperties`]: `${AGGREGATION}.AggregatablePropertyType`,
  [`${AGGREGATION}.AggregatablePropertyType/Property`]: 'Edm.PropertyPath',
};

/** Adds the Aggregation vocabulary to a document's references (in place). */
export function referenceAggregation(doc: JsonObject): void {
  const refs = isJsonObject(doc.$Reference) ? doc.$Reference : (doc.$Reference = {});
  if (!(AGGREGATION_VOCABULARY in refs)) refs[AGGREGATION_VOCABULARY] = { $Include: [{ $Namespace: AGGREGATION, $Alias: 'Aggregation' }] };
}

/** `ApplySupported` (transformations, groupable and aggregatable properties) and `ComputeSupported` for an entity set. */
export function aggregationAnnotations(doc: JsonObject, entitySet: JsonObject): JsonObject {
  const type = structuredType(doc, entitySet.$Type);
  const groupable: string[] = [];
  const aggregatable: JsonObject[] = [];
  for (const [name, p] of properties(type)) {
    if (p.$Collection === true || readRestricted(p)) continue;
    const t = typeof p.$Type === 'string' ? p.$Type : 'Edm.String';
    const complex = structuredType(doc, t);
    if (complex !== undefined) {
      for (const [member, m] of properties(complex)) if (m.$Collection !== true && structuredType(doc, m.$Type) === undefined) groupable.push(`${name}/${member}`);
      continue;
    }
    groupable.push(name);
    if (NUMERIC.has(t)) aggregatable.push({ Property: name, SupportedAggregationMethods: ['sum', 'average', 'min', 'max', 'countdistinct'] });
  }
  return {
    [`@${AGGREGATION}.ApplySupported`]: { Transformations: [...APPLY_TRANSFORMATIONS], GroupableProperties: groupable, AggregatableProperties: aggregatable },
    [`@${CAP}.ComputeSupported`]: true,
  };
}

function properties(type: JsonObject | undefined): [string, JsonObject][] {
  if (type === undefined) return [];
  return Object.entries(type).filter((e): e is [string, JsonObject] => !e[0].startsWith('$') && !e[0].includes('@') && isJsonObject(e[1]) && e[1].$Kind !== 'NavigationProperty');
}

/** Write-only or unreadable properties (Core.Permissions) are not offered for grouping. */
function readRestricted(p: JsonObject): boolean {
  return Object.keys(p).some((k) => k.endsWith('.Permissions'));
}

function structuredType(doc: JsonObject, qualified: unknown): JsonObject | undefined {
  if (typeof qualified !== 'string') return undefined;
  const dot = qualified.lastIndexOf('.');
  const schema = doc[qualified.slice(0, dot)];
  const t = isJsonObject(schema) ? schema[qualified.slice(dot + 1)] : undefined;
  return isJsonObject(t) && (t.$Kind === 'EntityType' || t.$Kind === 'ComplexType') ? t : undefined;
}
