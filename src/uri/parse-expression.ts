/**
 * Parses a common expression ($filter, $orderby items, lambda predicates) into the Expr AST.
 * Operator precedence follows OData URL Conventions 4.01 §5.1.1.16: primary (`/`, calls, `has`, `in`),
 * unary (`-`, `not`), multiplicative, additive, relational, equality, `and`, `or`.
 * Operator and lambda keywords are case-insensitive (`EQ`, `And`): the ABNF spells them as quoted
 * strings, which RFC 5234 §2.3 makes case-insensitive.
 */
import type { BinaryOperator, Expr, OrderItem, PathStep } from './ast';
import type { Scanner } from './scanner';

const LEVELS: readonly (readonly BinaryOperator[])[] = [
  ['or'], ['and'], ['eq', 'ne'], ['gt', 'ge', 'lt', 'le'], ['add', 'sub'], ['mul', 'div', 'divby', 'mod'],
];

export interface ExpressionContext {
  /** parameter aliases (`@p`) from the query string, already decoded */
  readonly aliases: ReadonlyMap<string, string>;
  /** lambda variables in scope */
  readonly variables: readonly string[];
  /** parses an alias value in its own scanner */
  readonly parseAlias: (name: string, text: string) => Expr;
  depth: number;
}

const MAX_DEPTH = 100;

export function parseExpression(s: Scanner, ctx: ExpressionContext): Expr {
  if (++ctx.depth > MAX_DEPTH) s.fail('expression nested too deeply');
  try {
    return binary(s, ctx, 0);
  } finally {
    ctx.depth--;
  }
}

function binary(s: Scanner, ctx: ExpressionContext, level: number): Expr {
  if (level === LEVELS.length) return unary(s, ctx);
  let left = binary(s, ctx, level + 1);
  for (;;) {
    const op = LEVELS[level].find((o) => s.acceptWord(o, { ignoreCase: true }));
    if (!op) return left;
    const position = s.pos - op.length; // errors about the operation point at the operator, not the space before it
    if (!(s.peek() === ' ' || s.peek() === '\t' || s.peek() === '(')) s.fail(`expected a space after '${op}'`);
    const right = binary(s, ctx, level + 1);
    left = { kind: 'binary', op, left, right, position };
  }
}

function unary(s: Scanner, ctx: ExpressionContext): Expr {
  s.skipSpaces();
  const position = s.pos;
  if (s.acceptWord('not', { spaceBefore: false, ignoreCase: true })) {
    return { kind: 'not', operand: unary(s, ctx), position };
  }
  if (s.peek() === '-' && !/[0-9]/.test(s.peek(1)) && !s.rest().startsWith('-INF')) {
    s.pos++;
    return { kind: 'negate', operand: unary(s, ctx), position };
  }
  return postfix(s, ctx, primary(s, ctx));
}

/** `has` and `in` bind tighter than any other binary operator. */
function postfix(s: Scanner, ctx: ExpressionContext, left: Expr): Expr {
  for (;;) {
    if (s.acceptWord('has', { ignoreCase: true })) {
      const position = s.pos - 'has'.length;
      left = { kind: 'binary', op: 'has', left, right: primary(s, ctx), position };
    } else if (s.acceptWord('in', { ignoreCase: true })) {
      const position = s.pos - 'in'.length;
      left = { kind: 'in', left, list: inList(s, ctx), position };
    } else return left;
  }
}

function inList(s: Scanner, ctx: ExpressionContext): Expr[] {
  s.skipSpaces();
  if (s.peek() === '@') {
    const alias = primary(s, ctx);
    return alias.kind === 'call' && alias.name === '$list' ? [...alias.args] : [alias];
  }
  const close = s.accept('(') ? ')' : s.accept('[') ? ']' : s.fail("expected '(' after 'in'");
  const items: Expr[] = [];
  if (s.accept(close)) return items;
  if (close === ']') {
    do {
      s.skipSpaces();
      items.push(s.peek() === '"' ? jsonString(s) : parseExpression(s, ctx));
    } while (s.accept(','));
    s.expect(close);
    return items;
  }
  // OData ABNF `listExpr`: a list of two or more items holds primitive literals only. A single
  // parenthesised operand is a `parenExpr`, so `FirstName in (FirstName)` stays valid.
  items.push(parseExpression(s, ctx));
  while (s.accept(',')) {
    if (items[0].kind !== 'literal') s.fail("a list right of 'in' may hold literals only", s.pos - 1);
    s.skipSpaces();
    const at = s.pos;
    const item = parseExpression(s, ctx);
    if (item.kind !== 'literal') s.fail("a list right of 'in' may hold literals only", at);
    items.push(item);
  }
  s.expect(')');
  return items;
}

function jsonString(s: Scanner): Expr {
  const position = s.pos;
  const m = /^"(?:[^"\\]|\\.)*"/.exec(s.rest());
  if (!m) s.fail('invalid JSON string');
  s.pos += m[0].length;
  return { kind: 'literal', literal: { type: 'Edm.String', value: JSON.parse(m[0]) as string }, position };
}

function primary(s: Scanner, ctx: ExpressionContext): Expr {
  s.skipSpaces();
  const position = s.pos;
  if (s.done) s.fail('unexpected end of expression');
  if (s.accept('(')) {
    const inner = parseExpression(s, ctx);
    s.skipSpaces();
    if (s.peek() === ',') s.fail("a list is only allowed right of 'in'");
    s.expect(')');
    return inner;
  }
  if (s.peek() === '@') {
    s.pos++;
    const name = s.identifier();
    const text = ctx.aliases.get('@' + name);
    if (text === undefined) s.fail(`parameter alias @${name} has no value`, position);
    return ctx.parseAlias('@' + name, text);
  }
  const literal = s.literal();
  if (literal) return { kind: 'literal', literal: literal.literal, position: literal.position };
  if (s.peek() === '$') {
    if (s.rest().startsWith('$it') || s.rest().startsWith('$this')) return memberPath(s, ctx);
    if (s.rest().startsWith('$root')) s.fail('$root is not supported', position);
    s.fail(`unexpected '${s.rest().slice(0, 8)}'`);
  }
  if (!s.isIdentifierStart()) s.fail(`unexpected '${s.peek()}'`);
  // A function call: identifier immediately followed by '('.
  const save = s.pos;
  const name = s.qualifiedName();
  if (s.peek() === '(' && !ctx.variables.includes(name)) {
    // OData URL Conventions 4.01 §5.1.1.13: any/all apply to a collection path, never stand alone.
    if (isLambdaKeyword(name)) s.fail(`'${name}' needs a collection path before it`, position);
    s.pos++;
    const args: Expr[] = [];
    if (!s.accept(')')) {
      do args.push(parseExpression(s, ctx)); while (s.accept(','));
      s.expect(')');
    }
    return { kind: 'call', name, args, position };
  }
  s.pos = save;
  return memberPath(s, ctx);
}

function memberPath(s: Scanner, ctx: ExpressionContext): Expr {
  const position = s.pos;
  const segments: PathStep[] = [];
  for (;;) {
    const at = s.pos;
    const name = s.peek() === '$' ? '$' + (s.pos++, s.identifier()) : s.qualifiedName();
    if (isLambdaKeyword(name) && segments.length > 0 && s.peek() === '(') {
      return lambda(s, ctx, name.toLowerCase() as 'any' | 'all', { kind: 'path', segments, position }, at);
    }
    if (name === '$count' && segments.length > 0) {
      segments.push({ name, position: at });
      return { kind: 'path', segments, position };
    }
    segments.push({ name, position: at });
    if (s.peek() !== '/') return { kind: 'path', segments, position };
    s.pos++;
  }
}

function lambda(s: Scanner, ctx: ExpressionContext, op: 'any' | 'all', source: Expr & { kind: 'path' }, position: number): Expr {
  s.expect('(');
  if (s.accept(')')) {
    if (op === 'all') s.fail('all() needs a lambda variable and predicate', position);
    return { kind: 'lambda', op, source, position };
  }
  const variable = s.identifier();
  if (ctx.variables.includes(variable)) s.fail(`lambda variable '${variable}' is already in scope`);
  s.expect(':');
  const inner: ExpressionContext = Object.assign({}, ctx, { variables: [...ctx.variables, variable] });
  const predicate = parseExpression(s, inner);
  s.expect(')');
  return { kind: 'lambda', op, source, variable, predicate, position };
}

function isLambdaKeyword(name: string): boolean {
  const lower = name.toLowerCase();
  return lower === 'any' || lower === 'all';
}

/** `expr [asc|desc], …`: the items of `$orderby` and of the `orderby` transformation. */
export function parseOrderItems(s: Scanner, ctx: ExpressionContext): OrderItem[] {
  const items: OrderItem[] = [];
  do {
    const expr = parseExpression(s, ctx);
    let descending = false;
    if (s.acceptWord('desc', { ignoreCase: true })) descending = true;
    else s.acceptWord('asc', { ignoreCase: true });
    items.push({ expr, descending });
  } while (s.accept(','));
  return items;
}
