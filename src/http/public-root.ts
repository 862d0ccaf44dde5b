/**
 * The service root as clients see it, and the client's address, behind a reverse proxy. Context
 * URLs, next links, `Location`, `OData-EntityId` and `@odata.id` are all built from the root this
 * module answers. `ODATA_PUBLIC_URL` wins; otherwise the X-Forwarded-Proto/-Host/-Prefix of a proxy
 * listed in `ODATA_TRUSTED_PROXIES` are believed (anyone else's are ignored); otherwise the root is
 * the scheme and Host the request arrived with.
 */
import { isIP } from 'node:net';
import { ODataError } from '../errors/odata-error';

export interface ProxySettings {
  /** the public service root, without a trailing slash */
  readonly publicUrl?: string;
  readonly trustedProxies: ReadonlySet<string>;
}

export interface ArrivedRequest {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly remoteAddress: string | undefined;
  readonly encrypted: boolean;
}

export interface ClientView {
  readonly serviceRoot: string;
  /** the client's address: the peer's, or behind trusted proxies the first untrusted one in X-Forwarded-For */
  readonly remoteAddress: string | undefined;
  readonly https: boolean;
}

const HOST = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/;
const PREFIX = /^(\/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)*\/?$/;

export function proxySettingsOf(publicUrl: string, trustedProxies: string): ProxySettings {
  const proxies = new Set(trustedProxies.split(',').map((s) => s.trim()).filter((s) => s !== '').map(normalAddress));
  for (const address of proxies) if (isIP(address) === 0) throw new Error(`ODATA_TRUSTED_PROXIES: ${address} is not an IP address`);
  if (publicUrl === '') return { trustedProxies: proxies };
  let parsed: URL | undefined;
  try { parsed = new URL(publicUrl); } catch { parsed = undefined; }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.search !== '' || parsed.hash !== '') {
    throw new Error(`ODATA_PUBLIC_URL must be an absolute http(s) URL without query or fragment, got ${publicUrl}`);
  }
  return { publicUrl: `${parsed.origin}${parsed.pathname.replace(/\/$/, '')}`, trustedProxies: proxies };
}

export function clientViewOf(req: ArrivedRequest, basePath: string, settings: ProxySettings): ClientView {
  const peer = req.remoteAddress === undefined ? undefined : normalAddress(req.remoteAddress);
  const trusted = peer !== undefined && settings.trustedProxies.has(peer);
  const remoteAddress = trusted ? clientBehind(header(req, 'x-forwarded-for', 'last'), settings.trustedProxies) ?? peer : peer;
  if (settings.publicUrl !== undefined) return { serviceRoot: settings.publicUrl, remoteAddress, https: settings.publicUrl.startsWith('https:') };
  let scheme = req.encrypted ? 'https' : 'http';
  let host = header(req, 'host', 'first') ?? 'localhost';
  let prefix = '';
  if (trusted) {
    const proto = header(req, 'x-forwarded-proto', 'first')?.toLowerCase();
    if (proto !== undefined) {
      if (proto !== 'http' && proto !== 'https') throw forwarded('X-Forwarded-Proto', 'http or https');
      scheme = proto;
    }
    const forwardedHost = header(req, 'x-forwarded-host', 'first');
    if (forwardedHost !== undefined) {
      if (!HOST.test(forwardedHost)) throw forwarded('X-Forwarded-Host', 'a host name with an optional port');
      host = forwardedHost;
    }
    const forwardedPrefix = header(req, 'x-forwarded-prefix', 'first');
    if (forwardedPrefix !== undefined) {
      if (!PREFIX.test(forwardedPrefix)) throw forwarded('X-Forwarded-Prefix', 'an absolute path');
      prefix = forwardedPrefix.replace(/\/$/, '');
    }
  }
  return { serviceRoot: `${scheme}://${host}${prefix}${basePath}`, remoteAddress, https: scheme === 'https' };
}

/** X-Forwarded-For read from the right (the nearest hop): the first address that is not a trusted proxy. */
function clientBehind(forwardedFor: string | undefined, trusted: ReadonlySet<string>): string | undefined {
  if (forwardedFor === undefined) return undefined;
  const hops = forwardedFor.split(',').map((s) => normalAddress(s.trim())).filter((s) => s !== '');
  for (let i = hops.length - 1; i >= 0; i--) {
    if (isIP(hops[i]) === 0) return undefined;
    if (!trusted.has(hops[i])) return hops[i];
  }
  return hops[0];
}

/** Proxies may repeat a header; X-Forwarded-For's hops are all kept, the others' first value counts. */
function header(req: ArrivedRequest, name: string, which: 'first' | 'last'): string | undefined {
  const value = req.headers[name];
  if (value === undefined) return undefined;
  const joined = Array.isArray(value) ? value.join(', ') : value;
  if (which === 'last') return joined;
  return joined.split(',')[0].trim();
}

function normalAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

function forwarded(name: string, expected: string): ODataError {
  return new ODataError('MALFORMED_REQUEST', `${name} from the proxy must be ${expected}`, { target: name });
}
