/**
 * csv_transfer: `npm run bench:csv -- [--rows 1000000] [--database file-or-postgres-url] [--batch-size 500]`
 * writes a CSV of N contacts, imports it with `npm run import` into an empty database, exports it
 * again with `npm run export` (csv), and reports rows/s, each command's CPU seconds (user + system of
 * the node process: unlike rows/s, not skewed by other load on the machine) and peak RSS (GNU time's
 * "Maximum resident set size" of the one node process). Run it at two sizes to see RSS stay flat.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { stringify } from 'csv-stringify/sync';
import { readFlags } from '../src/cli-flags';

const USAGE = 'usage: npm run bench:csv -- [--rows N] [--database file-or-postgres-url] [--batch-size N]';
const ROOT = path.resolve(__dirname, '..');

interface Measured { seconds: number; cpuSeconds: number; peakRssMiB: number; stdout: string; code: number | null }

function timed(args: readonly string[]): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', ['-v', process.execPath, '--import', 'tsx', path.join(ROOT, 'src/transfer/cli.ts'), ...args], { cwd: ROOT, env: process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const kib = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
      const cpu = ['User', 'System'].reduce((sum, kind) => sum + Number(new RegExp(`${kind} time \\(seconds\\): ([\\d.]+)`).exec(stderr)?.[1] ?? NaN), 0);
      if (code !== 0) process.stderr.write(stderr.split('\n').filter((l) => !l.startsWith('\t')).join('\n'));
      resolve({ seconds, cpuSeconds: +cpu.toFixed(1), peakRssMiB: kib ? Math.round(Number(kib[1]) / 1024) : NaN, stdout, code });
    });
  });
}

async function writeContacts(file: string, rows: number): Promise<void> {
  const out = fs.createWriteStream(file);
  out.write(stringify([['FirstName', 'LastName', 'EmailAddress', 'JobTitle', 'BusinessAddress/City', 'BirthDate', 'IsPrivate']]));
  const cities = ['Oslo', 'Lyon', 'Porto', 'Graz', 'Turku'];
  for (let i = 0; i < rows; i += 1000) {
    const chunk: string[][] = [];
    for (let j = i; j < Math.min(rows, i + 1000); j++) {
      chunk.push([`First${j}`, `Last${j}`, `contact${j}@bench.test`, j % 3 === 0 ? 'Buyer' : 'Engineer', cities[j % cities.length], `19${50 + (j % 50)}-0${1 + (j % 9)}-1${j % 10}`, j % 7 === 0 ? 'true' : 'false']);
    }
    if (!out.write(stringify(chunk))) await once(out, 'drain');
  }
  await new Promise<void>((resolve) => out.end(resolve));
}

async function main(): Promise<void> {
  let rows = 1_000_000;
  let batchSize = 500;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csv-bench-'));
  let database = path.join(dir, 'bench.sqlite');
  for (const flag of readFlags(process.argv.slice(2), USAGE)) {
    switch (flag.name) {
      case '--rows': rows = flag.integer(1); break;
      case '--batch-size': batchSize = flag.integer(1); break;
      case '--database': database = flag.value(); break;
      default: throw new Error(`unknown option ${flag.name}\n${USAGE}`);
    }
  }
  const csv = path.join(dir, 'contacts.csv');
  try {
    await writeContacts(csv, rows);
    const imported = await timed(['import', '--set', 'Contacts', '--file', csv, '--database', database, '--batch-size', String(batchSize)]);
    if (imported.code !== 0) throw new Error(`import failed (exit ${imported.code})`);
    const summary = JSON.parse(imported.stdout.trim().split('\n').pop() ?? '{}') as { inserted?: number; rowsPerSecond?: number };
    const exported = await timed(['export', '--set', 'Contacts', '--format', 'csv', '--out', path.join(dir, 'out.csv'), '--database', database]);
    if (exported.code !== 0) throw new Error(`export failed (exit ${exported.code})`);
    const exportedRows = fs.readFileSync(path.join(dir, 'out.csv'), 'utf8').split('\n').length - 2;
    const engine = /^postgres(ql)?:/i.test(database) ? 'postgres' : 'sqlite';
    console.log(JSON.stringify({
      engine, rows, batchSize,
      import: { inserted: summary.inserted, seconds: +imported.seconds.toFixed(1), rowsPerSecond: Math.round(rows / imported.seconds), loadRowsPerSecond: summary.rowsPerSecond, cpuSeconds: imported.cpuSeconds, peakRssMiB: imported.peakRssMiB },
      export: { rows: exportedRows, seconds: +exported.seconds.toFixed(1), rowsPerSecond: Math.round(exportedRows / exported.seconds), cpuSeconds: exported.cpuSeconds, peakRssMiB: exported.peakRssMiB },
      loadAverage: os.loadavg().map((l) => +l.toFixed(1)),
    }));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
