/**
 * The landing page's HTML: what the service is, its version, the entity sets (with the caller's
 * visible row counts once signed in), the links to `$metadata`, the OpenAPI document and the API
 * explorer, the Excel steps and how to sign in. Static HTML with one inline style sheet (allowed by
 * its hash in the page's Content-Security-Policy); no script.
 */
import { escapeHtml as h, styleHashSource } from './html';
import { SERVICE_TITLE, SERVICE_VERSION } from './service-info';
import type { SetCount } from './visible-counts';

export type Visitor =
  | { readonly kind: 'anonymous' }
  /** credentials were sent but refused (wrong password, expired token) */
  | { readonly kind: 'refused'; readonly reason: string }
  | { readonly kind: 'signed-in'; readonly userName: string; readonly role: string; readonly counts: ReadonlyMap<string, SetCount> };

export interface LandingView {
  /** absolute service root, e.g. https://crm.example.com/odata */
  readonly serviceRoot: string;
  /** where the portal pages are, as the client sees it (the service root without its base path) */
  readonly siteRoot: string;
  readonly entitySets: readonly string[];
  readonly visitor: Visitor;
  /** the query parameter that may carry a token (empty: none) */
  readonly apiKeyParameter: string;
}

const STYLE = `
body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d2430}
h1{margin-bottom:0}.version{color:#5a6473;margin-top:0}
table{border-collapse:collapse;margin:1rem 0}th,td{text-align:left;padding:.25rem 1rem .25rem 0;border-bottom:1px solid #dde2e8}
td.count{text-align:right;font-variant-numeric:tabular-nums}
code,pre{font:14px/1.4 ui-monospace,monospace;background:#f3f5f7}pre{padding:.75rem;overflow-x:auto}
.note{background:#fff6db;padding:.5rem .75rem}
nav a{margin-right:1.25rem}
`;

/** The style-src source that allows the page's style sheet and nothing else. */
export const LANDING_STYLE_SOURCE = styleHashSource(STYLE);

export function renderLandingPage(view: LandingView): string {
  const root = view.serviceRoot;
  const site = view.siteRoot;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${h(SERVICE_TITLE)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${h(SERVICE_TITLE)}</h1>
<p class="version">Version ${h(SERVICE_VERSION)} · OData v4 · service root <code>${h(root)}</code></p>
<p>CRM data (contacts, companies, groups, opportunities, activities, notes, …) as an OData v4 service:
query it with <code>$filter</code>, <code>$select</code>, <code>$expand</code>, <code>$orderby</code> and paging, and write with JSON.</p>
<nav>
<a href="${h(root)}/$metadata">$metadata</a>
<a href="${h(root)}?$format=json">Service document</a>
<a href="${h(root)}/openapi.json">OpenAPI document</a>
<a href="${h(site)}/docs">API explorer</a>
</nav>
${visitorSection(view)}
${entitySetTable(view)}
<h2 id="excel">Connect from Excel or Power BI</h2>
<ol>
<li>Excel: <em>Data → Get Data → From Other Sources → From OData Feed</em> (Power BI: <em>Get data → OData feed</em>).</li>
<li>URL: <code>${h(root)}</code></li>
<li>Credentials: <em>Basic</em>, with your user name and password (or a personal token: see <em>Signing in</em>).</li>
<li>Pick the entity sets in the navigator and load or transform them.</li>
</ol>
<p>The README's section <em>Connect from Excel / Power BI</em> has the details (refresh, large tables, filters that run on the server).</p>
<h2 id="sign-in">Signing in</h2>
<p><code>$metadata</code>, the service document and the OpenAPI document are open; everything else needs a caller.</p>
<ul>
<li>In this browser: <a href="${h(site)}/?sign-in">sign in with your user name and password</a> (HTTP Basic; the browser keeps
them until it is closed, and sends them to the OData URLs of this service too).</li>
<li>A token for programs (valid one hour, with a refresh token):
<pre>curl -d grant_type=password -d username=&lt;user&gt; --data-urlencode password=&lt;password&gt; ${h(site)}/auth/token</pre>
then send <code>Authorization: Bearer &lt;access_token&gt;</code>.</li>
<li>HTTP Basic from any client: <code>curl -u &lt;user&gt;:&lt;password&gt; '${h(root)}/Contacts?$top=5'</code></li>
${view.apiKeyParameter === '' ? '' : `<li>Clients that cannot send headers: add <code>${h(view.apiKeyParameter)}=&lt;token&gt;</code> to the query string.</li>`}
<li>In the <a href="${h(site)}/docs">API explorer</a>: <em>Authorize</em>, then a Bearer token or user name and password.</li>
</ul>
</body>
</html>
`;
}

function visitorSection(view: LandingView): string {
  const { visitor } = view;
  switch (visitor.kind) {
    case 'anonymous':
      return `<p class="note">Not signed in: the row counts are shown to signed-in callers only (each sees the rows their record access allows). <a href="${h(view.siteRoot)}/?sign-in">Sign in</a></p>`;
    case 'refused':
      return `<p class="note">Sign-in failed: ${h(visitor.reason)}. <a href="${h(view.siteRoot)}/?sign-in">Try again</a></p>`;
    case 'signed-in':
      return `<p>Signed in as <strong>${h(visitor.userName)}</strong> (${h(visitor.role)}). The counts are the rows you can see.</p>`;
  }
}

function entitySetTable(view: LandingView): string {
  const counts = view.visitor.kind === 'signed-in' ? view.visitor.counts : undefined;
  const rows = view.entitySets.map((name) => {
    const link = `${view.serviceRoot}/${encodeURIComponent(name)}?$top=10`;
    const count = counts === undefined ? '' : `<td class="count">${h(countText(counts.get(name)))}</td>`;
    return `<tr><td><a href="${h(link)}">${h(name)}</a></td>${count}</tr>`;
  });
  const head = counts === undefined ? '<tr><th>Entity set</th></tr>' : '<tr><th>Entity set</th><th>Rows you can see</th></tr>';
  return `<h2>Entity sets</h2>\n<table id="entity-sets">\n${head}\n${rows.join('\n')}\n</table>`;
}

function countText(count: SetCount | undefined): string {
  if (count === undefined) return '–';
  switch (count.kind) {
    case 'counted': return count.rows.toLocaleString('en-US');
    case 'unavailable': return count.status === 403 ? 'no access' : 'unavailable';
  }
}
