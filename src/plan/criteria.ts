/**
 * A dynamic group's Criteria: a `$filter` over Contacts, parsed and planned by the same parser and
 * planner as a URL's `$filter`, plus the tables it reads (so writes to them can recompute the
 * groups that depend on them). A criteria that does not plan is an OData error with its position.
 */
import type { EdmEntitySet, EdmModel } from '../edm/model';
import { DYNAMIC_MEMBERSHIP } from '../edm/storage';
import { ODataError, PlanError, type ErrorDetail } from '../errors/odata-error';
import { parseExpression } from '../uri/parse-expression';
import { expressionContext } from '../uri/parse-query-options';
import { Scanner } from '../uri/scanner';
import type { PlanExpr } from './plan';
import { planExpression, typeOf } from './plan-expression';

export const CRITERIA_SCOPE = 0;
const CRITERIA_TARGET = 'Criteria';
/** the same bound as the default for a URL's $filter */
const MAX_CRITERIA_NODES = 500;

export interface PlannedCriteria {
  /** a Boolean condition over scope CRITERIA_SCOPE, a row of Contacts */
  readonly predicate: PlanExpr;
  /** every table the condition reads besides Contacts (joined sets, link tables) */
  readonly reads: ReadonlySet<string>;
}

export type CriteriaOutcome = { readonly ok: PlannedCriteria } | { readonly problem: ErrorDetail };

const plannedByModel = new WeakMap<EdmModel, Map<string, CriteriaOutcome>>();
const MAX_CACHED = 1000;

/** Plans a criteria text against the model (memoised per model and text); a problem names its position. */
export function planCriteria(model: EdmModel, contacts: EdmEntitySet, text: string): CriteriaOutcome {
  let cache = plannedByModel.get(model);
  if (!cache) plannedByModel.set(model, (cache = new Map()));
  let outcome = cache.get(text);
  if (outcome === undefined) {
    outcome = planUncached(model, contacts, text);
    if (cache.size >= MAX_CACHED) cache.clear();
    cache.set(text, outcome);
  }
  return outcome;
}

function planUncached(model: EdmModel, contacts: EdmEntitySet, text: string): CriteriaOutcome {
  try {
    const s = new Scanner(text, CRITERIA_TARGET);
    const parsed = parseExpression(s, expressionContext({ aliases: new Map(), nested: false }));
    s.skipSpaces();
    if (!s.done) s.fail(`unexpected '${s.rest().slice(0, 20)}'`);
    let next = CRITERIA_SCOPE + 1;
    const predicate = planExpression(parsed, {
      model, scopes: [{ id: CRITERIA_SCOPE, set: contacts }], nextScope: () => next++, where: CRITERIA_TARGET, maxNodes: MAX_CRITERIA_NODES, nodes: 0,
    });
    const type = typeOf(predicate);
    if (!(type.kind === 'primitive' && type.name === 'Edm.Boolean')) {
      throw new PlanError('TYPE_MISMATCH', `Criteria must be a Boolean expression over ${contacts.entityType.qualifiedName} at position 0 in Criteria`, { position: 0 });
    }
    const reads = new Set<string>();
    collectTables(predicate, reads);
    if (reads.has(DYNAMIC_MEMBERSHIP.linkTable)) {
      throw new PlanError('INVALID_ARGUMENTS', 'Criteria cannot refer to group membership (Groups of a contact): a group would depend on groups, at position 0 in Criteria', { position: 0 });
    }
    return { ok: { predicate, reads } };
  } catch (err) {
    if (!(err instanceof ODataError) || (err.status >= 500 && err.code !== 'NOT_IMPLEMENTED')) throw err;
    return { problem: { code: err.code, target: CRITERIA_TARGET, message: err.message } };
  }
}

/** 400 for a Criteria a client writes that does not plan: the whole write fails, nothing changes. */
export function invalidCriteriaError(problem: ErrorDetail): ODataError {
  return new ODataError('VALIDATION_FAILED', `Criteria is not a valid $filter over Contacts: ${problem.message}`, { target: CRITERIA_TARGET, details: [problem] });
}

function collectTables(e: PlanExpr, out: Set<string>): void {
  switch (e.kind) {
    case 'column': for (const j of e.joins) out.add(j.table); return;
    case 'literal': case 'null': case 'search-term': case 'path-restriction': case 'element': return;
    case 'element-count': collectTables(e.collection, out); return;
    case 'element-exists': collectTables(e.collection, out); if (e.predicate) collectTables(e.predicate, out); return;
    case 'compare': case 'and': case 'or': case 'arithmetic': collectTables(e.left, out); collectTables(e.right, out); return;
    case 'not': case 'negate': collectTables(e.operand, out); return;
    case 'function': for (const a of e.args) collectTables(a, out); return;
    case 'in': collectTables(e.left, out); for (const x of e.list) collectTables(x, out); return;
    case 'exists': case 'count': {
      const c = e.correlation;
      out.add(c.table);
      if (c.storage.kind === 'link-table') out.add(c.storage.table);
      if (e.kind === 'exists' && e.predicate) collectTables(e.predicate, out);
      return;
    }
  }
}
