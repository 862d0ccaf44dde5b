/**
 * Percent-decoding of URL components (RFC 3986 §2.1). `+` stays a plus sign: it is not a space in a
 * URL path or an OData query (OData URL Conventions 4.01 §2).
 *
 * Query option values are decoded in two steps. `decodeKeepingSemicolons` decodes everything except
 * `%3B` and `%25`, so the parsers of `$expand(...)` options and `$search` can still tell a separating
 * `;` from an encoded one (`$expand=A($search=a%3Bb)` holds one option). `finishDecode` then decodes
 * what was kept. `%25` is kept too, or `%253B` would turn into a `;` in the second step.
 */
import { UriError } from '../errors/odata-error';

export function decodeComponent(text: string, where: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new UriError('SYNTAX_ERROR', `Malformed percent-encoding in ${where}`, { target: where });
  }
}

const KEPT = /(%25|%3B)/i;

/** Decodes all but `%3B` and `%25`, which come back upper-cased. */
export function decodeKeepingSemicolons(text: string, where: string): string {
  return text
    .split(KEPT)
    .map((part, i) => (i % 2 === 1 ? part.toUpperCase() : decodeComponent(part, where)))
    .join('');
}

/** Second step after `decodeKeepingSemicolons`: only `%3B` and `%25` remain encoded. */
export function finishDecode(text: string): string {
  return text.replace(/%3B|%25/g, (m) => (m === '%3B' ? ';' : '%'));
}
