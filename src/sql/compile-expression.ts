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
import type { NavigationStorage } from '../edm/storage';
import type { Correlation, JoinStep, PathSource, PlanExpr, ValueType } from '../plan/plan';
import { typeOf } from '../plan/plan-expression';
import { readsOuterScopes } from '../plan/scopes';
import type { Dialect } from './dialect/dialect';
import { escapeLike } from './dialect/dialect';
import { id, join, raw, sql, type Fragment } from './fragment';

/** LEFT JOINs needed by each scope, keyed by navigation path, in first-use order. */
export class JoinRegistry {
  private readonly joins = new Map<number, Map<string, Fragment>>();

  alias(scope: number, steps: readonly JoinStep[]): string {
    let alias = scopeAlias(scope);
    let key = '';
    for (const step of steps) {
      const parent = alias;
      key += '/' + step.navigation;
      alias = `${scopeAlias(scope)}${key.replace(/\//g, '_')}`;
      const perScope = this.joins.get(scope) ?? new Map<string, Fragment>();
      this.joins.set(scope, perScope);
      if (!perScope.has(key)) perScope.set(key, joinClause(step, parent, alias));
    }
    return alias;
  }

  for(scope: number): Fragment {
    return join([...(this.joins.get(scope)?.values() ?? [])], ' ');
  }
}

function joinClause(step: JoinStep, parent: string, alias: string): Fragment {
  const on = joinCondition(step.storage, parent, alias, step.targetKey);
  return sql`LEFT JOIN ${id(step.table)} AS ${id(alias)} ON ${on}`;
}

function joinCondition(storage: NavigationStorage, parent: string, alias: string, targetKey: string): Fragment {
  switch (storage.kind) {
    case 'foreign-key': return sql`${id(`${alias}.${targetKey}`)} = ${id(`${parent}.${storage.column}`)}`;
    case 'reverse-foreign-key': return sql`${id(`${alias}.${storage.targetColumn}`)} = ${id(`${parent}.Id`)}`;
    case 'link-table': throw new Error('a link table cannot back a single-valued navigation');
  }
}

export function scopeAlias(scope: number): string {
  return `s${scope}`;
}

export class ExpressionCompiler {
  constructor(readonly dialect: Dialect, readonly joins: JoinRegistry) {}

  compile(e: PlanExpr): Fragment {
    switch (e.kind) {
      case 'column': return id(`${this.joins.alias(e.scope, e.joins)}.${e.column}`);
      case 'literal': return this.dialect.bind(e.value, bindType(e.type));
      case 'null': return raw('NULL');
      case 'compare': return this.compare(e);
      case 'and': return sql`(${this.condition(e.left)} AND ${this.condition(e.right)})`;
      case 'or': return sql`(${this.condition(e.left)} OR ${this.condition(e.right)})`;
      case 'not': return sql`(NOT ${this.condition(e.operand)})`;
      case 'arithmetic': return this.arithmetic(e);
      case 'negate': return sql`(- ${this.compile(e.operand)})`;
      case 'function': return this.dialect.functions[e.fn](e.args.map((a) => ({
        sql: this.compile(a), type: argType(typeOf(a)), literal: a.kind === 'literal' ? a.value : undefined,
      })));
      case 'in':
        if (e.list.length === 0) return raw('(1 = 0)');
        return sql`(${this.compile(e.left)} IN (${join(e.list.map((x) => this.compile(x)), ', ')}))`;
      case 'exists': return this.exists(e);
      case 'count': return this.count(e.correlation);
      case 'search-term': {
        if (e.columns.length === 0) return raw('(1 = 0)');
        const pattern = `%${escapeLike(e.text)}%`;
        return sql`(${join(e.columns.map((c) => this.dialect.likeInsensitive(id(`${scopeAlias(e.scope)}.${c}`), pattern)), ' OR ')})`;
      }
      case 'path-restriction': return sql`(${id(`${scopeAlias(e.scope)}.${e.column}`)} IN (${pathKeys(e.path, this.dialect)}))`;
    }
  }

  /** A boolean expression in a position that needs a condition (SQLite has no boolean type: `col` → `col = 1`). */
  condition(e: PlanExpr): Fragment {
    if (e.kind === 'column' || (e.kind === 'literal' && typeof e.value === 'boolean')) return sql`(${this.compile(e)} = ${this.dialect.bind(true, 'Edm.Boolean')})`;
    return this.compile(e);
  }

  private compare(e: PlanExpr & { kind: 'compare' }): Fragment {
    const { op } = e;
    if (e.left.kind === 'null' || e.right.kind === 'null') {
      if (e.left.kind === 'null' && e.right.kind === 'null') return raw(op === 'eq' || op === 'le' || op === 'ge' ? '(1 = 1)' : '(1 = 0)');
      const other = e.left.kind === 'null' ? e.right : e.left;
      if (op === 'eq') return sql`(${this.compile(other)} IS NULL)`;
      if (op === 'ne') return sql`(${this.compile(other)} IS NOT NULL)`;
      return raw('(1 = 0)');
    }
    const symbol = { eq: '=', ne: '<>', gt: '>', ge: '>=', lt: '<', le: '<=' }[op];
    const left = this.compile(e.left);
    const right = this.compile(e.right);
    // OData: `a ne b` is true when exactly one side is null (SQL would say unknown).
    if (op === 'ne' && (nullable(e.left) || nullable(e.right))) {
      return sql`(${left} IS DISTINCT FROM ${right})`;
    }
    return sql`(${left} ${raw(symbol)} ${right})`;
  }

  private arithmetic(e: PlanExpr & { kind: 'arithmetic' }): Fragment {
    const l = this.compile(e.left);
    const r = this.compile(e.right);
    switch (e.op) {
      case 'add': return sql`(${l} + ${r})`;
      case 'sub': return sql`(${l} - ${r})`;
      case 'mul': return sql`(${l} * ${r})`;
      case 'div': return isIntegral(e.type) ? sql`(${l} / ${r})` : this.dialect.divide(l, r);
      case 'divby': return this.dialect.divide(l, r);
      case 'mod': return sql`(${l} % ${r})`;
    }
  }

  /**
   * The rows of a correlation's target and the column that holds the outer row's key.
   * The caller compiles any predicate first, so the scope's joins are registered.
   */
  private related(c: Correlation): { from: Fragment; holder: Fragment; outer: Fragment } {
    const alias = scopeAlias(c.scope);
    const outer = id(`${scopeAlias(c.outerScope)}.${c.outerKey}`);
    const joins = this.joins.for(c.scope);
    switch (c.storage.kind) {
      case 'reverse-foreign-key':
        return { from: sql`${id(c.table)} AS ${id(alias)} ${joins}`, holder: id(`${alias}.${c.storage.targetColumn}`), outer };
      case 'link-table': {
        const link = `${alias}_link`;
        return {
          from: sql`${id(c.storage.readTable)} AS ${id(link)} JOIN ${id(c.table)} AS ${id(alias)} ON ${id(`${alias}.${c.targetKey}`)} = ${id(`${link}.${c.storage.targetColumn}`)} ${joins}`,
          holder: id(`${link}.${c.storage.sourceColumn}`), outer,
        };
      }
      case 'foreign-key':
        return { from: sql`${id(c.table)} AS ${id(alias)} ${joins}`, holder: id(`${alias}.${c.targetKey}`), outer };
    }
  }

  /**
   * any()/all() as a semi-join: `outer IN (SELECT holder … WHERE pred)`. Unlike a correlated EXISTS,
   * the engine can start from the few related rows instead of probing every outer row.
   */
  private exists(e: PlanExpr & { kind: 'exists' }): Fragment {
    // all(): a member whose predicate is null (unknown) is a counterexample too, so test `IS NOT TRUE`.
    const pred = e.predicate && (e.negated ? sql`((${this.condition(e.predicate)}) IS NOT TRUE)` : this.condition(e.predicate));
    const { from, holder, outer } = this.related(e.correlation);
    // A predicate reading an outer lambda variable or $it makes the subquery correlated: as `outer IN (…)`
    // the engine would rebuild the whole related set for every outer row, so probe the holder's index instead.
    if (e.predicate && readsOuterScopes(e.predicate, e.correlation.scope)) {
      return sql`(${raw(e.negated ? 'NOT EXISTS' : 'EXISTS')} (SELECT 1 FROM ${from} WHERE ${holder} = ${outer} AND ${pred}))`;
    }
    const where = pred ? sql`${holder} IS NOT NULL AND ${pred}` : sql`${holder} IS NOT NULL`;
    return sql`(${outer} ${raw(e.negated ? 'NOT IN' : 'IN')} (SELECT ${holder} FROM ${from} WHERE ${where}))`;
  }

  private count(c: Correlation): Fragment {
    const { from, holder, outer } = this.related(c);
    return sql`(SELECT COUNT(*) FROM ${from} WHERE ${holder} = ${outer})`;
  }
}

function nullable(e: PlanExpr): boolean {
  return e.kind !== 'literal';
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

/** The keys a resource path reaches: `Contacts(1)/Groups` → SELECT link.GroupId FROM link WHERE link.ContactId IN (…) */
export function pathKeys(path: PathSource, dialect: Dialect): Fragment {
  let keys: Fragment = join(path.key.map((k) => dialect.bind(k.value, k.type)), ', ');
  path.steps.forEach((step, i) => {
    const a = `p${i}`;
    let select: Fragment;
    switch (step.storage.kind) {
      case 'foreign-key': {
        const col = id(`${a}.${step.storage.column}`);
        select = sql`SELECT ${col} FROM ${id(step.fromTable)} AS ${id(a)} WHERE ${id(`${a}.${step.fromKey}`)} IN (${keys}) AND ${col} IS NOT NULL`;
        if (step.keyValue !== undefined) select = sql`${select} AND ${col} = ${dialect.bind(step.keyValue, step.toKeyType)}`;
        break;
      }
      case 'reverse-foreign-key': {
        select = sql`SELECT ${id(`${a}.${step.toKey}`)} FROM ${id(step.toTable)} AS ${id(a)} WHERE ${id(`${a}.${step.storage.targetColumn}`)} IN (${keys})`;
        if (step.keyValue !== undefined) select = sql`${select} AND ${id(`${a}.${step.toKey}`)} = ${dialect.bind(step.keyValue, step.toKeyType)}`;
        break;
      }
      case 'link-table': {
        const col = id(`${a}.${step.storage.targetColumn}`);
        select = sql`SELECT ${col} FROM ${id(step.storage.readTable)} AS ${id(a)} WHERE ${id(`${a}.${step.storage.sourceColumn}`)} IN (${keys})`;
        if (step.keyValue !== undefined) select = sql`${select} AND ${col} = ${dialect.bind(step.keyValue, step.toKeyType)}`;
        break;
      }
    }
    keys = select;
  });
  return keys;
}
