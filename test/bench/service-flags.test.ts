/** `npm start` runs the service with the V8 settings of src/runtime-flags.ts (the benchmark starts it with the same). */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { SERVICE_NODE_FLAGS } from '../../src/runtime-flags';

it('package.json start gives node every flag of SERVICE_NODE_FLAGS before the service script', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const start = pkg.scripts.start;
  const node = /\bnode ((?:--\S+ )*)dist\/src\/main\.js/.exec(start);
  expect(node).not.toBeNull();
  expect(node![1].trim().split(/\s+/).filter(Boolean)).toEqual([...SERVICE_NODE_FLAGS]);
});

/**
 * The service's heap in small: ~22 MB that stays (its caches and plans) and batches of objects that
 * outlive a few scavenges and then die in the old generation (as a change set's do). How far the old
 * generation runs ahead of the concurrent marker depends on the machine and its load (with the settings
 * 3.1x at one time, 3.7-4.4x at another), so the settings are measured against none in the same run:
 * without them V8 let the old generation grow to 8-9 times what stays, with them about half that.
 */
const CHURN = `
const v8 = require('node:v8');
const oldUsed = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'old_space').space_used_size;
globalThis.kept = [];
for (let i = 0; i < 100000; i++) globalThis.kept.push({ i, s: 'x'.repeat(20) + i });
let recent = [];
let peak = 0;
for (let round = 0; round < 150; round++) {
  const batch = [];
  for (let i = 0; i < 20000; i++) batch.push({ round, i, s: 'y' + i });
  recent.push(batch);
  if (recent.length > 8) recent.shift();
  peak = Math.max(peak, oldUsed());
}
recent = [];
gc();
process.stdout.write(JSON.stringify({ peak, live: oldUsed() }));
`;

/** The old generation's peak over what stays, under these node flags. */
function growth(flags: readonly string[]): number {
  const run = spawnSync(process.execPath, [...flags, '--expose-gc', '-e', CHURN], { encoding: 'utf8', timeout: 60_000 });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  const { peak, live } = JSON.parse(run.stdout) as { peak: number; live: number };
  expect(live).toBeGreaterThan(15 * 1024 * 1024);
  return peak / live;
}

it('with SERVICE_NODE_FLAGS node starts and its old generation grows far less past its live data than without them', () => {
  const withFlags = growth(SERVICE_NODE_FLAGS);
  const without = growth([]);
  expect(without).toBeGreaterThan(5);
  expect(withFlags).toBeLessThan(without * 0.65);
}, 120_000);
