/**
 * Parses system query options — the top-level query string and the `(...)` options inside `$expand` —
 * into QueryOptions. 4.01: option names are case-insensitive and the `$` prefix is optional.
 * Values arrive with `%3B` and `%25` still encoded (see percent-decode.ts); each option finishes decoding.
 */
import { NotImplementedError, UriError } from '../errors/odata-error';
import { parseApply, parseCompute } from './parse-apply';
import type { ExpandItem, Expr, PathStep, QueryOptions, SearchExpr, SelectItem } from './ast';
import { parseExpression, parseOrderItems, type ExpressionContext } from './parse-expression';
import { parseSearch } from './parse-search';
import { finishDecode } from './percent-decode';
import { Scanner } from './scanner';

export const SUPPORTED_OPTIONS = [
  'filter', 'select', 'expand', 'orderby', 'top', 'skip', 'count', 'search', 'levels', 'skiptoken', 'format', 'id', 'apply', 'compute',
] as const;
/** Valid OData this service does not implement yet: answered with 501 (see README). */
export const UNSUPPORTED_OPTIONS = ['index', 'schemaversion', 'deltatoken'] as const;

type OptionName = (typeof SUPPORTED_OPTIONS)[number];

export function canonicalOptionName(raw: string): { name: OptionName } | { unsupported: string } | { unknown: true } | { custom: true } {
  const dollar = raw.startsWith('$');
  const bare = (dollar ? raw.slice(1) : raw).toLowerCase();
  if ((SUPPORTED_OPTIONS as readonly string[]).includes(bare)) return { name: bare as OptionName };
  if ((UNSUPPORTED_OPTIONS as readonly string[]).includes(bare)) return { unsupported: '$' + bare };
  return dollar ? { unknown: true } : { custom: true };
}

export interface OptionsContext {
  readonly aliases: ReadonlyMap<string, string>;
  /** true inside $expand(...), where $skiptoken/$format/$id are not allowed */
  readonly nested: boolean;
}

/** Parses one option's value (see the module comment on decoding) into `target`. */
export function parseOption(target: Record<string, unknown>, name: OptionName, rawValue: string, ctx: OptionsContext, where: string): void {
  if (target[name] !== undefined) throw new UriError('DUPLICATE_QUERY_OPTION', `$${name} is given more than once`, { target: where });
  // `$expand` splits its nested options first and `$search` tells `;` from `%3B`: both decode later.
  const value = name === 'expand' || name === 'search' ? rawValue : finishDecode(rawValue);
  const s = new Scanner(value, where);
  // OData ABNF: `EQ` is followed directly by the expression or item, without whitespace.
  if (EXPRESSION_OPTIONS.has(name) && /^\s/.test(value)) s.fail(`unexpected whitespace after '$${name}='`);
  const exprCtx = expressionContext(ctx);
  switch (name) {
    case 'filter': target.filter = whole(s, () => parseExpression(s, exprCtx)); return;
    case 'orderby': target.orderby = whole(s, () => parseOrderItems(s, exprCtx)); return;
    case 'select': target.select = whole(s, () => select(s)); return;
    case 'expand': target.expand = whole(s, () => expand(s, ctx)); return;
    case 'search': target.search = parseSearch(value, where); return;
    case 'apply':
      if (ctx.nested) throw new NotImplementedError('$apply inside $expand', { target: where });
      target.apply = parseApply(value, exprCtx, where);
      return;
    case 'compute': target.compute = parseCompute(value, exprCtx, where); return;
    case 'top': case 'skip': target[name] = nonNegativeInteger(value, where); return;
    case 'count':
      if (value !== 'true' && value !== 'false') throw invalid(where, `$count must be true or false, got '${value}'`);
      target.count = value === 'true';
      return;
    case 'levels':
      // OData ABNF `levels`: `max` or a positive integer without leading zeros.
      if (value === 'max') target.levels = 'max';
      else if (/^[1-9]\d{0,14}$/.test(value)) target.levels = Number(value);
      else throw invalid(where, `$levels must be a positive integer or max, got '${value}'`);
      return;
    case 'skiptoken': case 'format': case 'id':
      if (ctx.nested) throw invalid(where, `$${name} is not allowed inside $expand`);
      target[name] = value;
      return;
    default: {
      const never: never = name;
      throw new Error(`unhandled option ${String(never)}`);
    }
  }
}

const EXPRESSION_OPTIONS: ReadonlySet<string> = new Set(['filter', 'orderby', 'select', 'expand', 'apply', 'compute']);

export function expressionContext(ctx: OptionsContext): ExpressionContext {
  const self: ExpressionContext = {
    aliases: ctx.aliases, variables: [], depth: 0,
    parseAlias: (alias, text) => {
      const s = new Scanner(text, alias);
      return whole(s, () => {
        s.skipSpaces();
        if (s.peek() === '[' || (s.peek() === '(' && /,/.test(text))) {
          // a list value for `in @alias`
          const close = s.peek() === '[' ? ']' : ')';
          s.pos++;
          const args: Expr[] = [];
          do {
            s.skipSpaces();
            if (s.peek() === '"') {
              const m = /^"(?:[^"\\]|\\.)*"/.exec(s.rest())!;
              s.pos += m[0].length;
              args.push({ kind: 'literal', literal: { type: 'Edm.String', value: JSON.parse(m[0]) as string }, position: s.pos });
            } else args.push(parseExpression(s, self));
          } while (s.accept(','));
          s.expect(close);
          return { kind: 'call', name: '$list', args, position: 0 } as Expr;
        }
        return parseExpression(s, self);
      });
    },
  };
  return self;
}

function whole<T>(s: Scanner, parse: () => T): T {
  const result = parse();
  s.skipSpaces();
  if (!s.done) s.fail(`unexpected '${s.rest().slice(0, 20)}'`);
  return result;
}

function invalid(where: string, message: string): UriError {
  return new UriError('INVALID_QUERY_OPTION', message, { target: where });
}

function nonNegativeInteger(value: string, where: string): number {
  if (!/^\d{1,15}$/.test(value)) throw invalid(where, `${where} must be a non-negative integer, got '${value}'`);
  return Number(value);
}

function path(s: Scanner): PathStep[] {
  const steps: PathStep[] = [];
  do {
    const position = s.pos;
    if (s.peek() === '*') {
      s.pos++;
      steps.push({ name: '*', position });
      break;
    }
    const name = s.peek() === '$' ? (s.pos++, '$' + s.identifier()) : s.qualifiedName();
    if (name.endsWith('.') ) s.fail('bad name');
    // `Crm.*` selects all operations of a namespace
    if (s.peek() === '.' && s.peek(1) === '*') {
      s.pos += 2;
      steps.push({ name: name + '.*', position });
      break;
    }
    steps.push({ name, position });
  } while (s.peek() === '/' && s.peek(1) !== '$' ? (s.pos++, true) : false);
  return steps;
}

function select(s: Scanner): SelectItem[] {
  const items: SelectItem[] = [];
  do {
    s.skipSpaces();
    if (s.peek() === '*') {
      s.pos++;
      items.push({ kind: 'all' });
      continue;
    }
    const steps = path(s);
    if (s.peek() === '(') s.fail('select options on a property are not supported');
    items.push({ kind: 'path', segments: steps });
  } while (s.accept(','));
  return items;
}

function expand(s: Scanner, ctx: OptionsContext): ExpandItem[] {
  const items: ExpandItem[] = [];
  do {
    s.skipSpaces();
    const start = s.pos;
    let itemPath: PathStep[] | '*';
    if (s.peek() === '*') {
      s.pos++;
      itemPath = '*';
    } else itemPath = path(s);
    let suffix: ExpandItem['suffix'];
    if (s.accept('/$ref')) suffix = '$ref';
    else if (s.accept('/$count')) suffix = '$count';
    if (itemPath === '*' && suffix === '$count') s.fail("'*' cannot be followed by /$count", start);
    let options: QueryOptions = {};
    if (s.peek() === '(') {
      s.pos++;
      options = nestedOptions(s, ctx, start, allowedNested(itemPath === '*', suffix));
    }
    items.push({ path: itemPath, suffix, options });
  } while (s.accept(','));
  return items;
}

/**
 * The options an expand item may carry (OData ABNF `expandPath`): after `/$count` only `$filter` and
 * `$search`; after `/$ref` those plus `$orderby`, `$skip`, `$top`, `$count`; `*` only `$levels`.
 * Undefined: any option.
 */
function allowedNested(star: boolean, suffix: ExpandItem['suffix']): readonly string[] | undefined {
  if (star) return suffix ? [] : ['levels'];
  if (suffix === '$count') return ['filter', 'search'];
  if (suffix === '$ref') return ['filter', 'search', 'orderby', 'skip', 'top', 'count'];
  return undefined;
}

interface NestedOption {
  readonly name: string;
  readonly value: string;
  readonly position: number;
  readonly valueStart: number;
}

/** `$select=..;$filter=..;@a=..` inside `(...)`, after the `(`. */
function nestedOptions(s: Scanner, ctx: OptionsContext, itemStart: number, allowed: readonly string[] | undefined): QueryOptions {
  const raw: NestedOption[] = [];
  do {
    s.skipSpaces();
    const position = s.pos;
    const m = /^[$@]?[A-Za-z_][A-Za-z0-9_]*/.exec(s.rest());
    if (!m || s.text[position + m[0].length] !== '=') s.fail('expected a query option inside $expand(...)');
    s.pos += m[0].length + 1;
    const valueStart = s.pos;
    raw.push({ name: m[0], position, valueStart, value: nestedValue(s, itemStart) });
  } while (acceptSeparator(s));
  s.expect(')');
  // 4.01 allows parameter aliases among the nested options (ABNF `expandOption`); they are in scope
  // for their sibling options and shadow aliases of the same name from outside.
  const aliases = new Map(ctx.aliases);
  const local = raw.filter((o) => o.name.startsWith('@'));
  for (const o of local) {
    if (local.filter((other) => other.name === o.name).length > 1) {
      throw new UriError('DUPLICATE_QUERY_OPTION', `Parameter alias ${o.name} is given more than once`, { target: `${s.where} ${o.name}` });
    }
    aliases.set(o.name, finishDecode(o.value));
  }
  const target: Record<string, unknown> = {};
  for (const o of raw) {
    if (o.name.startsWith('@')) continue;
    const name = canonicalOptionName(o.name);
    const where = `${s.where} ${o.name}`;
    if ('unknown' in name || 'custom' in name) throw new UriError('UNKNOWN_QUERY_OPTION', `Unknown query option '${o.name}' inside $expand`, { target: where });
    if ('unsupported' in name) throw new UriError('NOT_IMPLEMENTED', `${name.unsupported} is not supported yet`, { target: where });
    if (allowed && !allowed.includes(name.name)) s.fail(`$${name.name} is not allowed on this expand item`, o.position);
    try {
      parseOption(target, name.name, o.value, { aliases, nested: true }, where);
    } catch (err) {
      if (err instanceof UriError && err.position !== undefined) {
        const position = o.valueStart + err.position;
        throw new UriError(err.code, `${err.message.replace(/ at position \d+ in .*$/, '')} at position ${position} in ${s.where}`, { target: s.where, position });
      }
      throw err;
    }
  }
  return target as QueryOptions;
}

/**
 * OData ABNF: `SEMI = ";" / "%3B"`, so clients that percent-encode a whole `$expand` value still separate
 * its options. An encoded `;` separates only where an option (`name=`) follows; elsewhere it is data,
 * as in `$search=a%3Bb`.
 */
const ENCODED_SEPARATOR = /^%3B(?=[$@]?[A-Za-z_][A-Za-z0-9_]*=)/;

function acceptSeparator(s: Scanner): boolean {
  if (s.accept(';')) return true;
  const m = ENCODED_SEPARATOR.exec(s.rest());
  if (m) s.pos += m[0].length;
  return m !== null;
}

/** One nested option's value: up to a separator or the closing `)` at depth 0, skipping quoted strings. */
function nestedValue(s: Scanner, itemStart: number): string {
  const start = s.pos;
  let depth = 0;
  while (!s.done) {
    const c = s.peek();
    if (c === "'") { s.quoted(); continue; }
    if (c === '(') depth++;
    else if (c === ')') { if (depth === 0) break; depth--; }
    else if (depth === 0 && (c === ';' || ENCODED_SEPARATOR.test(s.rest()))) break;
    s.pos++;
  }
  if (s.done) s.fail("expected ')' to close the $expand options", itemStart);
  return s.text.slice(start, s.pos);
}

export type { SearchExpr };
