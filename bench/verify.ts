/**
 * Before timing: both servers must answer 2xx, and the service's body must be the floor's, byte for byte.
 * Both requests carry the same Host header, so the absolute URLs in the bodies (context URLs, next links)
 * are the same text. The only normalisations are the values each server must generate itself (Compare
 * in scenarios.ts): a multipart answer's random boundary; a write's new keys and timestamps.
 */
import http from 'node:http';
import type { Compare, RequestSpec } from './scenarios';

export interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
}

/** The Host both servers see while verifying. */
export const VERIFY_HOST = 'bench.invalid';

/** Sends one request with node:http (fetch would not let the Host header be chosen). */
export function send(root: string, spec: RequestSpec, host?: string): Promise<Answer> {
  const url = new URL(`${root}/${spec.path}`);
  const body = spec.body === undefined ? undefined : Buffer.from(spec.body);
  const headers: Record<string, string | number> = { ...spec.headers };
  if (host) headers.host = host;
  if (body) headers['content-length'] = body.length;
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: spec.method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export const ok = (a: Answer): boolean => a.status >= 200 && a.status < 300;

const BOUNDARY = /(batchresponse|changesetresponse)_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const TIMESTAMP = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/g;

export function normalised(compare: Compare, text: string): string {
  switch (compare) {
    case 'bytes': case 'none': return text;
    case 'multipart': return text.replace(BOUNDARY, '$1_<boundary>');
    case 'write': return text.replace(UUID, '<uuid>').replace(TIMESTAMP, '<timestamp>');
  }
}

/** Where two texts first differ, with some context. */
function firstDifference(a: string, b: string): string {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const from = Math.max(0, i - 60);
  return `at byte ${i} of ${a.length} (service) / ${b.length} (floor): service …${JSON.stringify(a.slice(from, i + 60))} vs floor …${JSON.stringify(b.slice(from, i + 60))}`;
}

/** Differences (empty when the bodies agree after the scenario's normalisation). */
export function compareAnswers(compare: Compare, service: Answer, floor: Answer): string[] {
  if (compare === 'none') return [];
  const s = normalised(compare, service.text);
  const f = normalised(compare, floor.text);
  return s === f ? [] : [`body differs ${firstDifference(s, f)}`];
}
