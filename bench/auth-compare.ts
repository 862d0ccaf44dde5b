/**
 * `--auth-compare`: by_key and list_top50 against the service three ways in one run — without sign-in
 * (`--auth off`, every request acts as the bootstrap Administrator), as a Standard user with a Bearer
 * token from the password grant, and as the same user with HTTP Basic — and against the floor.
 * The bench database has no demo users (it is seeded by `seedDatabase` and the service starts with
 * `--seed-contacts 0`), so the bootstrap Administrator (ODATA_ADMIN_PASSWORD, random per run) creates
 * `demo.standard` through `POST Users` on the signed-in service's own copy of the database.
 * Each caller is timed --rounds times in alternating order and the median round reported, because the
 * cores are shared with the load generator (and, on a busy machine, with everything else).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { demoUserName } from '../src/auth/bootstrap';
import type { BenchOptions } from './args';
import type { ScenarioParams } from './database';
import { runLoad, type LoadResult, type LoadSettings } from './load';
import { startFloor, startService, type ChildServer } from './processes';
import { serviceModelVersion, type RequestSpec, type Scenario } from './scenarios';
import { compareAnswers, ok, send, VERIFY_HOST } from './verify';

export const AUTH_SCENARIOS: readonly string[] = ['by_key_middle', 'list_top50'];

/** A scenario that only reads and that the floor answers (the change sets and export_1m are not). */
function isFloorRead(s: Scenario): boolean {
  return s.floor && s.compare !== 'write' && s.special === undefined;
}

/** Signed-in reads (bearer and Basic) stay at or above this share of the bare floor's req/s. */
export const SIGNED_IN_TARGET = 0.45;

export type AuthVariant = 'no sign-in' | 'Standard, Bearer' | 'Standard, Basic' | 'floor';

export interface AuthCompareRow {
  readonly scenario: string;
  readonly variant: AuthVariant;
  readonly result: LoadResult;
  /** req/s over the unauthenticated run's */
  readonly overNoSignIn: number;
  /** req/s over the bare floor's */
  readonly overFloor: number;
  /** Issue 15 item 7: a signed-in caller keeps at least SIGNED_IN_TARGET of the floor (undefined for the floor itself) */
  readonly meetsTarget?: boolean;
  /** CPU time of the server's processes per request during the timed run, microseconds */
  readonly cpuUsPerRequest: number;
  /** req/s of every round; the row shows the round with the median req/s */
  readonly roundsRps: readonly number[];
}

interface Measured {
  readonly result: LoadResult;
  readonly cpuUsPerRequest: number;
}

function medianRun(runs: readonly Measured[]): Measured {
  const sorted = [...runs].sort((a, b) => a.result.rps - b.result.rps);
  return sorted[Math.floor(sorted.length / 2)];
}

export interface AuthCompareResult {
  readonly user: string;
  readonly rows: readonly AuthCompareRow[];
  readonly warnings: readonly string[];
  readonly failures: readonly string[];
}

interface Target {
  readonly variant: AuthVariant;
  readonly server: ChildServer;
  readonly headers: Readonly<Record<string, string>>;
}

const secret = (): string => randomBytes(18).toString('base64url');

async function postJson(url: string, init: RequestInit): Promise<Record<string, unknown>> {
  const res = await fetch(url, init);
  const text = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${url}: ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** RFC 6749 password grant against the service's /auth/token; returns the access token. */
async function passwordGrant(server: ChildServer, userName: string, password: string): Promise<string> {
  const body = new URLSearchParams({ grant_type: 'password', username: userName, password });
  const answer = await postJson(new URL('/auth/token', server.root).href, { method: 'POST', body });
  if (typeof answer.access_token !== 'string') throw new Error(`/auth/token answered no access_token for ${userName}`);
  return answer.access_token;
}

async function createStandardUser(server: ChildServer, adminPassword: string, userName: string, password: string): Promise<void> {
  const adminToken = await passwordGrant(server, 'admin', adminPassword);
  await postJson(`${server.root}/Users`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ UserName: userName, DisplayName: 'Bench Standard user', Role: 'Standard', Password: password }),
  });
}

/** Like load.ts's measure (1 s warm-up, then the timed run), also taking the server's CPU time over the timed run. */
async function measureWithCpu(server: ChildServer, spec: RequestSpec, settings: LoadSettings): Promise<Measured> {
  await runLoad(server, spec, { connections: settings.connections, duration: 1 });
  const before = server.cpuSeconds();
  const result = await runLoad(server, spec, settings);
  return { result, cpuUsPerRequest: ((server.cpuSeconds() - before) * 1e6) / result.requests };
}

const withHeaders = (spec: RequestSpec, headers: Readonly<Record<string, string>>): RequestSpec => ({ ...spec, headers: { ...spec.headers, ...headers } });

export async function runAuthCompare(options: BenchOptions, database: string, floorDatabase: string, params: ScenarioParams,
  scenarios: readonly Scenario[], log: (line: string) => void): Promise<AuthCompareResult> {
  // --scenarios names any read scenarios with a floor; without it, the two the issue's target was set on
  const selected = scenarios.filter((s) => (options.scenarios !== undefined ? isFloorRead(s) : AUTH_SCENARIOS.includes(s.name)));
  const adminPassword = secret();
  const userName = demoUserName('Standard');
  const password = secret();
  // the signed-in service writes a user and tokens: its own copy, so both services start from the same rows
  const signedInDatabase = path.join(path.dirname(database), 'signed-in.sqlite');
  fs.copyFileSync(database, signedInDatabase);
  const servers: ChildServer[] = [];
  const rows: AuthCompareRow[] = [];
  const warnings: string[] = [];
  const failures: string[] = [];
  try {
    const open = await startService(database, 1, [], {}, 'service, --auth off');
    servers.push(open);
    const signedIn = await startService(signedInDatabase, 1, ['--auth', 'on'], { ODATA_ADMIN_PASSWORD: adminPassword }, 'service, --auth on');
    servers.push(signedIn);
    const floor = await startFloor('sqlite', floorDatabase, await serviceModelVersion(open.root));
    servers.push(floor);
    await createStandardUser(signedIn, adminPassword, userName, password);
    const token = await passwordGrant(signedIn, userName, password);
    const basic = `Basic ${Buffer.from(`${userName}:${password}`).toString('base64')}`;
    const targets: readonly Target[] = [
      { variant: 'no sign-in', server: open, headers: {} },
      { variant: 'Standard, Bearer', server: signedIn, headers: { authorization: `Bearer ${token}` } },
      { variant: 'Standard, Basic', server: signedIn, headers: { authorization: basic } },
      { variant: 'floor', server: floor, headers: {} },
    ];
    log(`auth-compare: ${targets.map((t) => `${t.variant} ${t.server.root}`).join('; ')}; signed in as ${userName} (Standard)`);
    for (const s of selected) {
      const spec = await s.request({ params, serviceRoot: open.root });
      const reference = await send(open.root, spec, VERIFY_HOST);
      const measurable: Target[] = [];
      for (const t of targets) {
        const probe = t.server === open ? reference : await send(t.server.root, withHeaders(spec, t.headers), VERIFY_HOST);
        if (!ok(probe)) {
          failures.push(`${s.name} (${t.variant}): ${probe.status} ${probe.text.slice(0, 200)}`);
          continue;
        }
        measurable.push(t);
        for (const w of compareAnswers(s.compare, probe, reference)) warnings.push(`${s.name} (${t.variant} vs no sign-in): ${w}`);
      }
      const rounds = new Map<AuthVariant, Measured[]>();
      for (let round = 0; round < options.rounds; round++) {
        // alternating order, so a change in the machine's other load does not always favour the same caller
        for (const t of round % 2 === 0 ? measurable : [...measurable].reverse()) {
          const measured = await measureWithCpu(t.server, withHeaders(spec, t.headers), { duration: options.seconds, connections: options.connections });
          const r = measured.result;
          if (r.non2xx + r.errors > 0) failures.push(`${s.name} (${t.variant}): ${r.non2xx} non-2xx, ${r.errors} errors (${JSON.stringify(r.statusCodes)})`);
          rounds.set(t.variant, [...rounds.get(t.variant) ?? [], measured]);
          log(`  ${s.name.padEnd(11)} ${t.variant.padEnd(17)} round ${round + 1}: ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50Ms.toFixed(1)} ms`
            + `  p99 ${r.p99Ms.toFixed(1)} ms  CPU ${measured.cpuUsPerRequest.toFixed(0)} us/request`);
        }
      }
      const median = new Map([...rounds].map(([variant, runs]) => [variant, medianRun(runs)] as const));
      const noSignIn = median.get('no sign-in')?.result.rps ?? NaN;
      const floorRps = median.get('floor')?.result.rps ?? NaN;
      for (const t of measurable) {
        const m = median.get(t.variant);
        if (!m) continue;
        rows.push({
          scenario: s.name, variant: t.variant, result: m.result, overNoSignIn: m.result.rps / noSignIn, overFloor: m.result.rps / floorRps,
          meetsTarget: t.variant === 'floor' ? undefined : m.result.rps / floorRps >= SIGNED_IN_TARGET,
          cpuUsPerRequest: m.cpuUsPerRequest, roundsRps: (rounds.get(t.variant) ?? []).map((x) => x.result.rps),
        });
      }
    }
  } finally {
    for (const server of servers) await server.stop();
  }
  for (const w of warnings) log(`  WARNING ${w}`);
  return { user: userName, rows, warnings, failures };
}

const num = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toFixed(digits) : '-');

export function authCompareTable(rows: readonly AuthCompareRow[]): string {
  const header = ['scenario', 'caller', 'req/s', 'p50 ms', 'p99 ms', '/no sign-in', '/floor', 'CPU us/req', 'errors', 'target'];
  const body = rows.map((r) => [r.scenario, r.variant, num(r.result.rps), num(r.result.p50Ms, 1), num(r.result.p99Ms, 1),
    num(r.overNoSignIn, 2), num(r.overFloor, 2), num(r.cpuUsPerRequest), String(r.result.non2xx + r.result.errors),
    r.meetsTarget === undefined ? '' : `${r.meetsTarget ? 'ok' : 'MISS'} (>= ${SIGNED_IN_TARGET} of floor)`]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  return [header, ...body].map((r) => r.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')).join('\n');
}
