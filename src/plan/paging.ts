/**
 * Stable ordering and keyset paging. Every ordered read ends with the key, and a next page starts
 * strictly after the last row's sort values (a $skiptoken), so pages neither repeat nor lose rows
 * when data changes between requests, and a deep page costs what the first one does.
 * Nulls sort first ascending, last descending (OData URL Conventions §5.1.5), on every engine.
 */
import { ODataError } from '../errors/odata-error';
import type { OrderPlan, PlanExpr, ValueType } from './plan';
import { typeOf } from './plan-expression';

export type KeysetValue = string | number | boolean | null;

export function encodeSkiptoken(modelVersion: string, values: readonly KeysetValue[]): string {
  return Buffer.from(JSON.stringify({ m: modelVersion, v: values })).toString('base64url');
}

export function decodeSkiptoken(token: string, modelVersion: string, expectedLength: number): KeysetValue[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw new ODataError('INVALID_SKIPTOKEN', 'The $skiptoken is not one this service issued', { target: '$skiptoken' });
  }
  const p = parsed as { m?: unknown; v?: unknown };
  if (typeof p !== 'object' || p === null || !Array.isArray(p.v) || p.v.length !== expectedLength
    || !p.v.every((x) => x === null || ['string', 'number', 'boolean'].includes(typeof x))) {
    throw new ODataError('INVALID_SKIPTOKEN', 'The $skiptoken does not match this request\'s ordering', { target: '$skiptoken' });
  }
  if (p.m !== modelVersion) throw new ODataError('INVALID_SKIPTOKEN', 'The $skiptoken was issued for an older model; start again from the first page', { target: '$skiptoken' });
  return p.v as KeysetValue[];
}

function literal(value: KeysetValue, type: ValueType): PlanExpr {
  return value === null ? { kind: 'null' } : { kind: 'literal', value, type };
}

/** Rows strictly after `values` in the given order: (o1 > v1) or (o1 = v1 and o2 > v2) or ... */
export function keysetCondition(order: readonly OrderPlan[], values: readonly KeysetValue[]): PlanExpr {
  let result: PlanExpr | undefined;
  for (let i = order.length - 1; i >= 0; i--) {
    const { expr, descending } = order[i];
    const v = values[i];
    const lit = literal(v, typeOf(expr));
    const isNull: PlanExpr = { kind: 'compare', op: 'eq', left: expr, right: { kind: 'null' } };
    const notNull: PlanExpr = { kind: 'not', operand: isNull };
    // strictly after v in this column
    let after: PlanExpr | undefined;
    if (v === null) after = descending ? undefined : notNull;
    else if (descending) after = { kind: 'or', left: { kind: 'compare', op: 'lt', left: expr, right: lit }, right: isNull };
    else after = { kind: 'compare', op: 'gt', left: expr, right: lit };
    const equal: PlanExpr = v === null ? isNull : { kind: 'compare', op: 'eq', left: expr, right: lit };
    const tail: PlanExpr | undefined = result ? { kind: 'and', left: equal, right: result } : undefined;
    result = after && tail ? { kind: 'or', left: after, right: tail } : (after ?? tail ?? { kind: 'literal', value: false, type: { kind: 'primitive', name: 'Edm.Boolean' } });
  }
  if (result === undefined) return { kind: 'literal', value: true, type: { kind: 'primitive', name: 'Edm.Boolean' } };
  // `o1 >= v1` as well: implied by the disjunction, but an index can start there (an OR alone makes the
  // database walk the index from the first row, 5 000 rows deep for a page 5 000 rows in)
  const [first] = order;
  if (order.length > 1 && !first.descending && values[0] !== null) {
    return { kind: 'and', left: { kind: 'compare', op: 'ge', left: first.expr, right: literal(values[0], typeOf(first.expr)) }, right: result };
  }
  return result;
}
