/**
 * Key values: from a URL literal to the value a query binds, and back to canonical URL text.
 */
import { PlanError } from '../errors/odata-error';
import type { EdmProperty } from '../edm/model';
import type { Literal } from '../uri/ast';

export function keyValue(keyProp: EdmProperty, literal: Literal): string | number | boolean {
  const t = keyProp.type.kind === 'primitive' ? keyProp.type.name : 'Edm.String';
  if (literal.type === t) return (literal as { value: string }).value;
  if (t === 'Edm.Int64' && literal.type === 'Edm.Int32') return Number(literal.value);
  throw new PlanError('INVALID_KEY', `The key ${keyProp.name} is of type ${t}; got ${literal.type === 'null' ? 'null' : literal.type}`, { target: 'path' });
}

export function formatKey(keyProp: EdmProperty, value: string | number | boolean): string {
  const t = keyProp.type.kind === 'primitive' ? keyProp.type.name : 'Edm.String';
  if (t === 'Edm.String') return `'${String(value).replace(/'/g, "''")}'`;
  return String(value);
}
