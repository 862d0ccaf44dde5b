/**
 * `--workers 2`: one scrape of /metrics, whichever worker answers it, shows the whole service (the
 * primary aggregates every worker's registry); /healthz shows the workers are distinct processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { createServer } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ENGINES } from '../../helpers/engines';

const ROOT = path.resolve(__dirname, '../../..');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/** A GET on a connection of its own (the cluster hands connections to workers in turn; fetch would reuse one). */
function get(url: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, { agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { text += chunk; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    }).on('error', reject);
  });
}

function requestsOf(metrics: string, labels: string): number {
  const line = metrics.split('\n').find((l) => l.startsWith(`odata_requests_total{${labels}}`));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let database: string;
  let primary: ChildProcess;
  let root: string;

  beforeAll(async () => {
    database = await engine.freshUrl();
    const port = await freePort();
    root = `http://127.0.0.1:${port}`;
    primary = spawn(process.execPath, [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), 'src/main.ts',
      '--workers', '2', '--port', String(port), '--host', '127.0.0.1', '--database', database, '--seed-contacts', '5',
      '--log-level', 'silent', '--auth', 'off', '--rate-limit', 'off', '--sqlite-read-processes', '0'], { cwd: ROOT, stdio: 'ignore' });
    const deadline = Date.now() + 90000;
    for (;;) {
      const ready = await fetch(`${root}/readyz`).then((r) => r.status === 200, () => false);
      if (ready) break;
      if (Date.now() > deadline || primary.exitCode !== null) throw new Error('the cluster did not start');
      await sleep(250);
    }
  }, 120000);
  afterAll(async () => {
    if (primary && primary.exitCode === null) {
      const exited = new Promise((resolve) => primary.once('exit', resolve));
      primary.kill('SIGTERM');
      await exited;
    }
    await engine.dispose(database);
  }, 30000);

  test('requests served by both workers are all counted in one scrape', async () => {
    // both workers up (they start one after the other), each answering on its own connections
    const pids = new Set<number>();
    const deadline = Date.now() + 60000;
    while (pids.size < 2 && Date.now() < deadline) pids.add((JSON.parse((await get(`${root}/healthz`)).text) as { pid: number }).pid);
    expect(pids.size).toBe(2);
    const labels = 'entity_set="Contacts",method="GET",status="200"';
    const before = requestsOf((await get(`${root}/metrics`)).text, labels);
    for (let i = 0; i < 10; i++) expect((await get(`${root}/odata/Contacts?$top=1`)).status).toBe(200);
    for (let i = 0; i < 2; i++) {
      const res = await get(`${root}/metrics`);
      expect(`${res.status} ${res.status === 200 ? '' : res.text}`).toBe('200 ');
      const text = res.text;
      expect(requestsOf(text, labels) - before).toBe(10);
    // the workers' model-version gauges agree, so the aggregate is one series at 1
      expect(text.match(/^odata_model_info\{version="[^"]+"\} 1$/gm)).toHaveLength(1);
    }
  });
});
