/** Adds the Core and Capabilities annotations that tell clients what this service supports to a copy of a CSDL JSON document. */
import { isJsonObject, type JsonObject } from '../json';
import { AGGREGATION_VALUE_TYPES, aggregationAnnotations, referenceAggregation } from './aggregation-capabilities';
import type { CsdlValueTypes } from './csdl-xml';

type Json = JsonObject;

export interface MetadataLimits {
  readonly maxTop: number;
  readonly maxExpandDepth: number;
  readonly pageSize: number;
}

/** Writes (POST/PATCH/PUT/DELETE) on every entity set. */
export const WRITES_SUPPORTED = true;
/** `$batch`, multipart/mixed and JSON. */
export const BATCH_SUPPORTED = true;
/** `Prefer: respond-async` on every request (status monitors kept in the database). */
export const ASYNC_REQUESTS_SUPPORTED = true;

const CORE = 'Org.OData.Core.V1';
const CAP = 'Org.OData.Capabilities.V1';

/** Core.ODataVersions: "a space-separated list of supported versions of the OData Protocol". */
export const ODATA_VERSIONS = '4.0 4.01';

/** Media types (with format parameters) the JSON serializer produces. */
export const SUPPORTED_FORMATS: readonly string[] = [
  'application/json;odata.metadata=minimal;IEEE754Compatible=false',
  'application/json;odata.metadata=minimal;IEEE754Compatible=true',
  'application/json;odata.metadata=none;IEEE754Compatible=false',
  'application/json;odata.metadata=none;IEEE754Compatible=true',
];

/** `$metadata` is served in both CSDL representations. */
export const SUPPORTED_METADATA_FORMATS: readonly string[] = ['application/xml', 'application/json'];

/**
 * Capabilities.FilterFunctions: "If not specified, null, or empty, all functions and operators may be
 * attempted", so a non-empty list must name the operators too, or clients would assume they are missing.
 * Exactly what `$filter` accepts: the operators of URL Conventions §5.1.1.1-5.1.1.4 and §5.1.1.13 and
 * the canonical functions the planner knows (src/plan/functions.ts); test/features/filter-functions.test.ts
 * reads this list from `$metadata` and calls each entry. Power Query folds a function only when listed.
 */
export const FILTER_FUNCTIONS: readonly string[] = [
  'eq', 'ne', 'gt', 'ge', 'lt', 'le', 'has', 'in', 'and', 'or', 'not', 'add', 'sub', 'mul', 'div', 'divby', 'mod', 'any', 'all',
  'contains', 'startswith', 'endswith', 'length', 'indexof', 'substring', 'tolower', 'toupper', 'trim', 'concat',
  'year', 'month', 'day', 'hour', 'minute', 'second', 'fractionalseconds', 'date', 'time', 'now',
  'totaloffsetminutes', 'mindatetime', 'maxdatetime', 'round', 'floor', 'ceiling',
];

/**
 * The annotation value types this module emits whose XML form differs from a plain string (see
 * renderCsdlXml): the enumeration-typed ConformanceLevel and the property paths of
 * Core.OptimisticConcurrency (declared in the model). A test checks this against the OASIS vocabularies.
 */
export const CAPABILITY_VALUE_TYPES: CsdlValueTypes = {
  [`${CAP}.ConformanceLevel`]: `${CAP}.ConformanceLevelType`,
  [`${CORE}.OptimisticConcurrency`]: 'Edm.PropertyPath',
  // write-only and unreadable properties (User.Password, AccessToken.Token), declared in the model
  [`${CORE}.Permissions`]: `${CORE}.Permission`,
  // alternate keys (Tags(Name='VIP')): records of PropertyRef whose Name is a property path
  [`${CORE}.AlternateKeys`]: `${CORE}.AlternateKey`,
  [`${CORE}.AlternateKey/Key`]: `${CORE}.PropertyRef`,
  [`${CORE}.PropertyRef/Name`]: 'Edm.PropertyPath',
  // $apply: Aggregation.ApplySupported with its property paths (edm/aggregation-capabilities.ts)
  ...AGGREGATION_VALUE_TYPES,
};

function containerAnnotations(): Json {
  return {
    [`@${CORE}.ODataVersions`]: ODATA_VERSIONS,
    // CSDL JSON represents an enumeration member expression as the bare member name ("Intermediate");
    // the XML renderer turns it into EnumMember="Org.OData.Capabilities.V1.ConformanceLevelType/Intermediate".
    [`@${CAP}.ConformanceLevel`]: 'Intermediate',
    [`@${CAP}.SupportedFormats`]: [...SUPPORTED_FORMATS],
    [`@${CAP}.SupportedMetadataFormats`]: [...SUPPORTED_METADATA_FORMATS],
    [`@${CAP}.AsynchronousRequestsSupported`]: ASYNC_REQUESTS_SUPPORTED,
    [`@${CAP}.BatchSupported`]: BATCH_SUPPORTED,
    [`@${CAP}.BatchSupport`]: {
      Supported: BATCH_SUPPORTED, ContinueOnErrorSupported: true, ReferencesInRequestBodiesSupported: true,
      ReferencesAcrossChangeSetsSupported: false, EtagReferencesSupported: false, RequestDependencyConditionsSupported: false,
      SupportedFormats: ['multipart/mixed', 'application/json'],
    },
    [`@${CAP}.KeyAsSegmentSupported`]: false,
    // PATCH/PUT with nested collections and Nav@delta (src/write/deep-update.ts)
    [`@${CAP}.DeepUpdateSupport`]: { Supported: true, ContentIDSupported: false },
    [`@${CAP}.QuerySegmentSupported`]: true,
    [`@${CAP}.FilterFunctions`]: [...FILTER_FUNCTIONS],
  };
}

function entitySetAnnotations(limits: MetadataLimits): Json {
  return {
    [`@${CAP}.CountRestrictions`]: { Countable: true },
    [`@${CAP}.TopSupported`]: true,
    [`@${CAP}.SkipSupported`]: true,
    [`@${CAP}.SearchRestrictions`]: { Searchable: true },
    [`@${CAP}.FilterRestrictions`]: { Filterable: true },
    [`@${CAP}.SortRestrictions`]: { Sortable: true },
    [`@${CAP}.ExpandRestrictions`]: { Expandable: limits.maxExpandDepth > 0, MaxLevels: limits.maxExpandDepth },
    [`@${CAP}.SelectSupport`]: { Supported: true },
    [`@${CAP}.InsertRestrictions`]: { Insertable: WRITES_SUPPORTED },
    [`@${CAP}.UpdateRestrictions`]: { Updatable: WRITES_SUPPORTED },
    [`@${CAP}.DeleteRestrictions`]: { Deletable: WRITES_SUPPORTED },
  };
}

/** `$`-members of `element` first, then the defaults it does not override, then its other members. */
function withDefaults(element: Json, defaults: Json): Json {
  const entries = Object.entries(element);
  return Object.fromEntries([
    ...entries.filter(([k]) => k.startsWith('$')),
    ...Object.entries(defaults).filter(([k]) => !(k in element)),
    ...entries.filter(([k]) => !k.startsWith('$')),
  ]);
}


/**
 * Returns a new CSDL JSON document whose entity container and entity sets carry the service's
 * capabilities. The input is never mutated. Annotations the input already has win, so a model can
 * restrict one entity set (say, a custom table that is not searchable) without code changes.
 * `maxTop` and `pageSize` have no term in Core or Capabilities V1; they are accepted so callers
 * can pass one limits object and so cached documents key on every limit.
 */
export function annotateCapabilities(csdl: Readonly<Json>, limits: MetadataLimits): Json {
  const out = structuredClone(csdl) as Json;
  const containerRef = typeof out.$EntityContainer === 'string' ? out.$EntityContainer : '';
  const dot = containerRef.lastIndexOf('.');
  if (dot <= 0) throw new Error(`CSDL $EntityContainer "${containerRef}" is not a qualified name`);
  const schema = out[containerRef.slice(0, dot)];
  const container = isJsonObject(schema) ? schema[containerRef.slice(dot + 1)] : undefined;
  if (!isJsonObject(schema) || !isJsonObject(container)) throw new Error(`CSDL has no entity container ${containerRef}`);

  const setAnnotations = entitySetAnnotations(limits);
  const annotated = withDefaults(container, containerAnnotations());
  for (const [name, child] of Object.entries(annotated)) {
    if (name.startsWith('$') || name.includes('@') || !isJsonObject(child) || child.$Collection !== true) continue;
    annotated[name] = withDefaults(child, Object.assign(structuredClone(setAnnotations), aggregationAnnotations(out, child)));
  }
  schema[containerRef.slice(dot + 1)] = annotated;
  referenceAggregation(out);
  return out;
}
