/**
 * `$compute` (OData 4.01 Protocol §11.2.5.3, URL Conventions §5.1.8) on a read: each `expr as Alias`
 * becomes a dynamic property that `$filter`, `$orderby` and `$select` (here and inside `$expand`) may
 * name; its value is computed in the page query. Aliases may not hide declared members.
 */
import { PlanError } from '../errors/odata-error';
import { resolveMember } from '../edm/lookup';
import type { EdmEntityType } from '../edm/model';
import type { ComputeItem, SelectItem } from '../uri/ast';
import type { DynamicProperty, PlanExpr, ValueType } from './plan';
import { planExpression, typeOf, type ExprContext } from './plan-expression';

export interface ComputedName {
  readonly expr: PlanExpr;
  readonly type: ValueType;
  readonly column: string;
}

/** The SQL alias of a computed value: never the name of a stored column. */
export function computedColumn(alias: string): string {
  return `__c_${alias}`;
}

/** The static type a computed value is written with (a bare `null` has none: Edm.String). */
export function computedType(expr: PlanExpr): ValueType {
  const t = typeOf(expr);
  return t.kind === 'null' ? { kind: 'primitive', name: 'Edm.String' } : t;
}

export function checkAlias(alias: string, taken: (name: string) => boolean, where: string, position: number): void {
  if (taken(alias)) {
    throw new PlanError('INVALID_QUERY_OPTION', `the alias '${alias}' at position ${position} in ${where} is already a property name`, { target: where, position });
  }
}

export function planComputed(items: readonly ComputeItem[], type: EdmEntityType, into: Map<string, ComputedName>, ctx: ExprContext): void {
  for (const item of items) {
    checkAlias(item.alias, (name) => into.has(name) || 'found' in resolveMember(type, name), ctx.where, item.position);
    const expr = planExpression(item.expr, ctx);
    into.set(item.alias, { expr, type: computedType(expr), column: computedColumn(item.alias) });
  }
}

/** `$select` split into declared items and the computed properties it names (all of them without `$select` or with `*`). */
export function selectComputed(select: readonly SelectItem[] | undefined, computed: ReadonlyMap<string, ComputedName>): { declared: readonly SelectItem[] | undefined; dynamic: DynamicProperty[] } {
  const property = (name: string, c: ComputedName): DynamicProperty => ({ path: [name], column: c.column, expr: c.expr, type: c.type });
  if (computed.size === 0) return { declared: select, dynamic: [] };
  const isComputed = (item: SelectItem) => item.kind === 'path' && item.segments.length === 1 && computed.has(item.segments[0].name);
  if (select === undefined || select.some((i) => i.kind === 'all')) {
    return { declared: select?.filter((i) => !isComputed(i)), dynamic: [...computed].map(([name, c]) => property(name, c)) };
  }
  const dynamic: DynamicProperty[] = [];
  for (const item of select) {
    if (item.kind !== 'path' || !isComputed(item)) continue;
    const name = item.segments[0].name;
    if (!dynamic.some((d) => d.path[0] === name)) dynamic.push(property(name, computed.get(name)!));
  }
  return { declared: select.filter((i) => !isComputed(i)), dynamic };
}

/** The context URL's select list: the declared items (`*` included), then the selected computed properties. */
export function contextOrder(declared: readonly string[], dynamic: readonly DynamicProperty[]): string[] {
  return [...declared, ...dynamic.map((d) => d.path.join('/'))];
}
