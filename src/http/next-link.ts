/**
 * The absolute @odata.nextLink: the request's own URL with its original options, `$skip` dropped
 * (the keyset replaces it), `$top` reduced by the rows already sent, and the new `$skiptoken`.
 */
import type { ApiRequest } from './api-request';

const DROPPED = new Set(['skiptoken', 'skip', 'top']);

export function nextLinkFor(req: ApiRequest, skiptoken: string, remainingTop: number | undefined): string {
  const kept = req.query.split('&').filter((part) => {
    if (part === '') return false;
    let name = part.split('=')[0];
    try { name = decodeURIComponent(name); } catch { /* kept as is */ }
    return !DROPPED.has(name.replace(/^\$/, '').toLowerCase());
  });
  if (remainingTop !== undefined) kept.push(`$top=${remainingTop}`);
  kept.push(`$skiptoken=${skiptoken}`);
  return `${req.serviceRoot}${req.path.startsWith('/') ? req.path : '/' + req.path}?${kept.join('&')}`;
}
