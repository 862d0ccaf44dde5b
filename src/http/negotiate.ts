/**
 * Content negotiation (OData Protocol §8.2.1, JSON Format §3): from `$format` or `Accept` to the
 * response media type, or a 406 when the service cannot produce what the client accepts.
 */
import { ODataError } from '../errors/odata-error';
import type { JsonFormat, MetadataLevel } from '../serialize/format';

interface MediaRange {
  readonly type: string;
  readonly params: Record<string, string>;
  readonly q: number;
}

export function parseAccept(header: string): MediaRange[] {
  return header.split(',').map((part) => {
    const [type, ...rest] = part.split(';').map((s) => s.trim());
    const params: Record<string, string> = {};
    for (const p of rest) {
      const eq = p.indexOf('=');
      if (eq > 0) params[p.slice(0, eq).trim().toLowerCase()] = p.slice(eq + 1).trim().replace(/^"|"$/g, '');
    }
    const q = params.q !== undefined ? Number(params.q) : 1;
    return { type: type.toLowerCase(), params, q: Number.isFinite(q) ? q : 0 };
  }).filter((r) => r.type !== '' && r.q > 0);
}

function matches(range: string, type: string): boolean {
  if (range === '*/*') return true;
  if (range.endsWith('/*')) return type.startsWith(range.slice(0, -1));
  return range === type;
}

/**
 * The OData 3 spelling of the metadata level (`application/json;odata=minimalmetadata`), which Power
 * Query sends beside the OData 4 one; `verbose` has no OData 4 form.
 */
const VERSION_3_METADATA: Readonly<Record<string, string>> = { minimalmetadata: 'minimal', fullmetadata: 'full', nometadata: 'none' };

function jsonFromParams(params: Record<string, string>, where: string): JsonFormat {
  const version3 = params.odata === undefined ? undefined : VERSION_3_METADATA[params.odata.toLowerCase()] ?? params.odata;
  const metadata = (params['odata.metadata'] ?? params.metadata ?? version3 ?? 'minimal').toLowerCase();
  if (!['minimal', 'full', 'none'].includes(metadata)) throw new ODataError('NOT_ACCEPTABLE', `odata.metadata=${metadata} is not available (${where})`);
  const ieee = (params['ieee754compatible'] ?? 'false').toLowerCase() === 'true';
  return { metadata: metadata as MetadataLevel, ieee754: ieee };
}

function formatParams(format: string): { type: string; params: Record<string, string> } {
  const [range] = parseAccept(format.replace(/^json$/i, 'application/json').replace(/^xml$/i, 'application/xml'));
  if (!range) throw new ODataError('NOT_ACCEPTABLE', `$format=${format} is not available`, { target: '$format' });
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(range.params)) params[k.toLowerCase()] = v;
  return { type: range.type, params };
}

/** A data response (entities, collections, properties): always JSON. */
export function negotiateJson(formatOption: string | undefined, accept: string | undefined): JsonFormat {
  if (formatOption !== undefined) {
    const { type, params } = formatParams(formatOption);
    if (type !== 'application/json') throw new ODataError('NOT_ACCEPTABLE', `$format=${formatOption} is not available; use json`, { target: '$format' });
    return jsonFromParams(params, '$format');
  }
  if (!accept) return { metadata: 'minimal', ieee754: false };
  const ranges = parseAccept(accept).sort((a, b) => b.q - a.q).filter((r) => matches(r.type, 'application/json'));
  if (ranges.length === 0) throw new ODataError('NOT_ACCEPTABLE', `None of the accepted media types (${accept}) is available; this resource is application/json`);
  // the most preferred JSON range the service can answer (a client may list a level it also accepts in another form)
  let refusal: unknown;
  for (const range of ranges) {
    try {
      return jsonFromParams(range.params, 'Accept');
    } catch (err) {
      refusal ??= err;
    }
  }
  throw refusal;
}

/** `$metadata`: XML unless the client asks for JSON and does not accept XML. */
export function negotiateMetadata(formatOption: string | undefined, accept: string | undefined): 'xml' | 'json' {
  if (formatOption !== undefined) {
    const { type } = formatParams(formatOption);
    if (type === 'application/json') return 'json';
    if (type === 'application/xml' || type === 'text/xml') return 'xml';
    throw new ODataError('NOT_ACCEPTABLE', `$format=${formatOption} is not available for $metadata`, { target: '$format' });
  }
  if (!accept) return 'xml';
  const ranges = parseAccept(accept);
  if (ranges.some((r) => matches(r.type, 'application/xml') || matches(r.type, 'text/xml'))) return 'xml';
  if (ranges.some((r) => matches(r.type, 'application/json'))) return 'json';
  throw new ODataError('NOT_ACCEPTABLE', `$metadata is available as application/xml or application/json, not ${accept}`);
}

/**
 * `$count` and `/$value`: always text/plain. HTTP lets a server answer outside `Accept` (RFC 9110
 * §12.5.1), and clients such as the SAP Cloud SDK send `Accept: application/json` everywhere, so only
 * an explicit exclusion is refused: a `$format` other than text, or `text/plain;q=0`.
 */
export function negotiateText(formatOption: string | undefined, accept: string | undefined): void {
  if (formatOption !== undefined) {
    const { type } = formatParams(formatOption);
    if (!matches(type, 'text/plain')) throw new ODataError('NOT_ACCEPTABLE', `$format=${formatOption} is not available; this resource is text/plain`, { target: '$format' });
  }
  if (accept && excludesTextPlain(accept)) {
    throw new ODataError('NOT_ACCEPTABLE', `This resource is text/plain, which ${accept} excludes`, { target: 'Accept' });
  }
}

/** Whether the most specific range that covers text/plain gives it q=0. */
function excludesTextPlain(accept: string): boolean {
  const covering = accept.split(',').flatMap((part) => {
    const [type, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    if (!type || !matches(type, 'text/plain')) return [];
    const q = params.find((p) => /^q\s*=/.test(p));
    const weight = q === undefined ? 1 : Number(q.slice(q.indexOf('=') + 1).trim());
    return [{ specificity: type === '*/*' ? 0 : type === 'text/*' ? 1 : 2, weight: Number.isFinite(weight) ? weight : 1 }];
  });
  if (covering.length === 0) return false;
  const mostSpecific = Math.max(...covering.map((c) => c.specificity));
  return covering.filter((c) => c.specificity === mostSpecific).every((c) => c.weight === 0);
}
