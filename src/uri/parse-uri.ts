/**
 * Entry point of uri/: turns a request's path (below the service root) and raw query string into a
 * UriRequest. Percent-decoding happens here (see percent-decode.ts); `+` is a literal plus, not a space.
 */
import { UriError } from '../errors/odata-error';
import type { KeyPredicate, Literal, PathSegment, QueryOptions, UriRequest } from './ast';
import { canonicalOptionName, parseOption } from './parse-query-options';
import { decodeComponent as decode, decodeKeepingSemicolons, finishDecode } from './percent-decode';
import { Scanner } from './scanner';

const SPECIAL_SEGMENTS = new Set(['$count', '$value', '$ref', '$metadata', '$batch', '$entity', '$all', '$crossjoin', '$root', '$each', '$filter', '$query']);
/** OData URL Conventions 4.01 §4.4, §4.7, §4.8: nothing may follow these segments. */
const FINAL_SEGMENTS = new Set(['$count', '$value', '$ref']);

/**
 * The parse of a URL is a function of its text alone (it does not look at the model), so the parse
 * of a text seen recently is used again: integrations repeat the same URLs (a change set of POSTs
 * to `Notes`, a dashboard's refresh). Only successful parses are kept, least recently used dropped.
 */
export function parseUri(pathBelowRoot: string, rawQuery: string): UriRequest {
  const text = rawQuery === '' ? pathBelowRoot : `${pathBelowRoot}?${rawQuery}`;
  const cached = recentParses.get(text);
  if (cached !== undefined) {
    recentParses.delete(text);
    recentParses.set(text, cached);
    return cached;
  }
  const { options, unsupported, custom, aliases } = parseQueryString(rawQuery);
  const parsed: UriRequest = { segments: parseResourcePath(pathBelowRoot, aliases), options, unsupportedOptions: unsupported, customOptions: custom };
  if (text.length <= MAX_CACHED_URL_LENGTH) {
    if (recentParses.size >= MAX_CACHED_PARSES) recentParses.delete(recentParses.keys().next().value as string);
    recentParses.set(text, parsed);
  }
  return parsed;
}

const recentParses = new Map<string, UriRequest>();
const MAX_CACHED_PARSES = 1000;
/** Longer URLs (a long $filter) are parsed each time rather than held. */
const MAX_CACHED_URL_LENGTH = 2048;

export interface ParsedQuery {
  options: QueryOptions;
  unsupported: string[];
  custom: Map<string, string>;
  /** parameter aliases (`@p`), decoded */
  aliases: Map<string, string>;
}

export function parseQueryString(rawQuery: string): ParsedQuery {
  // RFC 3986 §3.4: a raw '#' ends the query, so one inside it means a missing %23.
  const hash = rawQuery.indexOf('#');
  if (hash >= 0) throw new UriError('SYNTAX_ERROR', `Unencoded '#' at position ${hash} of the query string (use %23)`, { target: 'query string', position: hash });
  const pairs: [string, string][] = [];
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = decode(eq < 0 ? part : part.slice(0, eq), 'query string');
    const value = eq < 0 ? '' : decodeKeepingSemicolons(part.slice(eq + 1), name);
    pairs.push([name, value]);
  }
  const aliases = new Map<string, string>();
  for (const [name, value] of pairs) {
    if (name.startsWith('@')) {
      if (aliases.has(name)) throw new UriError('DUPLICATE_QUERY_OPTION', `Parameter alias ${name} is given more than once`, { target: name });
      aliases.set(name, finishDecode(value));
    }
  }
  const target: Record<string, unknown> = {};
  const unsupported: string[] = [];
  const custom = new Map<string, string>();
  for (const [name, value] of pairs) {
    if (name.startsWith('@')) continue;
    const canonical = canonicalOptionName(name);
    if ('unknown' in canonical) throw new UriError('UNKNOWN_QUERY_OPTION', `Unknown system query option '${name}'`, { target: name });
    if ('custom' in canonical) { custom.set(name, finishDecode(value)); continue; }
    if ('unsupported' in canonical) { unsupported.push(canonical.unsupported); continue; }
    parseOption(target, canonical.name, value, { aliases, nested: false }, '$' + canonical.name);
  }
  return { options: target as QueryOptions, unsupported, custom, aliases };
}

/**
 * Splits on `/` outside parentheses and quotes, then parses each segment. `aliases` resolves key values
 * written as parameter aliases (`Categories(@key)?@key=1`).
 */
export function parseResourcePath(rawPath: string, aliases: ReadonlyMap<string, string> = new Map()): PathSegment[] {
  const segments: PathSegment[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  const text = rawPath.startsWith('/') ? rawPath.slice(1) : rawPath;
  const offset = rawPath.length - text.length;
  for (let i = 0; i <= text.length; i++) {
    const c = text[i];
    // OData ABNF: `%27` and `'` are the same character in a string literal.
    if (c === "'" || (c === '%' && text.slice(i + 1, i + 3) === '27')) quoted = !quoted;
    else if (quoted && c === '/') {
      // OData URL Conventions 4.01 §2: a '/' inside a key string must be percent-encoded as %2F.
      throw new UriError('SYNTAX_ERROR', `Unencoded '/' inside a string at position ${offset + i} (use %2F)`, { target: 'path', position: offset + i });
    } else if (!quoted && c === '(') depth++;
    else if (!quoted && c === ')') depth--;
    else if ((c === '/' && depth === 0 && !quoted) || i === text.length) {
      const raw = text.slice(start, i);
      if (raw === '' && i === text.length && segments.length > 0) break; // trailing slash
      if (raw === '') {
        if (text.length === 0) break;
        throw new UriError('SYNTAX_ERROR', `Empty path segment at position ${offset + start}`, { target: 'path', position: offset + start });
      }
      const previous = segments[segments.length - 1];
      if (previous && FINAL_SEGMENTS.has(previous.kind)) {
        const slash = offset + start - 1;
        throw new UriError('SYNTAX_ERROR', `Nothing may follow ${previous.kind} (position ${slash})`, { target: 'path', position: slash });
      }
      segments.push(parseSegment(decode(raw, 'path'), offset + start, aliases));
      start = i + 1;
    }
  }
  if (quoted || depth !== 0) throw new UriError('SYNTAX_ERROR', 'Unbalanced parentheses or quotes in the resource path', { target: 'path' });
  return segments;
}

function parseSegment(text: string, position: number, aliases: ReadonlyMap<string, string>): PathSegment {
  if (text.startsWith('$')) {
    const name = text.replace(/\(.*$/, '');
    if (!SPECIAL_SEGMENTS.has(name)) throw new UriError('SYNTAX_ERROR', `Unknown path segment '${text}'`, { target: 'path', position });
    return { kind: name as Exclude<PathSegment['kind'], 'name'>, position };
  }
  const s = new Scanner(text, 'path');
  const name = s.qualifiedName();
  if (s.done) return { kind: 'name', name, position };
  if (s.peek() !== '(') s.fail(`unexpected '${s.rest()}'`);
  // A function call segment `Crm.Fn(p=1)` parses like a named key predicate; plan/ tells them apart.
  s.pos++;
  const key = keyPredicate(s, aliases);
  s.expect(')');
  if (!s.done) s.fail(`unexpected '${s.rest()}' after key predicate`);
  return { kind: 'name', name, key, position };
}

function keyPredicate(s: Scanner, aliases: ReadonlyMap<string, string>): KeyPredicate {
  s.skipSpaces();
  const position = s.pos;
  if (s.peek() === ')') return { kind: 'named', pairs: [] };
  const single = keyValue(s, aliases);
  if (single) return { kind: 'single', value: single, position };
  const pairs: { name: string; value: Literal; position: number }[] = [];
  do {
    const at = s.pos;
    const name = s.identifier();
    s.expect('=');
    const value = keyValue(s, aliases) ?? s.fail(`expected a literal value for key '${name}'`);
    pairs.push({ name, value, position: at });
  } while (s.accept(','));
  return { kind: 'named', pairs };
}

/** A key literal, or a parameter alias whose value is one (OData ABNF `simpleKey`, `keyValuePair`). */
function keyValue(s: Scanner, aliases: ReadonlyMap<string, string>): Literal | undefined {
  s.skipSpaces();
  if (s.peek() !== '@') return s.literal()?.literal;
  const position = s.pos;
  s.pos++;
  const alias = '@' + s.identifier();
  const text = aliases.get(alias) ?? s.fail(`parameter alias ${alias} has no value`, position);
  const value: Scanner = new Scanner(text, alias);
  const literal = value.literal();
  value.skipSpaces();
  if (!literal || !value.done) value.fail(`${alias} must be a literal to serve as a key value`, 0);
  return literal.literal;
}
