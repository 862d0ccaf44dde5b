/**
 * Entry point of uri/: turns a request's path (below the service root) and raw query string into a
 * UriRequest. Percent-decoding happens here, once; `+` is a literal plus (RFC 3986), not a space.
 */
import { UriError } from '../errors/odata-error';
import type { KeyPredicate, Literal, PathSegment, QueryOptions, UriRequest } from './ast';
import { canonicalOptionName, parseOption } from './parse-query-options';
import { Scanner } from './scanner';

const SPECIAL_SEGMENTS = new Set(['$count', '$value', '$ref', '$metadata', '$batch', '$entity', '$all', '$crossjoin', '$root', '$each', '$filter', '$query']);

function decode(text: string, where: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new UriError('SYNTAX_ERROR', `Malformed percent-encoding in ${where}`, { target: where });
  }
}

export function parseUri(pathBelowRoot: string, rawQuery: string): UriRequest {
  const { options, unsupported, custom } = parseQueryString(rawQuery);
  return { segments: parseResourcePath(pathBelowRoot), options, unsupportedOptions: unsupported, customOptions: custom };
}

export function parseQueryString(rawQuery: string): { options: QueryOptions; unsupported: string[]; custom: Map<string, string> } {
  const pairs: [string, string][] = [];
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = decode(eq < 0 ? part : part.slice(0, eq), 'query string');
    const value = eq < 0 ? '' : decode(part.slice(eq + 1), name);
    pairs.push([name, value]);
  }
  const aliases = new Map<string, string>();
  for (const [name, value] of pairs) {
    if (name.startsWith('@')) {
      if (aliases.has(name)) throw new UriError('DUPLICATE_QUERY_OPTION', `Parameter alias ${name} is given more than once`, { target: name });
      aliases.set(name, value);
    }
  }
  const target: Record<string, unknown> = {};
  const unsupported: string[] = [];
  const custom = new Map<string, string>();
  for (const [name, value] of pairs) {
    if (name.startsWith('@')) continue;
    const canonical = canonicalOptionName(name);
    if ('unknown' in canonical) throw new UriError('UNKNOWN_QUERY_OPTION', `Unknown system query option '${name}'`, { target: name });
    if ('custom' in canonical) { custom.set(name, value); continue; }
    if ('unsupported' in canonical) { unsupported.push(canonical.unsupported); continue; }
    parseOption(target, canonical.name, value, { aliases, nested: false }, '$' + canonical.name);
  }
  return { options: target as QueryOptions, unsupported, custom };
}

/** Splits on `/` outside parentheses and quotes, then parses each segment. */
export function parseResourcePath(rawPath: string): PathSegment[] {
  const segments: PathSegment[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  const text = rawPath.startsWith('/') ? rawPath.slice(1) : rawPath;
  const offset = rawPath.length - text.length;
  for (let i = 0; i <= text.length; i++) {
    const c = text[i];
    if (c === "'") quoted = !quoted;
    else if (!quoted && c === '(') depth++;
    else if (!quoted && c === ')') depth--;
    else if ((c === '/' && depth === 0 && !quoted) || i === text.length) {
      const raw = text.slice(start, i);
      if (raw === '' && i === text.length && segments.length > 0) break; // trailing slash
      if (raw === '') {
        if (text.length === 0) break;
        throw new UriError('SYNTAX_ERROR', `Empty path segment at position ${offset + start}`, { target: 'path', position: offset + start });
      }
      segments.push(parseSegment(decode(raw, 'path'), offset + start));
      start = i + 1;
    }
  }
  if (quoted || depth !== 0) throw new UriError('SYNTAX_ERROR', 'Unbalanced parentheses or quotes in the resource path', { target: 'path' });
  return segments;
}

function parseSegment(text: string, position: number): PathSegment {
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
  const key = keyPredicate(s);
  s.expect(')');
  if (!s.done) s.fail(`unexpected '${s.rest()}' after key predicate`);
  return { kind: 'name', name, key, position };
}

function keyPredicate(s: Scanner): KeyPredicate {
  s.skipSpaces();
  const position = s.pos;
  if (s.peek() === ')') return { kind: 'named', pairs: [] };
  const literal = s.literal();
  if (literal) return { kind: 'single', value: literal.literal, position };
  const pairs: { name: string; value: Literal; position: number }[] = [];
  do {
    const at = s.pos;
    const name = s.identifier();
    s.expect('=');
    const value = s.literal();
    if (!value) s.fail(`expected a literal value for key '${name}'`);
    pairs.push({ name, value: value.literal, position: at });
  } while (s.accept(','));
  return { kind: 'named', pairs };
}
