/**
 * Turns the outcome of a write into the HTTP answer (OData Protocol §11.4): 201 with the entity and
 * `Location`, or 204 with `OData-EntityId`; 200 when an update is asked to return the entity; ETags
 * of changed entities in the `ETag` header.
 */
import { entityBody } from '../serialize/read-response';
import { entityId, type WriterContext } from '../serialize/entity-writer';
import { contentType } from '../serialize/format';
import { jsonText } from '../serialize/json-text';
import type { WriteOutcome } from '../write/execute-write';
import type { ApiResponse } from './api-request';
import { TOKEN_PROPERTY } from '../auth/personal-tokens';
import { keyRow } from '../plan/keys';

export function respondWrite(outcome: WriteOutcome, ctx: WriterContext, version: string): ApiResponse {
  const { serviceRoot, format } = ctx;
  const headers: Record<string, string> = { 'OData-Version': version };
  if (outcome.etag) headers.ETag = outcome.etag;
  if (outcome.kind === 'done') return { status: 204, headers };
  const { address } = outcome;
  const url = `${serviceRoot}/${entityId(address.set, keyRow(address.set.entityType, address.key))}`;
  if (outcome.created) headers.Location = url;
  if (!outcome.read) {
    if (outcome.created) {
      headers['OData-EntityId'] = url;
      headers['Preference-Applied'] = 'return=minimal';
    }
    return { status: 204, headers };
  }
  const body = entityBody(ctx, outcome.read.plan, outcome.read.result);
  if (body && outcome.issuedToken !== undefined) body[TOKEN_PROPERTY] = outcome.issuedToken;
  const applied = [...(outcome.created ? [] : ['return=representation']), ...(ctx.omitNulls ? ['omit-values=nulls'] : [])];
  if (applied.length > 0) headers['Preference-Applied'] = applied.join(', ');
  headers['Content-Type'] = contentType(format);
  return { status: outcome.created ? 201 : 200, headers, body: jsonText(body) };
}
