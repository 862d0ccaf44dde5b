/**
 * Finds the credential a request carries: `Authorization: Bearer`, the `ACCESS_TOKEN` and `Token`
 * headers (Wealthbox clients), `Authorization: Basic` (Excel), or a token in the query parameter
 * whose name is a setting (Power Query's "Web API key"). Nothing here touches the database.
 */
export type Credential =
  | { readonly kind: 'none' }
  | { readonly kind: 'token'; readonly token: string }
  | { readonly kind: 'password'; readonly userName: string; readonly password: string }
  | { readonly kind: 'malformed'; readonly message: string };

/** token68 (RFC 7235 §2.1), which every token this service issues matches */
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

export function credentialOf(headers: Readonly<Record<string, string | undefined>>, queryKey: string | undefined): Credential {
  const authorization = headers.authorization;
  if (authorization !== undefined) return fromAuthorization(authorization);
  for (const name of ['access_token', 'token']) {
    const value = headers[name];
    if (value !== undefined) return tokenCredential(value.trim(), name);
  }
  if (queryKey !== undefined) return tokenCredential(queryKey, 'the API key parameter');
  return { kind: 'none' };
}

function fromAuthorization(value: string): Credential {
  const match = /^([A-Za-z]+) +(.*)$/.exec(value.trim());
  if (!match) return { kind: 'malformed', message: 'The Authorization header is not "<scheme> <credentials>"' };
  const scheme = match[1].toLowerCase();
  const rest = match[2].trim();
  if (scheme === 'bearer') return tokenCredential(rest, 'the Bearer credentials');
  if (scheme !== 'basic') return { kind: 'malformed', message: `The Authorization scheme ${match[1].slice(0, 20)} is not supported; use Bearer or Basic` };
  if (!TOKEN68.test(rest)) return { kind: 'malformed', message: 'The Basic credentials are not base64' };
  const decoded = Buffer.from(rest, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return { kind: 'malformed', message: 'The Basic credentials are not "user name:password"' };
  return { kind: 'password', userName: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function tokenCredential(token: string, where: string): Credential {
  if (token === '' || token.length > 512 || !TOKEN68.test(token)) return { kind: 'malformed', message: `The token in ${where} is not well-formed` };
  return { kind: 'token', token };
}

/**
 * The query string without the API key parameter (so it reaches neither the parser, nor next links,
 * nor context URLs, nor logs), and the key's value. Given twice, the key is refused.
 */
export function takeQueryKey(query: string, parameter: string): { readonly query: string; readonly key?: string; readonly repeated: boolean } {
  if (parameter === '' || query === '' || !query.toLowerCase().includes(parameter.toLowerCase())) return { query, repeated: false };
  const kept: string[] = [];
  const keys: string[] = [];
  for (const part of query.split('&')) {
    const eq = part.indexOf('=');
    const name = safeDecode(eq < 0 ? part : part.slice(0, eq));
    if (name === parameter) keys.push(safeDecode(eq < 0 ? '' : part.slice(eq + 1)));
    else kept.push(part);
  }
  return { query: kept.join('&'), key: keys[0], repeated: keys.length > 1 };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}
