/**
 * Parses `$apply` (OData Extension for Data Aggregation 4.0, §3 and its ABNF) and `$compute` into the
 * Transformation / ComputeItem AST. Transformations are separated by `/` at the top level; their
 * arguments reuse the common expression parser. Nothing here knows the model.
 *
 * Errors name the position in the option's value: an unknown transformation is a syntax error (400);
 * one the extension defines but this service does not implement answers 501 naming it.
 */
import { NotImplementedError } from '../errors/odata-error';
import type { AggregateItem, ComputeItem, PathStep, Transformation } from './ast';
import { parseExpression, parseOrderItems, type ExpressionContext } from './parse-expression';
import { parseSearch } from './parse-search';
import { Scanner } from './scanner';

/** Transformations of the extension this service does not implement (answered with 501). */
const NOT_IMPLEMENTED = new Set(['toppercent', 'bottompercent', 'concat', 'expand', 'nest', 'join', 'outerjoin', 'ancestors', 'descendants', 'traverse']);

/** Canonical functions: `name(` starts a call, any other `Nav(` in an aggregate starts a navigation's aggregates. */
const CANONICAL_FUNCTIONS = new Set([
  'contains', 'startswith', 'endswith', 'length', 'indexof', 'substring', 'tolower', 'toupper', 'trim', 'concat', 'year', 'month',
  'day', 'hour', 'minute', 'second', 'fractionalseconds', 'date', 'time', 'now', 'totaloffsetminutes', 'mindatetime', 'maxdatetime',
  'round', 'floor', 'ceiling', 'cast', 'isof', 'matchespattern', 'case',
]);

export function parseApply(text: string, ctx: ExpressionContext, where: string): Transformation[] {
  const s = new Scanner(text, where);
  const result = sequence(s, ctx);
  s.skipSpaces();
  if (!s.done) s.fail(`expected '/' or the end of ${where}, found '${s.rest().slice(0, 20)}'`);
  return result;
}

export function parseCompute(text: string, ctx: ExpressionContext, where: string): ComputeItem[] {
  const s = new Scanner(text, where);
  const items = computeItems(s, ctx);
  s.skipSpaces();
  if (!s.done) s.fail(`unexpected '${s.rest().slice(0, 20)}'`);
  return items;
}

function sequence(s: Scanner, ctx: ExpressionContext): Transformation[] {
  const out: Transformation[] = [];
  do out.push(transformation(s, ctx)); while (s.accept('/'));
  return out;
}

function transformation(s: Scanner, ctx: ExpressionContext): Transformation {
  s.skipSpaces();
  const position = s.pos;
  if (!s.isIdentifierStart()) s.fail('expected a transformation', position);
  const name = s.qualifiedName();
  if (name === 'identity') return { kind: 'identity', position };
  if (s.peek() !== '(') s.fail(`expected '(' after '${name}'`);
  s.pos++;
  let t: Transformation;
  switch (name) {
    case 'aggregate': t = { kind: 'aggregate', items: aggregateItems(s, ctx), position }; break;
    case 'groupby': t = groupby(s, ctx, position); break;
    case 'filter': t = { kind: 'filter', expr: parseExpression(s, ctx), position }; break;
    case 'compute': t = { kind: 'compute', items: computeItems(s, ctx), position }; break;
    case 'orderby': t = { kind: 'orderby', items: parseOrderItems(s, ctx), position }; break;
    case 'top': case 'skip': {
      s.skipSpaces();
      const m = /^\d{1,15}/.exec(s.rest());
      if (!m) s.fail(`${name}() needs a non-negative integer`);
      s.pos += m[0].length;
      t = { kind: name, count: Number(m[0]), position };
      break;
    }
    case 'search': t = { kind: 'search', search: parseSearch(balanced(s, position), `${s.where} search()`), position }; break;
    case 'topcount': case 'bottomcount': case 'topsum': case 'bottomsum': {
      const limit = parseExpression(s, ctx);
      s.expect(',');
      t = { kind: name, limit, expr: parseExpression(s, ctx), position };
      break;
    }
    default:
      if (NOT_IMPLEMENTED.has(name)) {
        balanced(s, position);
        s.pos++;
        return { kind: 'not-implemented', name, position };
      }
      s.fail(`unknown transformation '${name}'`, position);
  }
  s.expect(')');
  return t;
}

function groupby(s: Scanner, ctx: ExpressionContext, position: number): Transformation {
  s.expect('(');
  const keys: PathStep[][] = [];
  do {
    s.skipSpaces();
    const at = s.pos;
    if (/^rollup\s*\(/.test(s.rest())) throw new NotImplementedError(`groupby with rollup (at position ${at} in ${s.where})`, { target: s.where });
    keys.push(path(s));
  } while (s.accept(','));
  s.expect(')');
  const then = s.accept(',') ? sequence(s, ctx) : [];
  return { kind: 'groupby', keys, then, position };
}

function path(s: Scanner): PathStep[] {
  const steps: PathStep[] = [];
  do {
    s.skipSpaces();
    const position = s.pos;
    steps.push({ name: s.qualifiedName(), position });
  } while (s.peek() === '/' && /[A-Za-z_]/.test(s.peek(1)) ? (s.pos++, true) : false);
  return steps;
}

function aggregateItems(s: Scanner, ctx: ExpressionContext): AggregateItem[] {
  const items: AggregateItem[] = [];
  do items.push(aggregateItem(s, ctx)); while (s.accept(','));
  return items;
}

function aggregateItem(s: Scanner, ctx: ExpressionContext): AggregateItem {
  s.skipSpaces();
  const position = s.pos;
  if (s.rest().startsWith('$count')) {
    s.pos += '$count'.length;
    return { kind: 'count', alias: alias(s), position };
  }
  const nav = /^([A-Za-z_][A-Za-z0-9_]*(?:\/[A-Za-z_][A-Za-z0-9_]*)*)\(/.exec(s.rest());
  if (nav && !CANONICAL_FUNCTIONS.has(nav[1].toLowerCase())) {
    const steps = path(s);
    s.expect('(');
    const items = aggregateItems(s, ctx);
    s.expect(')');
    return { kind: 'navigation', path: steps, items, position };
  }
  const expr = parseExpression(s, ctx);
  // `Products/$count as N` (CS03): the number of related entities
  if (expr.kind === 'path' && expr.segments.length > 1 && expr.segments[expr.segments.length - 1].name === '$count' && s.acceptWord('as')) {
    const items: AggregateItem[] = [{ kind: 'count', alias: s.identifier(), position }];
    return { kind: 'navigation', path: expr.segments.slice(0, -1), items, flat: true, position };
  }
  if (!s.acceptWord('with')) {
    if (s.peek() === ' ' || s.done || s.peek() === ',' || s.peek() === ')') {
      throw new NotImplementedError(`custom aggregates (an aggregate expression without 'with', at position ${position} in ${s.where})`, { target: s.where });
    }
    s.fail("expected 'with' after the aggregated expression");
  }
  s.skipSpaces();
  const methodAt = s.pos;
  const method = s.qualifiedName();
  let from = false;
  while (s.acceptWord('from')) {
    from = true;
    path(s);
    if (s.acceptWord('with')) s.qualifiedName();
  }
  if (!['sum', 'min', 'max', 'average', 'countdistinct'].includes(method) && !method.includes('.')) s.fail(`unknown aggregation method '${method}'`, methodAt);
  return { kind: 'method', expr, method, alias: alias(s), from, position };
}

function alias(s: Scanner): string {
  if (!s.acceptWord('as')) s.fail("expected 'as' and an alias");
  return s.identifier();
}

function computeItems(s: Scanner, ctx: ExpressionContext): ComputeItem[] {
  const items: ComputeItem[] = [];
  do {
    s.skipSpaces();
    const position = s.pos;
    const expr = parseExpression(s, ctx);
    items.push({ expr, alias: alias(s), position });
  } while (s.accept(','));
  return items;
}

/** The text up to the `)` that closes an argument list (quoted strings skipped), leaving the scanner on it. */
function balanced(s: Scanner, start: number): string {
  const from = s.pos;
  let depth = 0;
  while (!s.done) {
    const c = s.peek();
    if (c === "'" || c === '"') {
      const quote = c;
      s.pos++;
      while (!s.done && s.peek() !== quote) s.pos++;
      s.pos++;
      continue;
    }
    if (c === '(') depth++;
    else if (c === ')') {
      if (depth === 0) return s.text.slice(from, s.pos);
      depth--;
    }
    s.pos++;
  }
  return s.fail("expected ')'", start);
}
