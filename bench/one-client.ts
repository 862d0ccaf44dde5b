/**
 * The change set's target is a time: "at most 1.5 times the floor's time". Under ten autocannon
 * connections on two cores the client's own work takes CPU from both servers alike, which hides part of
 * a difference in their time (the 1000-insert change set: 0.65 of the floor's req/s there, 0.40 with one
 * light client). So that scenario is also timed with nothing else in flight: one kept-alive node:http
 * client, one request at a time, service and floor in turn, every answer read whole, before any scenario
 * writes (bench/run.ts), so both databases hold the same rows.
 */
import http from 'node:http';
import { median } from './load';
import type { ChildServer } from './processes';
import type { RequestSpec } from './scenarios';

/** The scenario timed this way as well. */
export const ONE_CLIENT_SCENARIO = 'batch_write_changeset_1000';

export interface OneClientTiming {
  readonly scenario: string;
  /** timed requests per server */
  readonly runs: number;
  readonly serviceMedianMs: number;
  readonly floorMedianMs: number;
  /** the service's median time over the floor's */
  readonly serviceOverFloor: number;
  /** the most `serviceOverFloor` may be */
  readonly target: number;
  readonly meetsTarget: boolean;
}

function timeOnce(agent: http.Agent, server: ChildServer, spec: RequestSpec): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const body = spec.body === undefined ? undefined : Buffer.from(spec.body, 'utf8');
    const req = http.request(`${server.root}/${spec.path}`, {
      method: spec.method, agent, headers: { ...spec.headers, ...(body ? { 'content-length': String(body.length) } : {}) },
    }, (res) => {
      res.on('data', () => undefined);
      res.on('error', reject);
      res.on('end', () => {
        if (res.statusCode === undefined || res.statusCode >= 300) reject(new Error(`${server.name}: ${spec.method} ${spec.path} answered ${String(res.statusCode)}`));
        else resolve(Number(process.hrtime.bigint() - started) / 1e6);
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** `rounds` rounds of `perRound` requests to each server in turn, after two untimed ones each. */
export async function timeOneClient(scenario: string, service: ChildServer, floor: ChildServer, spec: RequestSpec, target: number,
  rounds = 3, perRound = 8): Promise<OneClientTiming> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const times = new Map<ChildServer, number[]>([[service, []], [floor, []]]);
    for (const server of [service, floor]) for (let i = 0; i < 2; i++) await timeOnce(agent, server, spec);
    for (let round = 0; round < rounds; round++) {
      for (const server of [service, floor]) for (let i = 0; i < perRound; i++) times.get(server)!.push(await timeOnce(agent, server, spec));
    }
    const serviceMedianMs = median(times.get(service)!);
    const floorMedianMs = median(times.get(floor)!);
    const serviceOverFloor = serviceMedianMs / floorMedianMs;
    return { scenario, runs: rounds * perRound, serviceMedianMs, floorMedianMs, serviceOverFloor, target, meetsTarget: serviceOverFloor <= target };
  } finally {
    agent.destroy();
  }
}

export function oneClientLine(t: OneClientTiming): string {
  return `${t.scenario}, one client (${t.runs} sequential requests each): service ${t.serviceMedianMs.toFixed(1)} ms, floor ${t.floorMedianMs.toFixed(1)} ms, `
    + `${t.serviceOverFloor.toFixed(2)} times the floor's time (target <= ${t.target}: ${t.meetsTarget ? 'ok' : 'MISS'})`;
}
