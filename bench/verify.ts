/**
 * Before timing: both servers must answer 2xx, and the service's JSON must agree with the floor's
 * (the same `value` rows in the same order, or the same entity / text). Disagreements are warnings.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Compare, RequestSpec } from './scenarios';

export interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
}

export async function send(root: string, spec: RequestSpec): Promise<Answer> {
  const res = await fetch(`${root}/${spec.path}`, { method: spec.method, headers: spec.headers, body: spec.body });
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', text: await res.text() };
}

export const ok = (a: Answer): boolean => a.status >= 200 && a.status < 300;

type Body = Record<string, unknown>;

/** Service-root-relative: the two servers listen on different ports. */
function withoutOrigin(body: Body): Body {
  const out: Body = {};
  for (const [k, v] of Object.entries(body)) out[k] = typeof v === 'string' && k.startsWith('@odata.') ? v.replace(/^https?:\/\/[^/]+/, '') : v;
  return out;
}

function idOf(row: unknown): string {
  return typeof row === 'object' && row !== null && 'Id' in row ? String(row.Id) : JSON.stringify(row);
}

function firstDifference(a: unknown, b: unknown, where = ''): string {
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return `${where || 'value'}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    const x = (a as Body)[k];
    const y = (b as Body)[k];
    if (!isDeepStrictEqual(x, y)) return firstDifference(x, y, `${where}${Array.isArray(a) ? `[${k}]` : `.${k}`}`);
  }
  return `${where}: key order or types differ`;
}

/** Warnings (empty when the bodies agree). */
export function compareAnswers(compare: Compare, service: Answer, floor: Answer): string[] {
  if (compare === 'none') return [];
  if (compare === 'text') return service.text.trim() === floor.text.trim() ? [] : [`body differs: service ${service.text.slice(0, 80)} vs floor ${floor.text.slice(0, 80)}`];
  const s = withoutOrigin(JSON.parse(service.text) as Body);
  const f = withoutOrigin(JSON.parse(floor.text) as Body);
  const warnings: string[] = [];
  if (s['@odata.context'] !== f['@odata.context']) warnings.push(`@odata.context differs: ${String(s['@odata.context'])} vs ${String(f['@odata.context'])}`);
  if (compare === 'entity') {
    if (!isDeepStrictEqual(s, f)) warnings.push(`entity differs at ${firstDifference(s, f)}`);
    return warnings;
  }
  const sv = Array.isArray(s.value) ? s.value : [];
  const fv = Array.isArray(f.value) ? f.value : [];
  const sIds = sv.map(idOf);
  const fIds = fv.map(idOf);
  if (sv.length === 0) warnings.push('the service returned no rows; the scenario measures an empty result');
  if (!isDeepStrictEqual(sIds, fIds)) {
    const i = sIds.findIndex((id, n) => id !== fIds[n]);
    warnings.push(`rows differ: service ${sv.length} rows, floor ${fv.length}; first mismatch at #${i}: ${sIds[i]} vs ${fIds[i]}`);
  } else if (!isDeepStrictEqual(sv, fv)) {
    warnings.push(`same ids, different row contents at ${firstDifference(sv, fv, 'value')}`);
  }
  if (s['@odata.nextLink'] !== f['@odata.nextLink']) warnings.push(`@odata.nextLink differs: ${String(s['@odata.nextLink'])} vs ${String(f['@odata.nextLink'])}`);
  return warnings;
}
