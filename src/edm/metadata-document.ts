/** Builds the `$metadata` document (CSDL XML or JSON) for a model and its limits, cached per model version. */
import { annotateCapabilities, CAPABILITY_VALUE_TYPES, type MetadataLimits } from './capabilities';
import { renderCsdlJson } from './csdl-json';
import { renderCsdlXml } from './csdl-xml';
import type { EdmModel } from './model';

export type MetadataFormat = 'xml' | 'json';

/** A handful of entries: one model version × two formats, plus the previous model while requests drain. */
const MAX_ENTRIES = 8;
const cache = new Map<string, string>();

function cacheKey(model: EdmModel, limits: MetadataLimits, format: MetadataFormat): string {
  return [model.version, limits.maxTop, limits.maxExpandDepth, limits.pageSize, format].join('|');
}

/**
 * The `$metadata` body for `model` with the service's capabilities annotated (OData Protocol §11.1.2).
 * Rendering walks the whole model, so the string is cached; `model.version` changes whenever the
 * model is replaced at run time (custom fields, custom tables), which retires the old entries.
 */
export function metadataDocument(model: EdmModel, limits: MetadataLimits, format: MetadataFormat): string {
  const key = cacheKey(model, limits, format);
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const annotated = annotateCapabilities(model.csdl, limits);
  const body = format === 'xml' ? renderCsdlXml(annotated, { valueTypes: CAPABILITY_VALUE_TYPES }) : renderCsdlJson(annotated);
  if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value as string);
  cache.set(key, body);
  return body;
}

/** Empties the cache (tests). */
export function clearMetadataCache(): void {
  cache.clear();
}
