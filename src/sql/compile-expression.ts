/**
 * Compiles planned expressions to SQL fragments. Column references name their scope; single-valued
 * navigation paths become LEFT JOINs registered on that scope; any/all become semi-joins (IN) and
 * path restrictions key subqueries.
 *
 *   Contacts?$filter=Company/Name eq 'X'
 *   → … FROM "Contacts" AS "s0" LEFT JOIN "Companies" AS "s0_Company" ON "s0_Company"."Id" = "s0"."CompanyId"
 *     WHERE "s0_Company"."Name" = ?
 */
import type { PrimitiveTypeName } from '../edm/model';
import { DYNAMIC_MEMBERSHIP, type NavigationStorage } from '../edm/storage';
import type { Correlation, JoinStep, PathSource, PlanExpr, ValueType } from '../plan/plan';
import { typeOf } from '../plan/plan-expression';
import { readsOuterScopes } from '../plan/scopes';
import type { RecordAccess } from '../auth/access';
import type { Dialect } from './dialect/dialect';
import { escapeLike } from './dialect/dialect';
import { id, join, raw, sql, type Fragment } from './fragment';
import { columnsEqual, equalsKey, inSubquery, notNull, selectColumns } from './key-columns';

/** What statements are compiled for: the engine, and the rows of each table the caller may see. */
export interface SqlTarget {
  readonly dialect: Dialect;
  readonly access: RecordAccess;
  /** decimal sums only in the dialect's exact form: a native one (DecimalDialect.nativeSum) failed to prove itself */
  readonly exactSums?: boolean;
}

/**
 * The caller's access predicate on one opened table (`alias`), or undefined when every row is visible.
 * Every FROM and JOIN of an entity table the compilers emit goes through here: a row the caller may not
 * see is absent from lists, counts, expansions and semi-joins, and a hidden join target reads as null.
 */
export function visibleRows(target: SqlTarget, table: string, alias: string): Fragment | undefined {
  const rule = target.access.get(table);
  if (rule === undefined) return undefined;
  const owner = id(`${alias}.${rule.ownerColumn}`);
  const { dialect } = target;
  if (rule.kind === 'own-rows') return sql`${owner} = ${dialect.bind(rule.userId, 'Edm.Guid')}`;
  return sql`(${id(`${alias}.${rule.privateColumn}`)} <> ${dialect.bind(true, 'Edm.Boolean')} OR ${owner} IS NULL OR ${owner} = ${dialect.bind(rule.userId, 'Edm.Guid')})`;
}

/** `AND <predicate>` for a table, or nothing. */
function andVisible(target: SqlTarget, table: string, alias: string): Fragment {
  const visible = visibleRows(target, table, alias);
  return visible ? sql` AND ${visible}` : raw('');
}

/** LEFT JOINs needed by each scope, keyed by navigation path, in first-use order. */
export class JoinRegistry {
  private readonly joins = new Map<number, Map<string, Fragment>>();

  constructor(private readonly target: SqlTarget) {}

  alias(scope: number, steps: readonly JoinStep[]): string {
    let alias = scopeAlias(scope);
    let key = '';
    for (const step of steps) {
      const parent = alias;
      key += '/' + step.navigation;
      alias = `${scopeAlias(scope)}${key.replace(/\//g, '_')}`;
      const perScope = this.joins.get(scope) ?? new Map<string, Fragment>();
      this.joins.set(scope, perScope);
      if (!perScope.has(key)) perScope.set(key, joinClause(this.target, step, parent, alias));
    }
    return alias;
  }

  for(scope: number): Fragment {
    return join([...(this.joins.get(scope)?.values() ?? [])], ' ');
  }
}

function joinClause(target: SqlTarget, step: JoinStep, parent: string, alias: string): Fragment {
  const on = joinCondition(step.storage, parent, alias, step);
  // in the ON clause: a target the caller may not see joins as no row, so its columns read as null
  return sql`LEFT JOIN ${id(step.table)} AS ${id(alias)} ON ${on}${andVisible(target, step.table, alias)}`;
}

function joinCondition(storage: NavigationStorage, parent: string, alias: string, keys: Pick<JoinStep, 'targetKey' | 'sourceKey'>): Fragment {
  switch (storage.kind) {
    case 'foreign-key': return columnsEqual(alias, keys.targetKey, parent, storage.columns);
    case 'reverse-foreign-key': return columnsEqual(alias, storage.targetColumns, parent, keys.sourceKey);
    case 'link-table': throw new Error('a link table cannot back a single-valued navigation');
  }
}

/**
 * The tables a semi-join (any/all) reads a navigation's links from: its read table, except for the
 * dynamic-members view, whose two tables are read one branch each. The view removes the matches that
 * are also static links, an anti-join PostgreSQL runs over every dynamic row before it can filter on
 * the group (all 5 946 dynamic rows of the 20 000-contact bench data for a 9-member group); a semi-join does not
 * mind a pair found twice, and each branch uses its table's index.
 */
function semiJoinReads(storage: NavigationStorage): readonly (string | undefined)[] {
  if (storage.kind !== 'link-table' || storage.readTable !== DYNAMIC_MEMBERSHIP.readView || storage.readTable === storage.table) return [undefined];
  return [storage.table, DYNAMIC_MEMBERSHIP.matchTable];
}

export function scopeAlias(scope: number): string {
  return `s${scope}`;
}

/** The alias of the elements of a collection column counted by `/$count` (no lambda scope is opened for it). */
function elementsAlias(collection: PlanExpr & { kind: 'column' }): string {
  return `${scopeAlias(collection.scope)}_${collection.column}_elements`;
}

export class ExpressionCompiler {
  readonly dialect: Dialect;

  constructor(readonly target: SqlTarget, readonly joins: JoinRegistry) {
    this.dialect = target.dialect;
  }

  compile(e: PlanExpr): Fragment {
    switch (e.kind) {
      case 'column': return id(`${this.joins.alias(e.scope, e.joins)}.${e.column}`);
      case 'literal': return this.dialect.bind(e.value, bindType(e.type));
      case 'null': return raw('NULL');
      case 'compare': case 'and': case 'or': case 'not': case 'in': return this.condition(e, 'value');
      case 'arithmetic': return this.arithmetic(e);
      case 'negate': return isDecimal(e.type) ? this.dialect.decimal.negate(this.compile(e.operand)) : sql`(- ${this.compile(e.operand)})`;
      // OData: a canonical function with a null argument is null, whatever the engine's function would say.
      case 'function': if (e.args.some((a) => a.kind === 'null')) return raw('NULL');
        return this.dialect.functions[e.fn](e.args.map((a) => ({
          sql: this.compile(a), type: argType(typeOf(a)), literal: a.kind === 'literal' ? a.value : undefined,
        })));
      case 'exists': return this.exists(e);
      case 'count': return this.count(e.correlation);
      case 'search-term': {
        if (e.columns.length === 0) return raw('(1 = 0)');
        const pattern = `%${escapeLike(e.text)}%`;
        return sql`(${join(e.columns.map((c) => this.dialect.likeInsensitive(id(`${scopeAlias(e.scope)}.${c}`), pattern)), ' OR ')})`;
      }
      case 'path-restriction': return sql`(${inSubquery(scopeAlias(e.scope), e.columns, pathKeys(e.path, this.target))})`;
      case 'element': return id(`${scopeAlias(e.scope)}.value`);
      case 'element-count': return sql`(SELECT COUNT(*) FROM ${this.dialect.arrayElements(this.compile(e.collection), id(elementsAlias(e.collection)))})`;
      case 'element-exists': return this.elementExists(e);
    }
  }

  /**
   * A boolean expression as a condition (SQLite has no boolean type: `col` → `col = 1`). In the `selects`
   * position (the default) only "true" selects a row; in the `value` position false and null differ.
   */
  condition(e: PlanExpr, position: TruthPosition = 'selects'): Fragment {
    switch (e.kind) {
      case 'column': return sql`(${this.compile(e)} = ${this.dialect.bind(true, 'Edm.Boolean')})`;
      case 'literal': return typeof e.value === 'boolean' ? sql`(${this.compile(e)} = ${this.dialect.bind(true, 'Edm.Boolean')})` : this.compile(e);
      case 'and': return sql`(${this.condition(e.left, position)} AND ${this.condition(e.right, position)})`;
      case 'or': return sql`(${this.condition(e.left, position)} OR ${this.condition(e.right, position)})`;
      // NOT turns SQL's unknown into unknown, not true: beneath it every comparison must be two-valued.
      case 'not': return sql`(NOT ${this.condition(e.operand, 'value')})`;
      case 'compare': return this.compare(e, position);
      case 'in': return this.inList(e, position);
      default: return this.compile(e);
    }
  }

  /**
   * OData comparisons are two-valued: `eq` is true for two nulls, false for one; `ne` its negation;
   * gt/ge/lt/le are false with a null operand. SQL answers unknown instead, which a `selects` position
   * treats as false, so there `col op literal` stays plain (and index-friendly).
   */
  private compare(e: PlanExpr & { kind: 'compare' }, position: TruthPosition): Fragment {
    const { op } = e;
    if (e.left.kind === 'null' || e.right.kind === 'null') {
      if (e.left.kind === 'null' && e.right.kind === 'null') return raw(op === 'eq' ? '(1 = 1)' : '(1 = 0)');
      const other = e.left.kind === 'null' ? e.right : e.left;
      if (op === 'eq') return sql`(${this.compile(other)} IS NULL)`;
      if (op === 'ne') return sql`(${this.compile(other)} IS NOT NULL)`;
      return raw('(1 = 0)');
    }
    const [left, right] = this.comparable(e.op === 'eq' || e.op === 'ne', [e.left, e.right]);
    const mayBeNull = nullable(e.left) || nullable(e.right);
    switch (op) {
      case 'eq':
        return mayBeNull && (position === 'value' || (nullable(e.left) && nullable(e.right)))
          ? sql`(${left} IS NOT DISTINCT FROM ${right})` : sql`(${left} = ${right})`;
      case 'ne': return mayBeNull ? sql`(${left} IS DISTINCT FROM ${right})` : sql`(${left} <> ${right})`;
      case 'gt': case 'ge': case 'lt': case 'le': {
        const plain = sql`(${left} ${raw(ORDERING[op])} ${right})`;
        return mayBeNull && position === 'value' ? sql`(${plain} IS TRUE)` : plain;
      }
    }
  }

  /** `in` is false for a null left operand; a null list member matches nothing. */
  private inList(e: PlanExpr & { kind: 'in' }, position: TruthPosition): Fragment {
    const members = e.list.filter((x) => x.kind !== 'null');
    if (members.length === 0 || e.left.kind === 'null') return raw('(1 = 0)');
    const [left, ...list] = this.comparable(true, [e.left, ...members]);
    const plain = sql`(${left} IN (${join(list, ', ')}))`;
    return position === 'value' && [e.left, ...members].some(nullable) ? sql`(${plain} IS TRUE)` : plain;
  }

  /**
   * Operands of a comparison. Where a decimal meets a decimal in an equality, canonical decimal values
   * compare as they are (index-friendly); otherwise each decimal comparison goes through the dialect's
   * order-preserving form.
   */
  private comparable(equality: boolean, operands: readonly PlanExpr[]): Fragment[] {
    const compiled = operands.map((x) => this.compile(x));
    const types = operands.map((x) => typeOf(x));
    if (!types.some(isDecimal) || (equality && types.every((t) => isDecimal(t) || t.kind === 'null'))) return compiled;
    return compiled.map((f) => this.dialect.decimal.comparable(f));
  }

  private arithmetic(e: PlanExpr & { kind: 'arithmetic' }): Fragment {
    const l = this.compile(e.left);
    const r = this.compile(e.right);
    if (isDecimal(e.type)) return this.dialect.decimal.arithmetic(e.op === 'divby' ? 'div' : e.op, l, r);
    switch (e.op) {
      case 'add': return sql`(${l} + ${r})`;
      case 'sub': return sql`(${l} - ${r})`;
      case 'mul': return sql`(${l} * ${r})`;
      case 'div': return isIntegral(e.type) ? sql`(${l} / ${this.dialect.divisor(r)})` : this.dialect.divide(l, r);
      case 'divby': return this.dialect.divide(l, r);
      case 'mod': return sql`(${l} % ${this.dialect.divisor(r)})`;
    }
  }

  /**
   * The rows of a correlation's target and the columns that hold the outer row's key (`holder` of
   * `holderAlias`, one per key part, matching the outer key columns `outer` of the outer scope).
   * The caller compiles any predicate first, so the scope's joins are registered.
   */
  private related(c: Correlation, linkRead?: string): { from: Fragment; holderAlias: string; holder: readonly string[]; outer: readonly string[]; visible: Fragment } {
    const alias = scopeAlias(c.scope);
    const outer = c.outerKey;
    const joins = this.joins.for(c.scope);
    const visible = andVisible(this.target, c.table, alias);
    switch (c.storage.kind) {
      case 'reverse-foreign-key':
        return { from: sql`${id(c.table)} AS ${id(alias)} ${joins}`, holderAlias: alias, holder: c.storage.targetColumns, outer, visible };
      case 'link-table': {
        const link = `${alias}_link`;
        return {
          from: sql`${id(linkRead ?? c.storage.readTable)} AS ${id(link)} JOIN ${id(c.table)} AS ${id(alias)} ON ${columnsEqual(alias, c.targetKey, link, c.storage.targetColumns)} ${joins}`,
          holderAlias: link, holder: c.storage.sourceColumns, outer, visible,
        };
      }
      case 'foreign-key':
        return { from: sql`${id(c.table)} AS ${id(alias)} ${joins}`, holderAlias: alias, holder: c.targetKey, outer, visible };
    }
  }

  /**
   * any()/all() as a semi-join: `outer IN (SELECT holder … WHERE pred)`. Unlike a correlated EXISTS,
   * the engine can start from the few related rows instead of probing every outer row.
   */
  private exists(e: PlanExpr & { kind: 'exists' }): Fragment {
    // all(): a member whose predicate is null (unknown) is a counterexample too, so test `IS NOT TRUE`.
    const pred = e.predicate && (e.negated ? sql`((${this.condition(e.predicate)}) IS NOT TRUE)` : this.condition(e.predicate));
    // one branch per table the link rows are read from (a semi-join needs no de-duplication between them)
    const branches = semiJoinReads(e.correlation.storage).map((read) => this.related(e.correlation, read));
    const outerAlias = scopeAlias(e.correlation.outerScope);
    // A predicate reading an outer lambda variable or $it makes the subquery correlated: as `outer IN (…)`
    // the engine would rebuild the whole related set for every outer row, so probe the holder's index instead.
    if (e.predicate && readsOuterScopes(e.predicate, e.correlation.scope)) {
      const selects = branches.map(({ from, holderAlias, holder, outer, visible }) => sql`SELECT 1 FROM ${from} WHERE ${columnsEqual(holderAlias, holder, outerAlias, outer)} AND ${pred}${visible}`);
      return sql`(${raw(e.negated ? 'NOT EXISTS' : 'EXISTS')} (${join(selects, ' UNION ALL ')}))`;
    }
    const selects = branches.map(({ from, holderAlias, holder, visible }) => {
      const where = pred ? sql`${notNull(holderAlias, holder)} AND ${pred}${visible}` : sql`${notNull(holderAlias, holder)}${visible}`;
      return sql`SELECT ${selectColumns(holderAlias, holder)} FROM ${from} WHERE ${where}`;
    });
    return sql`(${inSubquery(outerAlias, branches[0].outer, join(selects, ' UNION ALL '), e.negated)})`;
  }

  /** any()/all() over a stored JSON array: EXISTS over its elements (all: no element where the predicate is not true). */
  private elementExists(e: PlanExpr & { kind: 'element-exists' }): Fragment {
    const from = this.dialect.arrayElements(this.compile(e.collection), id(scopeAlias(e.scope)));
    if (!e.predicate) return sql`(EXISTS (SELECT 1 FROM ${from}))`;
    const pred = this.condition(e.predicate);
    if (e.negated) return sql`(NOT EXISTS (SELECT 1 FROM ${from} WHERE (${pred}) IS NOT TRUE))`;
    return sql`(EXISTS (SELECT 1 FROM ${from} WHERE ${pred}))`;
  }

  private count(c: Correlation): Fragment {
    const { from, holderAlias, holder, outer, visible } = this.related(c);
    return sql`(SELECT COUNT(*) FROM ${from} WHERE ${columnsEqual(holderAlias, holder, scopeAlias(c.outerScope), outer)}${visible})`;
  }
}

/**
 * Where a boolean sits. `selects`: only whether it is true matters (the WHERE clause, and/or beneath it, an
 * any/all body), so SQL's unknown may stand for false. `value`: beneath `not` or used as a value.
 */
export type TruthPosition = 'selects' | 'value';

const ORDERING = { gt: '>', ge: '>=', lt: '<', le: '<=' } as const;

/** Whether the SQL of an expression can be NULL (two-valued comparisons, counts and literals cannot). */
function nullable(e: PlanExpr): boolean {
  switch (e.kind) {
    case 'literal': case 'count': case 'compare': case 'in': case 'exists': case 'element-count': case 'element-exists': case 'element': return false;
    case 'column': return e.notNull !== true;
    default: return true;
  }
}

/**
 * SUM of a decimal expression: the dialect's native sum where `scale` (the column's declared Scale) allows one and
 * none has failed for this statement (SqlTarget.exactSums); the dialect's exact sum otherwise.
 */
export function decimalSum(x: Fragment, scale: number | undefined, target: SqlTarget): Fragment {
  const { decimal } = target.dialect;
  const native = scale === undefined || target.exactSums === true ? undefined : decimal.nativeSum?.sum(x, scale);
  return native ?? decimal.sum(x);
}

export function isDecimal(t: ValueType): boolean {
  return t.kind === 'primitive' && t.name === 'Edm.Decimal';
}

function isIntegral(t: ValueType): boolean {
  return t.kind === 'primitive' && ['Edm.Byte', 'Edm.SByte', 'Edm.Int16', 'Edm.Int32', 'Edm.Int64'].includes(t.name);
}

function bindType(t: ValueType): PrimitiveTypeName | 'enum' {
  return t.kind === 'enum' ? 'enum' : t.kind === 'primitive' ? t.name : 'Edm.String';
}

function argType(t: ValueType): PrimitiveTypeName | 'null' | 'enum' {
  return t.kind === 'primitive' ? t.name : t.kind;
}

/**
 * The keys a resource path reaches: `Contacts(1)/Groups` → SELECT link.GroupId FROM link WHERE link.ContactId IN (…).
 * Each subquery selects every part of the reached key in key order (a composite key as several columns,
 * matched as a row value by the next hop: key-columns.ts). Each hop starts only from rows the caller may
 * see (the last hop's rows are the reading scope's, restricted there).
 */
export function pathKeys(path: PathSource, target: SqlTarget): Fragment {
  const { dialect } = target;
  const startParts = path.key.map((k) => ({ column: k.column, type: k.type }));
  const startValues = path.key.map((k) => k.value);
  /** the condition that `columns` of `alias` hold one of the keys reached so far */
  let last: Fragment | undefined;
  let reached = (alias: string, columns: readonly string[]): Fragment => equalsKey(dialect, alias, startParts.map((p, i) => ({ column: columns[i], type: p.type })), startValues);
  path.steps.forEach((step, i) => {
    const a = `p${i}`;
    const from = `${a}_from`;
    const visibleFrom = visibleRows(target, step.fromTable, from);
    if (visibleFrom && step.storage.kind !== 'foreign-key') {
      const previous = reached;
      const visibleKeys = sql`SELECT ${selectColumns(from, step.fromKey)} FROM ${id(step.fromTable)} AS ${id(from)} WHERE ${previous(from, step.fromKey)} AND ${visibleFrom}`;
      reached = (alias, columns) => inSubquery(alias, columns, visibleKeys);
    }
    const keyValue = (alias: string, columns: readonly string[]): Fragment => (step.keyValue === undefined ? raw('')
      : sql` AND ${equalsKey(dialect, alias, columns.map((column, j) => ({ column, type: step.toKeyTypes[j] })), step.keyValue)}`);
    let select: Fragment;
    switch (step.storage.kind) {
      case 'foreign-key': {
        const cols = step.storage.columns;
        select = sql`SELECT ${selectColumns(a, cols)} FROM ${id(step.fromTable)} AS ${id(a)} WHERE ${reached(a, step.fromKey)} AND ${notNull(a, cols)}${andVisible(target, step.fromTable, a)}${keyValue(a, cols)}`;
        break;
      }
      case 'reverse-foreign-key':
        select = sql`SELECT ${selectColumns(a, step.toKey)} FROM ${id(step.toTable)} AS ${id(a)} WHERE ${reached(a, step.storage.targetColumns)}${keyValue(a, step.toKey)}`;
        break;
      case 'link-table': {
        const cols = step.storage.targetColumns;
        select = sql`SELECT ${selectColumns(a, cols)} FROM ${id(step.storage.readTable)} AS ${id(a)} WHERE ${reached(a, step.storage.sourceColumns)}${keyValue(a, cols)}`;
        break;
      }
    }
    const keys = select;
    last = keys;
    reached = (alias, columns) => inSubquery(alias, columns, keys);
  });
  if (last === undefined) throw new Error('a path restriction needs a navigation step');
  return last;
}
