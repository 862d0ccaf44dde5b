/**
 * Requests the importer and exporter make to the service's own handler (as their caller), and the
 * small pieces of OData URL syntax they need: literals, key paths, error reasons.
 */
import { gatherBody, type ApiRequest, type ApiResponse } from '../http/api-request';
import type { Services } from '../http/handle';
import type { EdmEntitySet, EdmProperty } from '../edm/model';
import type { RequestUser } from '../plan/request-context';

export interface ServiceCaller {
  readonly services: Services;
  readonly handle: (req: ApiRequest, services: Services) => Promise<ApiResponse>;
  readonly serviceRoot: string;
  readonly caller: RequestUser;
}

export interface EntityPage {
  readonly value: Readonly<Record<string, unknown>>[];
  readonly nextLink?: string;
}

/** A failed request's answer, as an Error carrying the service's own message. */
export class ServiceError extends Error {
  constructor(readonly status: number, message: string, readonly body: string) {
    super(message);
  }
}

/** GET `path?query` through the handler; the answer's entities and next link. */
export async function getJson(target: ServiceCaller, path: string, query: string, prefer?: string): Promise<EntityPage> {
  // no control information but the next link: the callers read values only (and no ETag is computed per row)
  const headers: Record<string, string> = { accept: 'application/json;odata.metadata=none' };
  if (prefer) headers.prefer = prefer;
  const response = await target.handle({ method: 'GET', path: `/${path}`, query, headers, serviceRoot: target.serviceRoot, caller: target.caller }, target.services);
  const body = await gatherBody(response.body);
  if (response.status >= 400) throw new ServiceError(response.status, reasonOf(response.status, body), String(body ?? ''));
  const json = JSON.parse(String(body ?? '{}')) as { value?: Record<string, unknown>[]; '@odata.nextLink'?: string };
  return { value: json.value ?? [], nextLink: json['@odata.nextLink'] };
}

/** A next link (absolute, below the service root) → path and query for the handler. */
export function splitLink(link: string, serviceRoot: string): { path: string; query: string } {
  const rest = link.startsWith(serviceRoot) ? link.slice(serviceRoot.length) : new URL(link).pathname.replace(new URL(serviceRoot).pathname, '') + new URL(link).search;
  const q = rest.indexOf('?');
  const path = (q < 0 ? rest : rest.slice(0, q)).replace(/^\//, '');
  return { path, query: q < 0 ? '' : rest.slice(q + 1) };
}

/** An OData URL literal for a property's value (strings quoted, the rest as written). */
export function literalOf(property: EdmProperty, value: unknown): string {
  const text = String(value);
  if (property.type.kind === 'enum' || property.type.kind === 'primitive' && (property.type.name === 'Edm.String' || property.type.name === 'Edm.Binary')) {
    return `'${text.replace(/'/g, "''")}'`;
  }
  return text;
}

/** `Contacts(<key>)` for an entity from a JSON answer. */
export function keyPath(set: EdmEntitySet, entity: Readonly<Record<string, unknown>>): string {
  const type = set.entityType;
  const literal = (name: string): string => {
    const property = type.properties.find((p) => p.name === name);
    return encodeURIComponent(property ? literalOf(property, entity[name]) : String(entity[name]));
  };
  const inner = type.key.length === 1 ? literal(type.key[0]) : type.key.map((k) => `${k}=${literal(k)}`).join(',');
  return `${set.name}(${inner})`;
}

/** The reason an OData error answer gives: its message, target and details. */
export function reasonOf(status: number, body: string | Buffer | undefined): string {
  try {
    const parsed = JSON.parse(String(body ?? '')) as { error?: { code?: string; message?: string; target?: string; details?: { message?: string; target?: string }[] } };
    const error = parsed.error;
    if (error?.message) {
      const where = error.target ? ` (${error.target})` : '';
      const details = (error.details ?? []).map((d) => d.target ? `${d.target}: ${d.message ?? ''}` : d.message ?? '').filter((d) => d !== '' && d !== error.message && d !== `${error.target}: ${error.message}`);
      return `${status} ${error.code ?? ''}: ${error.message}${where}${details.length > 0 ? ` [${details.join('; ')}]` : ''}`;
    }
  } catch {
    // not JSON: the status alone says it
  }
  return `answered ${status}`;
}
