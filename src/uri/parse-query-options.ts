/**
 * Parses system query options — the top-level query string and the `(...)` options inside `$expand` —
 * into QueryOptions. 4.01: option names are case-insensitive and the `$` prefix is optional.
 */
import { UriError } from '../errors/odata-error';
import type { ExpandItem, Expr, OrderItem, PathStep, QueryOptions, SearchExpr, SelectItem } from './ast';
import { parseExpression, type ExpressionContext } from './parse-expression';
import { parseSearch } from './parse-search';
import { Scanner } from './scanner';

export const SUPPORTED_OPTIONS = [
  'filter', 'select', 'expand', 'orderby', 'top', 'skip', 'count', 'search', 'levels', 'skiptoken', 'format', 'id',
] as const;
/** Valid OData this service does not implement yet: answered with 501 (see README). */
export const UNSUPPORTED_OPTIONS = ['apply', 'compute', 'index', 'schemaversion', 'deltatoken'] as const;

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

/** Parses one option's value into `target`. */
export function parseOption(target: Record<string, unknown>, name: OptionName, value: string, ctx: OptionsContext, where: string): void {
  if (target[name] !== undefined) throw new UriError('DUPLICATE_QUERY_OPTION', `$${name} is given more than once`, { target: where });
  const s = new Scanner(value, where);
  const exprCtx = expressionContext(ctx);
  switch (name) {
    case 'filter': target.filter = whole(s, () => parseExpression(s, exprCtx)); return;
    case 'orderby': target.orderby = whole(s, () => orderby(s, exprCtx)); return;
    case 'select': target.select = whole(s, () => select(s)); return;
    case 'expand': target.expand = whole(s, () => expand(s, ctx)); return;
    case 'search': target.search = parseSearch(value, where); return;
    case 'top': case 'skip': target[name] = nonNegativeInteger(value, where); return;
    case 'count':
      if (value !== 'true' && value !== 'false') throw invalid(where, `$count must be true or false, got '${value}'`);
      target.count = value === 'true';
      return;
    case 'levels':
      if (value === 'max') target.levels = 'max';
      else target.levels = nonNegativeInteger(value, where);
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

function orderby(s: Scanner, ctx: ExpressionContext): OrderItem[] {
  const items: OrderItem[] = [];
  do {
    const expr = parseExpression(s, ctx);
    let descending = false;
    if (s.acceptWord('desc')) descending = true;
    else s.acceptWord('asc');
    items.push({ expr, descending });
  } while (s.accept(','));
  return items;
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
    let options: QueryOptions = {};
    if (s.peek() === '(') {
      s.pos++;
      options = nestedOptions(s, ctx, start);
    }
    items.push({ path: itemPath, suffix, options });
  } while (s.accept(','));
  return items;
}

/** `$select=..;$filter=..` inside `(...)`: split on `;` at depth 0, honouring quotes. */
function nestedOptions(s: Scanner, ctx: OptionsContext, itemStart: number): QueryOptions {
  const target: Record<string, unknown> = {};
  for (;;) {
    s.skipSpaces();
    const nameStart = s.pos;
    const m = /^\$?[A-Za-z]+/.exec(s.rest());
    if (!m || s.text[nameStart + m[0].length] !== '=') s.fail('expected a query option inside $expand(...)');
    s.pos += m[0].length + 1;
    const valueStart = s.pos;
    let depth = 0;
    while (!s.done) {
      const c = s.peek();
      if (c === "'") { s.quoted(); continue; }
      if (c === '(') depth++;
      else if (c === ')') { if (depth === 0) break; depth--; }
      else if (c === ';' && depth === 0) break;
      s.pos++;
    }
    if (s.done) s.fail("expected ')' to close the $expand options", itemStart);
    const value = s.text.slice(valueStart, s.pos);
    const name = canonicalOptionName(m[0]);
    const where = `${s.where} ${m[0]}`;
    if ('unknown' in name || 'custom' in name) throw new UriError('UNKNOWN_QUERY_OPTION', `Unknown query option '${m[0]}' inside $expand`, { target: where });
    if ('unsupported' in name) throw new UriError('NOT_IMPLEMENTED', `${name.unsupported} is not supported yet`, { target: where });
    try {
      parseOption(target, name.name, value, { ...ctx, nested: true }, where);
    } catch (err) {
      if (err instanceof UriError && err.position !== undefined) {
        throw new UriError(err.code, `${err.message.replace(/ at position \d+ in .*$/, '')} at position ${valueStart + err.position} in ${s.where}`, { target: s.where, position: valueStart + err.position });
      }
      throw err;
    }
    if (s.accept(';')) continue;
    s.expect(')');
    return target as QueryOptions;
  }
}

export type { SearchExpr };
