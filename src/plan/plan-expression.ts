/**
 * Resolves a parsed expression against the model and checks its types, producing a PlanExpr.
 * Every error names the offending position; nothing here builds SQL.
 */
import { formatDecimal, parseDecimal } from '../decimal';
import { LimitError, NotImplementedError, PlanError } from '../errors/odata-error';
import { resolveMember, resolveQualifiedType } from '../edm/lookup';
import type { EdmComplexType, EdmEntitySet, EdmEntityType, EdmModel, EdmProperty, PrimitiveTypeName } from '../edm/model';
import { nullIndicators } from '../edm/complex-null';
import { columnOf, navigationStorage, tableOf } from '../edm/storage';
import { targetEntitySet } from '../edm/lookup';
import type { BinaryOperator, Expr, Literal, PathStep } from '../uri/ast';
import { FUNCTIONS, inFamily, isNumeric, widerNumeric } from './functions';
import type { ArithmeticOp, CanonicalFunction, CompareOp, JoinStep, PlanExpr, ValueType } from './plan';

export interface Scope {
  readonly id: number;
  readonly set: EdmEntitySet;
  /** lambda variable name; the implicit scope ($it) has none */
  readonly variable?: string;
  /** a lambda over a collection of primitives: the variable is one element, of this type (`set` is the owner's) */
  readonly element?: ValueType;
}

export interface ExprContext {
  readonly model: EdmModel;
  readonly scopes: readonly Scope[];
  readonly nextScope: () => number;
  readonly where: string;
  readonly maxNodes: number;
  /** the setting behind maxNodes, named when it is exceeded (none for a fixed bound) */
  readonly maxNodesSetting?: string;
  nodes: number;
  /** limits that span every expression of one query ($filter and all of $orderby) */
  readonly budget?: QueryBudget;
  /**
   * Names that are not declared properties: `$compute` aliases, or the properties of aggregated rows.
   * Consulted first for a path from the implicit scope; undefined: not such a name.
   */
  readonly names?: (segments: readonly PathStep[], position: number) => PlanExpr | undefined;
  /** the rows are aggregated: only `names` resolve, there are no navigations to follow */
  readonly namesOnly?: boolean;
}

/**
 * What one query's expressions may add up to. Navigation joins are counted once per distinct path
 * from a scope (as the compiler joins them); literals of `in` lists are bound values, not nodes.
 */
export interface QueryBudget {
  readonly maxJoins: number;
  readonly joins: Set<string>;
  readonly maxInItems: number;
  inItems: number;
}

const BOOL: ValueType = { kind: 'primitive', name: 'Edm.Boolean' };
const prim = (name: PrimitiveTypeName): ValueType => ({ kind: 'primitive', name });

function fail(ctx: ExprContext, code: 'TYPE_MISMATCH' | 'UNKNOWN_PROPERTY' | 'PROPERTY_NOT_READABLE' | 'UNKNOWN_FUNCTION' | 'INVALID_ARGUMENTS' | 'AMBIGUOUS_NAME' | 'INVALID_LITERAL', message: string, position: number): never {
  throw new PlanError(code, `${message} at position ${position} in ${ctx.where}`, { target: ctx.where, position });
}

export function typeName(t: ValueType): string {
  return t.kind === 'primitive' ? t.name : t.kind === 'enum' ? t.type.qualifiedName : 'null';
}

export function planExpression(expr: Expr, ctx: ExprContext): PlanExpr {
  if (++ctx.nodes > ctx.maxNodes) {
    throw new LimitError('LIMIT_EXCEEDED', `${ctx.where} has more than ${ctx.maxNodes} nodes${ctx.maxNodesSetting ? ` (${ctx.maxNodesSetting})` : ''}`, { target: ctx.where });
  }
  switch (expr.kind) {
    case 'literal': return planLiteral(expr.literal, ctx, expr.position);
    case 'path': return planPath(expr.segments, ctx, expr.position);
    case 'binary': return planComplexNullComparison(expr, ctx) ?? planBinary(expr.op, planExpression(expr.left, ctx), planExpression(expr.right, ctx), ctx, expr.position);
    case 'not': {
      const operand = planExpression(expr.operand, ctx);
      requireBoolean(operand, ctx, expr.position, 'not');
      return { kind: 'not', operand };
    }
    case 'negate': {
      const operand = planExpression(expr.operand, ctx);
      const t = typeOf(operand);
      if (t.kind !== 'primitive' || !(isNumeric(t.name) || t.name === 'Edm.Duration')) fail(ctx, 'TYPE_MISMATCH', `cannot negate a value of type ${typeName(t)}`, expr.position);
      return { kind: 'negate', operand, type: t };
    }
    case 'call': return planCall(expr.name, expr.args, ctx, expr.position);
    case 'in': {
      const left = planExpression(expr.left, ctx);
      const list = expr.list.map((item) => (item.kind === 'literal' && ctx.budget ? planInItem(item, ctx, ctx.budget) : planExpression(item, ctx)));
      for (const item of list) checkComparable(left, item, 'eq', ctx, expr.position);
      return { kind: 'in', left, list: list.map((item) => coerceLiteral(item, typeOf(left))) };
    }
    case 'lambda': return planLambda(expr, ctx);
    default: {
      const never: never = expr;
      throw new Error(`unhandled expression ${JSON.stringify(never)}`);
    }
  }
}

function planInItem(item: Expr & { kind: 'literal' }, ctx: ExprContext, budget: QueryBudget): PlanExpr {
  if (++budget.inItems > budget.maxInItems) {
    throw new LimitError('LIMIT_EXCEEDED', `${ctx.where} has more than ${budget.maxInItems} values in its in lists (ODATA_MAX_IN_ITEMS) at position ${item.position}`, { target: ctx.where, position: item.position });
  }
  return planLiteral(item.literal, ctx, item.position);
}

function countJoin(ctx: ExprContext, scope: number, joins: readonly JoinStep[], position: number): void {
  const budget = ctx.budget;
  if (!budget) return;
  budget.joins.add(`${scope}:${joins.map((j) => j.navigation).join('/')}`);
  if (budget.joins.size > budget.maxJoins) {
    throw new LimitError('LIMIT_EXCEEDED', `${ctx.where} needs more than ${budget.maxJoins} navigation joins (ODATA_MAX_JOINS) at position ${position}`, { target: ctx.where, position });
  }
}

export function typeOf(e: PlanExpr): ValueType {
  switch (e.kind) {
    case 'column': case 'literal': case 'arithmetic': case 'negate': case 'function': case 'element': return e.type;
    case 'element-count': return prim('Edm.Int64');
    case 'element-exists': return BOOL;
    case 'null': return { kind: 'null' };
    case 'count': return prim('Edm.Int64');
    case 'compare': case 'and': case 'or': case 'not': case 'in': case 'exists': case 'search-term': case 'path-restriction': return BOOL;
  }
}

function planLiteral(lit: Literal, ctx: ExprContext, position: number): PlanExpr {
  switch (lit.type) {
    case 'null': return { kind: 'null' };
    case 'enum': {
      const type = resolveQualifiedType(ctx.model, lit.typeName);
      if (!type || type.kind !== 'enum') fail(ctx, 'INVALID_LITERAL', `unknown enum type ${lit.typeName}`, position);
      let value = 0;
      for (const m of lit.members) {
        const v = type.members.get(m) ?? (/^-?\d+$/.test(m) && type.memberByValue.has(Number(m)) ? Number(m) : undefined);
        if (v === undefined) fail(ctx, 'INVALID_LITERAL', `'${m}' is not a member of ${type.qualifiedName}`, position);
        value |= v;
      }
      return { kind: 'literal', value, type: { kind: 'enum', type } };
    }
    case 'Edm.Boolean': return { kind: 'literal', value: lit.value, type: BOOL };
    case 'Edm.Duration': return { kind: 'literal', value: lit.milliseconds, type: prim('Edm.Duration') };
    // A decimal keeps its exact digits (canonical text); Number() would round them to a double.
    case 'Edm.Decimal': {
      const exact = parseDecimal(lit.value);
      if (!exact) fail(ctx, 'INVALID_LITERAL', `${lit.value} is not a decimal this service can represent`, position);
      return { kind: 'literal', value: formatDecimal(exact), type: prim(lit.type) };
    }
    case 'Edm.Int32': case 'Edm.Int64': case 'Edm.Double':
      return { kind: 'literal', value: Number(lit.value), type: prim(lit.type) };
    default: return { kind: 'literal', value: lit.value, type: prim(lit.type) };
  }
}

/** A path that ends at a single-valued complex property: only `eq null`/`ne null` may use it. */
interface ComplexPathValue {
  readonly scope: number;
  readonly joins: readonly JoinStep[];
  readonly path: readonly string[];
  readonly type: EdmComplexType;
}

/**
 * `Recurrence eq null` / `ne null` (either side): a stored complex value is null when all its
 * indicator columns are (edm/complex-null). Any other comparison is left to planBinary.
 */
function planComplexNullComparison(expr: Expr & { kind: 'binary' }, ctx: ExprContext): PlanExpr | undefined {
  if (expr.op !== 'eq' && expr.op !== 'ne') return undefined;
  const isNull = (e: Expr) => e.kind === 'literal' && e.literal.type === 'null';
  const operand = isNull(expr.right) ? expr.left : isNull(expr.left) ? expr.right : undefined;
  if (operand?.kind !== 'path') return undefined;
  ctx.nodes += 2;
  let complex = false;
  const planned = planPath(operand.segments, ctx, operand.position, (value) => {
    complex = true;
    return allMembersNull(value);
  });
  if (!complex) return planBinary(expr.op, operand === expr.left ? planned : { kind: 'null' }, operand === expr.left ? { kind: 'null' } : planned, ctx, expr.position);
  return expr.op === 'eq' ? planned : { kind: 'not', operand: planned };
}

function allMembersNull(value: ComplexPathValue): PlanExpr {
  const tests = nullIndicators(value.type, value.path).map(({ column, property }): PlanExpr => {
    const type: ValueType = property.collection ? prim('Edm.String') : property.type.kind === 'enum' ? { kind: 'enum', type: property.type.type } : prim(property.type.kind === 'primitive' ? property.type.name : 'Edm.String');
    return { kind: 'compare', op: 'eq', left: { kind: 'column', scope: value.scope, joins: value.joins, column, type }, right: { kind: 'null' } };
  });
  return tests.reduce((left, right) => ({ kind: 'and', left, right }));
}

/** Walks a member path from the innermost matching scope. */
function planPath(segments: readonly PathStep[], ctx: ExprContext, position: number, complexValue?: (value: ComplexPathValue) => PlanExpr): PlanExpr {
  let scope = ctx.scopes[ctx.scopes.length - 1];
  let rest = segments;
  const first = segments[0].name;
  const variableScope = [...ctx.scopes].reverse().find((s) => s.variable !== undefined && s.variable === first);
  if (variableScope?.element) {
    if (segments.length > 1) fail(ctx, 'TYPE_MISMATCH', `'${first}' is a ${typeName(variableScope.element)} value and has no members`, segments[1].position);
    return { kind: 'element', scope: variableScope.id, type: variableScope.element };
  }
  if (variableScope) {
    scope = variableScope;
    rest = segments.slice(1);
  } else if (first === '$it') {
    scope = ctx.scopes[0];
    rest = segments.slice(1);
  } else if (first === '$this') {
    rest = segments.slice(1);
  }
  if (rest.length === 0) fail(ctx, 'TYPE_MISMATCH', `'${first}' is an entity, not a value`, position);
  if (ctx.names && (!variableScope || ctx.namesOnly)) {
    const named = ctx.names(rest, position);
    if (named) return named;
    if (ctx.namesOnly) fail(ctx, 'UNKNOWN_PROPERTY', `'${rest.map((r) => r.name).join('/')}' is not a property of the aggregated result`, position);
  }

  let structured: EdmEntityType | EdmComplexType = scope.set.entityType;
  let set = scope.set;
  const joins: JoinStep[] = [];
  const prefix: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const step = rest[i];
    if (step.name === '$count') fail(ctx, 'TYPE_MISMATCH', '$count applies to a collection navigation', step.position);
    if (step.name.includes('.')) throw new NotImplementedError('type-cast segments in expressions', { target: ctx.where });
    const found = resolveMember(structured, step.name);
    if ('missing' in found) fail(ctx, 'UNKNOWN_PROPERTY', `'${step.name}' is not a property of ${structured.qualifiedName}`, step.position);
    if ('ambiguous' in found) fail(ctx, 'AMBIGUOUS_NAME', `'${step.name}' matches ${found.ambiguous.join(', ')}`, step.position);
    const member = found.found;
    const last = i === rest.length - 1;
    if (member.kind === 'property') {
      const p = member.property;
      if (p.hidden) fail(ctx, 'PROPERTY_NOT_READABLE', `'${p.name}' cannot be read`, step.position);
      if (p.collection) {
        const count = rest[i + 1]?.name === '$count' && i + 2 === rest.length;
        if (!count) fail(ctx, 'TYPE_MISMATCH', `'${p.name}' is a collection; use any(), all() or $count`, step.position);
        return { kind: 'element-count', collection: collectionColumn(ctx, scope.id, joins, prefix, p, step.position) };
      }
      if (p.type.kind === 'complex') {
        if (last && complexValue) return complexValue({ scope: scope.id, joins, path: [...prefix, p.name], type: p.type.type });
        if (last) fail(ctx, 'TYPE_MISMATCH', `'${p.name}' is a complex value; compare it with null or compare one of its properties`, step.position);
        prefix.push(p.name);
        structured = p.type.type;
        continue;
      }
      if (!last) fail(ctx, 'TYPE_MISMATCH', `'${p.name}' has no members`, rest[i + 1].position);
      const type: ValueType = p.type.kind === 'enum' ? { kind: 'enum', type: p.type.type } : prim(p.type.name);
      const notNull = joins.length === 0 && prefix.length === 0 && !p.nullable;
      const scale = p.type.kind === 'primitive' && p.type.name === 'Edm.Decimal' ? p.scale : undefined;
      return { kind: 'column', scope: scope.id, joins, column: columnOf([...prefix, p.name], p), type, notNull, ...(scale === undefined ? {} : { scale }) };
    }
    const nav = member.navigation;
    if (structured.kind !== 'entity') fail(ctx, 'TYPE_MISMATCH', 'navigation through complex types is not supported', step.position);
    if (nav.collection) {
      const next = rest[i + 1];
      if (next?.name === '$count' && i + 2 === rest.length && joins.length === 0) {
        return { kind: 'count', correlation: correlate(ctx, scope, nav.name, step.position) };
      }
      fail(ctx, 'TYPE_MISMATCH', `'${nav.name}' is a collection; use any(), all() or $count`, step.position);
    }
    const target = targetEntitySet(ctx.model, set, nav);
    joins.push({ navigation: nav.name, table: tableOf(target), storage: navigationStorage(ctx.model, set.entityType, nav), targetKey: target.entityType.key, sourceKey: set.entityType.key });
    countJoin(ctx, scope.id, joins, step.position);
    if (last) fail(ctx, 'TYPE_MISMATCH', `'${nav.name}' is an entity, not a value`, step.position);
    set = target;
    structured = target.entityType;
  }
  return fail(ctx, 'TYPE_MISMATCH', 'incomplete path', position);
}

function correlate(ctx: ExprContext, scope: Scope, navigationName: string, position: number) {
  const nav = scope.set.entityType.navigations.find((n) => n.name === navigationName);
  if (!nav) fail(ctx, 'UNKNOWN_PROPERTY', `'${navigationName}' is not a navigation`, position);
  const target = targetEntitySet(ctx.model, scope.set, nav);
  return {
    table: tableOf(target), scope: ctx.nextScope(), storage: navigationStorage(ctx.model, scope.set.entityType, nav),
    outerScope: scope.id, outerKey: scope.set.entityType.key, targetKey: target.entityType.key, target,
  };
}

function planLambda(expr: Expr & { kind: 'lambda' }, ctx: ExprContext): PlanExpr {
  if (ctx.namesOnly) fail(ctx, 'TYPE_MISMATCH', `${expr.op}() cannot be used on aggregated results`, expr.position);
  const segs = expr.source.segments;
  const variableScope = [...ctx.scopes].reverse().find((s) => s.variable !== undefined && s.variable === segs[0].name);
  const scope = variableScope ?? (segs[0].name === '$it' ? ctx.scopes[0] : ctx.scopes[ctx.scopes.length - 1]);
  const navSegs = variableScope || segs[0].name === '$it' ? segs.slice(1) : segs;
  if (navSegs.length !== 1) throw new NotImplementedError('any/all over a path longer than one navigation', { target: ctx.where });
  const found = resolveMember(scope.set.entityType, navSegs[0].name);
  if ('missing' in found) fail(ctx, 'UNKNOWN_PROPERTY', `'${navSegs[0].name}' is not a property of ${scope.set.entityType.qualifiedName}`, navSegs[0].position);
  if ('ambiguous' in found) fail(ctx, 'AMBIGUOUS_NAME', `'${navSegs[0].name}' is ambiguous`, navSegs[0].position);
  if (found.found.kind === 'property' && found.found.property.collection) return planElementLambda(expr, ctx, scope, found.found.property, navSegs[0].position);
  if (found.found.kind !== 'navigation' || !found.found.navigation.collection) {
    fail(ctx, 'TYPE_MISMATCH', `${expr.op}() needs a collection navigation, '${navSegs[0].name}' is not one`, expr.position);
  }
  const { target, ...correlation } = correlate(ctx, scope, found.found.navigation.name, expr.position);
  if (!expr.predicate || !expr.variable) return { kind: 'exists', correlation, negated: false };
  const inner: ExprContext = Object.assign({}, ctx, { scopes: [...ctx.scopes, { id: correlation.scope, set: target, variable: expr.variable }] });
  const predicate = planExpression(expr.predicate, inner);
  ctx.nodes = inner.nodes;
  requireBoolean(predicate, ctx, expr.position, expr.op);
  if (expr.op === 'any') return { kind: 'exists', correlation, predicate, negated: false };
  return { kind: 'exists', correlation, predicate, negated: true };
}

/** any/all over a collection of primitives: the variable is an element (compared, passed to functions). */
function planElementLambda(expr: Expr & { kind: 'lambda' }, ctx: ExprContext, scope: Scope, property: EdmProperty, position: number): PlanExpr {
  const collection = collectionColumn(ctx, scope.id, [], [], property, position);
  const elementScope = ctx.nextScope();
  if (!expr.predicate || !expr.variable) return { kind: 'element-exists', collection, scope: elementScope, negated: false };
  const element = elementType(property);
  const inner: ExprContext = Object.assign({}, ctx, { scopes: [...ctx.scopes, { id: elementScope, set: scope.set, variable: expr.variable, element }] });
  const predicate = planExpression(expr.predicate, inner);
  ctx.nodes = inner.nodes;
  requireBoolean(predicate, ctx, expr.position, expr.op);
  return { kind: 'element-exists', collection, scope: elementScope, predicate, negated: expr.op === 'all' };
}

/** The JSON-array column of a collection of strings (other element types: 501). */
function collectionColumn(ctx: ExprContext, scope: number, joins: readonly JoinStep[], prefix: readonly string[], property: EdmProperty, position: number): PlanExpr & { kind: 'column' } {
  if (property.hidden) fail(ctx, 'PROPERTY_NOT_READABLE', `'${property.name}' cannot be read`, position);
  // elements are read as the JSON array's text values: strings compare as stored, other types would not
  if (property.type.kind !== 'primitive' || property.type.name !== 'Edm.String') throw new NotImplementedError(`collections of ${property.type.kind === 'primitive' ? property.type.name : property.type.type.qualifiedName} values in expressions`, { target: ctx.where });
  return { kind: 'column', scope, joins, column: columnOf([...prefix, property.name], property), type: prim('Edm.String'), notNull: !property.nullable && joins.length === 0 && prefix.length === 0 };
}

function elementType(property: EdmProperty): ValueType {
  return prim(property.type.kind === 'primitive' ? property.type.name : 'Edm.String');
}

/** A Boolean, or the null literal (a null condition selects nothing, `not null` is null). */
function requireBoolean(e: PlanExpr, ctx: ExprContext, position: number, what: string): void {
  const t = typeOf(e);
  if (!(t.kind === 'null' || (t.kind === 'primitive' && t.name === 'Edm.Boolean'))) fail(ctx, 'TYPE_MISMATCH', `${what} needs a Boolean operand, got ${typeName(t)}`, position);
}

const COMPARE: readonly string[] = ['eq', 'ne', 'gt', 'ge', 'lt', 'le'];

function planBinary(op: BinaryOperator, left: PlanExpr, right: PlanExpr, ctx: ExprContext, position: number): PlanExpr {
  if (op === 'and' || op === 'or') {
    requireBoolean(left, ctx, position, op);
    requireBoolean(right, ctx, position, op);
    return { kind: op, left, right };
  }
  if (COMPARE.includes(op)) {
    checkComparable(left, right, op as CompareOp, ctx, position);
    return { kind: 'compare', op: op as CompareOp, left: coerceLiteral(left, typeOf(right)), right: coerceLiteral(right, typeOf(left)) };
  }
  if (op === 'has') {
    const lt = typeOf(left);
    const rt = typeOf(right);
    if (lt.kind !== 'enum' || rt.kind !== 'enum' || lt.type !== rt.type || right.kind !== 'literal') {
      fail(ctx, 'TYPE_MISMATCH', `has needs an enum value and a member of the same enum type, got ${typeName(lt)} and ${typeName(rt)}`, position);
    }
    // Non-flags enums: a value "has" exactly its own member.
    return { kind: 'compare', op: 'eq', left, right };
  }
  // Arithmetic with the null literal is null, of the other operand's type.
  const lt = left.kind === 'null' ? typeOf(right) : typeOf(left);
  const rt = right.kind === 'null' ? typeOf(left) : typeOf(right);
  if (lt.kind !== 'primitive' || rt.kind !== 'primitive' || !isNumeric(lt.name) || !isNumeric(rt.name)) {
    if (lt.kind === 'primitive' && rt.kind === 'primitive' && [lt.name, rt.name].some((n) => n === 'Edm.Duration' || n === 'Edm.Date' || n === 'Edm.DateTimeOffset')) {
      throw new NotImplementedError('date and duration arithmetic', { target: ctx.where });
    }
    fail(ctx, 'TYPE_MISMATCH', `${op} needs numeric operands, got ${typeName(lt)} and ${typeName(rt)}`, position);
  }
  const type = op === 'div' && lt.name !== 'Edm.Decimal' && rt.name !== 'Edm.Decimal' && lt.name !== 'Edm.Double' && rt.name !== 'Edm.Double'
    ? prim(widerNumeric(lt.name, rt.name)) : op === 'divby' ? prim('Edm.Decimal') : prim(widerNumeric(lt.name, rt.name));
  return { kind: 'arithmetic', op: op as ArithmeticOp, left, right, type };
}

/** A string literal compared to an enum becomes the member's value (4.01 allows `Status eq 'Open'`). */
function coerceLiteral(e: PlanExpr, other: ValueType): PlanExpr {
  if (e.kind === 'literal' && other.kind === 'enum' && e.type.kind === 'primitive' && e.type.name === 'Edm.String') {
    const v = other.type.members.get(String(e.value));
    if (v !== undefined) return { kind: 'literal', value: v, type: other };
  }
  if (e.kind === 'literal' && other.kind === 'enum' && e.type.kind === 'primitive' && isNumeric(e.type.name)) {
    return { kind: 'literal', value: e.value, type: other };
  }
  return e;
}

function family(t: PrimitiveTypeName): string {
  if (isNumeric(t)) return 'number';
  return t;
}

function checkComparable(left: PlanExpr, right: PlanExpr, op: CompareOp, ctx: ExprContext, position: number): void {
  const lt = typeOf(left);
  const rt = typeOf(right);
  if (lt.kind === 'null' || rt.kind === 'null') {
    if (op !== 'eq' && op !== 'ne' && !(lt.kind === 'null' && rt.kind === 'null')) return; // `x gt null` is valid and false
    return;
  }
  if (lt.kind === 'enum' || rt.kind === 'enum') {
    const enumType = lt.kind === 'enum' ? lt.type : (rt as { type: import('../edm/model').EdmEnumType }).type;
    const other = lt.kind === 'enum' ? right : left;
    const ot = typeOf(other);
    if (ot.kind === 'enum' && ot.type === enumType) return;
    if (other.kind === 'literal' && ot.kind === 'primitive' && ot.name === 'Edm.String' && enumType.members.has(String(other.value))) return;
    if (other.kind === 'literal' && ot.kind === 'primitive' && ot.name === 'Edm.String') {
      fail(ctx, 'INVALID_LITERAL', `'${String(other.value)}' is not a member of ${enumType.qualifiedName}`, position);
    }
    if (other.kind === 'literal' && ot.kind === 'primitive' && isNumeric(ot.name) && enumType.memberByValue.has(Number(other.value))) return;
    fail(ctx, 'TYPE_MISMATCH', `cannot compare ${typeName(lt)} with ${typeName(rt)}`, position);
  }
  if (family(lt.name) !== family(rt.name)) fail(ctx, 'TYPE_MISMATCH', `cannot compare ${lt.name} with ${rt.name}`, position);
  if (lt.name === 'Edm.Boolean' && op !== 'eq' && op !== 'ne') fail(ctx, 'TYPE_MISMATCH', `${op} is not defined for Edm.Boolean`, position);
}

function planCall(name: string, args: readonly Expr[], ctx: ExprContext, position: number): PlanExpr {
  const fn = name.toLowerCase() as CanonicalFunction;
  const sig = Object.prototype.hasOwnProperty.call(FUNCTIONS, fn) ? FUNCTIONS[fn] : undefined;
  if (!sig) {
    if (['cast', 'isof', 'geo.distance', 'geo.intersects', 'geo.length', 'matchespattern', 'hassubset', 'hassubsequence', 'case', 'fractionalseconds'].includes(name.toLowerCase())) {
      throw new NotImplementedError(`the function ${name}`, { target: ctx.where });
    }
    fail(ctx, 'UNKNOWN_FUNCTION', `unknown function '${name}'`, position);
  }
  const planned = args.map((a) => planExpression(a, ctx));
  const types = planned.map(typeOf);
  const matching = sig.args.find((sigArgs) => sigArgs.length === planned.length
    && sigArgs.every((family, i) => types[i].kind === 'null' || (types[i].kind === 'primitive' && inFamily((types[i] as { name: PrimitiveTypeName }).name, family))));
  if (!matching) {
    const expected = sig.args.map((a) => `${fn}(${a.join(', ')})`).join(' or ');
    fail(ctx, 'INVALID_ARGUMENTS', `${fn}(${types.map(typeName).join(', ')}) does not match ${expected}`, position);
  }
  const returns: ValueType = sig.returns === 'same' ? types[0] : prim(sig.returns);
  return { kind: 'function', fn, args: planned, type: returns };
}

export { BOOL };
