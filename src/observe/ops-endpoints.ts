/**
 * The operator's endpoints beside the service root: `GET /healthz` (the process answers),
 * `GET /readyz` (see readiness.ts; 503 with the failed checks otherwise) and `GET /metrics`
 * (Prometheus text). No credentials and no rate limit: probes and scrapers call them often.
 */
import { ODataError } from '../errors/odata-error';
import type { ApiResponse } from '../http/api-request';
import { METRICS_CONTENT_TYPE, type ServiceMetrics } from './metrics';
import { checkReadiness, type ReadinessProbe } from './readiness';

export type OpsEndpoint = 'healthz' | 'readyz' | 'metrics';

export const OPS_PATHS: Readonly<Record<string, OpsEndpoint>> = { '/healthz': 'healthz', '/readyz': 'readyz', '/metrics': 'metrics' };

export interface OpsServices {
  readonly metrics: ServiceMetrics;
  readonly readiness: ReadinessProbe;
  /** under node:cluster: every worker's metrics, aggregated by the primary (absent: this process's) */
  readonly clusterMetrics?: () => Promise<string>;
}

const NO_CACHE = { 'Cache-Control': 'no-store' };

/** The endpoint a URL (path and query) names, if any. */
export function opsEndpointOf(url: string): OpsEndpoint | undefined {
  const q = url.indexOf('?');
  return OPS_PATHS[q < 0 ? url : url.slice(0, q)];
}

export async function answerOps(endpoint: OpsEndpoint, method: string, ops: OpsServices): Promise<ApiResponse> {
  if (method !== 'GET' && method !== 'HEAD') {
    return failure(new ODataError('METHOD_NOT_ALLOWED', `/${endpoint} answers GET and HEAD only`), { Allow: 'GET, HEAD' });
  }
  const response = await answerGet(endpoint, ops);
  return method === 'HEAD' ? { status: response.status, headers: response.headers } : response;
}

async function answerGet(endpoint: OpsEndpoint, ops: OpsServices): Promise<ApiResponse> {
  switch (endpoint) {
    case 'healthz':
      return json(200, { status: 'up', pid: process.pid, uptimeSeconds: Math.round(process.uptime()) });
    case 'readyz': {
      const checks = await checkReadiness(ops.readiness);
      const failed = checks.filter((c) => !c.ok);
      if (failed.length === 0) return json(200, { status: 'ready', checks: Object.fromEntries(checks.map((c) => [c.name, c.message])) });
      const error = new ODataError('SERVICE_UNAVAILABLE', `Not ready: ${failed.map((c) => `${c.name} ${c.message}`).join('; ')}`, {
        target: 'readyz',
        details: failed.map((c) => ({ code: 'NOT_READY', message: c.message, target: c.name })),
      });
      return failure(error, { 'Retry-After': '5' });
    }
    case 'metrics': {
      const text = await (ops.clusterMetrics ?? (() => ops.metrics.text()))().catch((err: unknown) => err instanceof Error ? err : new Error(String(err)));
      if (text instanceof Error) return failure(new ODataError('SERVICE_UNAVAILABLE', `The metrics could not be collected: ${text.message}`, { target: 'metrics' }), { 'Retry-After': '5' });
      return { status: 200, headers: Object.assign({ 'Content-Type': METRICS_CONTENT_TYPE }, NO_CACHE), body: text };
    }
  }
}

function json(status: number, value: unknown): ApiResponse {
  return { status, headers: Object.assign({ 'Content-Type': 'application/json' }, NO_CACHE), body: JSON.stringify(value) };
}

function failure(error: ODataError, headers: Record<string, string>): ApiResponse {
  return { status: error.status, headers: Object.assign({ 'Content-Type': 'application/json' }, NO_CACHE, headers), body: JSON.stringify(error.toJSON()) };
}
