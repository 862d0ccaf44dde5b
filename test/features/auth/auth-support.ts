/** Small helpers of the sign-in tests: raw token endpoint calls, Basic headers, requests with explicit credentials only. */
import type { TestResponse, TestService } from '../../helpers/service';

export async function form(svc: TestService, endpoint: 'token' | 'revoke', fields: Record<string, string>, contentType = 'application/x-www-form-urlencoded'): Promise<TestResponse> {
  const res = await fetch(new URL(`/auth/${endpoint}`, svc.url), { method: 'POST', headers: { 'Content-Type': contentType }, body: new URLSearchParams(fields).toString() });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
}

export function basic(userName: string, password: string): string {
  return `Basic ${Buffer.from(`${userName}:${password}`, 'utf8').toString('base64')}`;
}

/** A request carrying only the given headers (no default sign-in). */
export function asCaller(svc: TestService, method: string, path: string, headers: Record<string, string>, body?: string): Promise<TestResponse> {
  return svc.request(method, path, { headers: { Authorization: '', ...headers }, body });
}
