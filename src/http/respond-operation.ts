/**
 * The answer of an action or function (OData JSON Format §18): 204 for none, entities as a
 * collection or entity body, primitives as `{"value": …}` and complex values as objects, each with
 * the context URL of its declared return type.
 */
import type { EdmOperation } from '../edm/model';
import { typeRefName } from '../edm/model';
import type { OperationOutcome } from '../operations/execute-operation';
import { collectionJson, entityBody } from '../serialize/read-response';
import type { WriterContext } from '../serialize/entity-writer';
import { contentType, decimalJson } from '../serialize/format';
import { jsonText } from '../serialize/json-text';
import type { ApiResponse } from './api-request';

export function respondOperation(operation: EdmOperation, outcome: OperationOutcome, ctx: WriterContext, version: string): ApiResponse {
  const headers: Record<string, string> = { 'OData-Version': version };
  if (outcome.kind === 'none') return { status: 204, headers };
  headers['Content-Type'] = contentType(ctx.format);
  const ret = operation.returnType;
  if (outcome.kind === 'entities') {
    if (!outcome.single) return { status: 200, headers, body: { chunks: collectionJson(ctx, outcome.plan, outcome.result, undefined) } };
    return { status: 200, headers, body: jsonText(entityBody(ctx, outcome.plan, outcome.result)) };
  }
  const typeName = ret && ret.type.kind !== 'entity' ? typeRefName(ret.type) : 'Edm.String';
  const context = `${ctx.serviceRoot}/$metadata#${ret?.collection ? `Collection(${typeName})` : typeName}`;
  const meta = ctx.format.metadata !== 'none' ? { '@odata.context': context } : {};
  const complex = ret?.type.kind === 'complex' && !ret.collection;
  const value = ret?.type.kind === 'primitive' && ret.type.name === 'Edm.Decimal' && !ret.collection && typeof outcome.value === 'string'
    ? decimalJson(outcome.value, ctx.format) : outcome.value;
  const body = complex ? Object.assign(meta, outcome.value as Record<string, unknown>) : Object.assign(meta, { value });
  return { status: 200, headers, body: jsonText(body) };
}
