/** HTML text for the portal pages: every value written into a page goes through `escapeHtml`. */
import { createHash } from 'node:crypto';

const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for element content and quoted attribute values alike. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

/** A value for the Content-Security-Policy `style-src` that allows exactly this inline style sheet. */
export function styleHashSource(css: string): string {
  return `'sha256-${createHash('sha256').update(css, 'utf8').digest('base64')}'`;
}

/**
 * Whether an `Accept` header asks for a page rather than data: `text/html` named with a weight
 * greater than zero and at least that of JSON. Browsers name text/html first (any other type at
 * q=0.8); OData clients name JSON or accept any type.
 */
export function prefersHtml(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  let html = 0;
  let json = 0;
  for (const item of accept.split(',')) {
    const [range, ...params] = item.split(';').map((s) => s.trim().toLowerCase());
    const qParam = params.find((p) => p.startsWith('q='));
    const q = qParam === undefined ? 1 : Number.parseFloat(qParam.slice(2));
    if (!(q > 0)) continue;
    if (range === 'text/html' || range === 'application/xhtml+xml') html = Math.max(html, q);
    if (range === 'application/json') json = Math.max(json, q);
  }
  return html > 0 && html >= json;
}
