/** Which scopes a planned expression reads from outside itself (decides whether a subquery is correlated). */
import type { PlanExpr } from './plan';

/** The scopes `e` refers to that it does not open itself (a correlation opens its own scope). */
export function freeScopes(e: PlanExpr, into: Set<number> = new Set()): Set<number> {
  switch (e.kind) {
    case 'column': case 'search-term': case 'path-restriction': into.add(e.scope); break;
    case 'literal': case 'null': break;
    case 'compare': case 'and': case 'or': case 'arithmetic': freeScopes(e.left, into); freeScopes(e.right, into); break;
    case 'not': case 'negate': freeScopes(e.operand, into); break;
    case 'function': for (const a of e.args) freeScopes(a, into); break;
    case 'in': freeScopes(e.left, into); for (const x of e.list) freeScopes(x, into); break;
    case 'count': into.add(e.correlation.outerScope); break;
    case 'element': into.add(e.scope); break;
    case 'element-count': freeScopes(e.collection, into); break;
    case 'element-exists': {
      freeScopes(e.collection, into);
      if (e.predicate) for (const s of freeScopes(e.predicate)) if (s !== e.scope) into.add(s);
      break;
    }
    case 'exists': {
      into.add(e.correlation.outerScope);
      if (e.predicate) for (const s of freeScopes(e.predicate)) if (s !== e.correlation.scope) into.add(s);
      break;
    }
  }
  return into;
}

/** True when a lambda's predicate reads a scope other than its own (an outer lambda variable or `$it`). */
export function readsOuterScopes(predicate: PlanExpr, ownScope: number): boolean {
  for (const s of freeScopes(predicate)) if (s !== ownScope) return true;
  return false;
}
