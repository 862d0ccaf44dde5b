/**
 * The benchmark's bare floor (bench/floor/) must answer every scenario with the service's bytes, or the
 * bench measures something else: this runs the bench's own verification (same Host header, same bytes up
 * to the documented normalisations) against a real service and the floor on the same database, so a
 * change of the model or of the service's JSON that the floor does not follow fails here, not in a
 * benchmark run.
 */
import { withOverrides } from '../../src/config';
import { startService, type RunningService } from '../../src/server';
import { readScenarioParams, type ScenarioParams } from '../../bench/database';
import { startFloor, type ChildServer } from '../../bench/processes';
import { APPLY_SCALE_QUERIES, applyQueryPath, SCENARIOS, serviceModelVersion } from '../../bench/scenarios';
import { compareAnswers, ok, send, VERIFY_HOST } from '../../bench/verify';
import { ENGINES } from '../helpers/engines';

/** Scenarios that need more data than a test seeds (page_deep follows next links to row 5000). */
const NEEDS_SCALE = new Set(['page_deep']);
const compared = SCENARIOS.filter((s) => s.floor && !s.special && !NEEDS_SCALE.has(s.name));

describe.each(ENGINES)('bench floor answers the service\'s bytes ($name)', (engine) => {
  let database: string;
  let service: RunningService;
  let floor: ChildServer;
  let params: ScenarioParams;

  beforeAll(async () => {
    database = await engine.freshUrl();
    service = await startService(withOverrides({
      database, port: 0, host: '127.0.0.1', logLevel: 'silent', seedContacts: 300, pageSize: 100, auth: 'off', rateLimit: 'off',
    }));
    params = await readScenarioParams(engine.name, database);
    floor = await startFloor(engine.name, database, await serviceModelVersion(service.url));
  }, 120_000);

  afterAll(async () => {
    await floor?.stop();
    await service?.close();
    await engine.dispose(database);
  });

  it('covers the scenarios with a floor', () => {
    expect(compared.map((s) => s.name)).toEqual(expect.arrayContaining(['by_key_first', 'by_key_middle', 'expand_collection', 'page_deep_skip', 'batch_read_10', 'batch_write_changeset_100']));
  });

  it.each(compared.map((s) => [s.name, s] as const))('%s', async (_name, scenario) => {
    const spec = await scenario.request({ params, serviceRoot: service.url });
    const fromService = await send(service.url, spec, VERIFY_HOST);
    if (scenario.pending && !ok(fromService)) return; // reported as skipped by the bench until the service answers
    expect(fromService.status).toBeLessThan(300);
    const fromFloor = await send(floor.root, spec, VERIFY_HOST);
    expect(fromFloor.status).toBe(fromService.status);
    expect(compareAnswers(scenario.compare, fromService, fromFloor)).toEqual([]);
    // the check can fail: a changed byte is found
    const last = fromFloor.text.slice(-1);
    expect(compareAnswers(scenario.compare, fromService, { ...fromFloor, text: fromFloor.text.slice(0, -1) + (last === '}' ? ']' : '}') })).not.toEqual([]);
  });

  it.each(APPLY_SCALE_QUERIES.map((q) => [q]))('apply-scale: %s', async (query) => {
    const spec = { method: 'GET', path: applyQueryPath(query) } as const;
    const fromService = await send(service.url, spec, VERIFY_HOST);
    expect(fromService.status).toBe(200);
    const fromFloor = await send(floor.root, spec, VERIFY_HOST);
    expect(fromFloor.status).toBe(200);
    expect(compareAnswers('bytes', fromService, fromFloor)).toEqual([]);
  });
});
