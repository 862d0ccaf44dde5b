/**
 * The landing page's row counts: each entity set's `/$count` asked through the service's own
 * handler as the signed-in caller, so record access decides what is counted exactly as for any
 * request of theirs. The caller was authenticated (and rate limited) once for the page.
 */
import type { RequestUser } from '../../plan/request-context';
import { handle, type Services } from '../handle';

export type SetCount =
  | { readonly kind: 'counted'; readonly rows: number }
  /** the caller may not read the set (403), or the count failed: the page says so instead of a number */
  | { readonly kind: 'unavailable'; readonly status: number };

export interface CountRequest {
  readonly caller: RequestUser;
  readonly serviceRoot: string;
  readonly requestId: string;
  readonly remoteAddress: string | undefined;
}

export async function visibleCounts(setNames: readonly string[], request: CountRequest, services: Services): Promise<ReadonlyMap<string, SetCount>> {
  const counted = await Promise.all(setNames.map(async (name): Promise<[string, SetCount]> => {
    const response = await handle({
      method: 'GET', path: `/${encodeURIComponent(name)}/$count`, query: '', headers: { accept: 'text/plain' },
      serviceRoot: request.serviceRoot, requestId: request.requestId, remoteAddress: request.remoteAddress, caller: request.caller,
    }, services);
    const text = typeof response.body === 'string' ? response.body : Buffer.isBuffer(response.body) ? response.body.toString('utf8') : '';
    const rows = Number(text);
    return [name, response.status === 200 && Number.isSafeInteger(rows) ? { kind: 'counted', rows } : { kind: 'unavailable', status: response.status }];
  }));
  return new Map(counted);
}
