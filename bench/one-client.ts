/**
 * The change set's target is a time: "at most 1.5 times the floor's time". Under ten autocannon
 * connections on two cores the client's own work takes CPU from both servers alike, which hides part of
 * a difference in their time (the 1000-insert change set: 0.65 of the floor's req/s there, 0.40 with one
 * light client). So that scenario is also timed with nothing else in flight: one kept-alive node:http
 * client, one request at a time, service and floor in alternating pairs, every answer read whole, before any scenario
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
  /** the median over the rounds of the service's median time over the floor's */
  readonly serviceOverFloor: number;
  /** the lowest and highest round's ratio */
  readonly spread?: readonly [number, number];
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

/**
 * `rounds` rounds of `pairsPerRound` pairs after two untimed requests to each server: a pair is one request
 * to each server back to back (who goes first alternates), so a disturbance of the shared machine falls on
 * both sides of a pair rather than on one server's block of requests. Each round gives a ratio of the two
 * medians; the result is the median of those ratios with their spread, as for the load rounds.
 */
export async function timeOneClient(scenario: string, service: ChildServer, floor: ChildServer, spec: RequestSpec, target: number,
  rounds = 4, pairsPerRound = 8): Promise<OneClientTiming> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    for (const server of [service, floor]) for (let i = 0; i < 2; i++) await timeOnce(agent, server, spec);
    const serviceTimes: number[] = [];
    const floorTimes: number[] = [];
    const roundRatios: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const serviceRound: number[] = [];
      const floorRound: number[] = [];
      for (let pair = 0; pair < pairsPerRound; pair++) {
        const order = pair % 2 === 0 ? [service, floor] : [floor, service];
        for (const server of order) (server === service ? serviceRound : floorRound).push(await timeOnce(agent, server, spec));
      }
      roundRatios.push(median(serviceRound) / median(floorRound));
      serviceTimes.push(...serviceRound);
      floorTimes.push(...floorRound);
    }
    const serviceOverFloor = median(roundRatios);
    return {
      scenario, runs: rounds * pairsPerRound, serviceMedianMs: median(serviceTimes), floorMedianMs: median(floorTimes), serviceOverFloor,
      spread: [Math.min(...roundRatios), Math.max(...roundRatios)], target, meetsTarget: serviceOverFloor <= target,
    };
  } finally {
    agent.destroy();
  }
}

export function oneClientLine(t: OneClientTiming): string {
  const spread = t.spread === undefined ? '' : ` (rounds ${t.spread[0].toFixed(2)}-${t.spread[1].toFixed(2)})`;
  return `${t.scenario}, one client (${t.runs} sequential requests each, in pairs): service ${t.serviceMedianMs.toFixed(1)} ms, floor ${t.floorMedianMs.toFixed(1)} ms, `
    + `${t.serviceOverFloor.toFixed(2)} times the floor's time${spread} (target <= ${t.target}: ${t.meetsTarget ? 'ok' : 'MISS'})`;
}
