/**
 * `npm run import -- --set Contacts --file contacts.csv [--batch-size 500] [--upsert-key EmailAddress]
 *  [--all-or-nothing] [--errors errors.csv] [--user name] [--database path-or-url]`
 * `npm run export -- --set Contacts [--format csv|json|ndjson] [--filter "…"] [--select A,B] [--out file]
 *  [--user name] [--database path-or-url]`
 * Both start the service in this process (no port anyone else uses) and go through its handler as
 * the named user (default: the bootstrap Administrator). Import exit codes: 0 all rows loaded,
 * 2 some rows rejected (see the errors file), 1 nothing done (bad options, columns or file).
 */
import fs from 'node:fs';
import { once } from 'node:events';
import { parse } from 'csv-parse';
import { stringify } from 'csv-stringify/sync';
import { Presets, SingleBar } from 'cli-progress';
import { readFlags } from '../cli-flags';
import { loadConfig } from '../config';
import { startService, type RunningService } from '../server';
import { handle } from '../http/handle';
import { callerNamed } from './caller';
import { importRecords, type CsvRecord, type RejectedRow } from './import-rows';
import { EXPORT_FORMATS, exportText, type ExportFormat } from './export-rows';
import type { ServiceCaller } from './service-calls';

const USAGE = `usage: npm run import -- --set Set --file data.csv [--batch-size 500] [--upsert-key Property] [--all-or-nothing] [--errors errors.csv] [--user name] [--database path-or-url]
       npm run export -- --set Set [--format csv|json|ndjson] [--filter expr] [--select A,B] [--out file] [--user name] [--database path-or-url]`;

interface Common { set?: string; user?: string; database?: string }

async function openService(database: string | undefined, forImport: boolean): Promise<RunningService> {
  const argv = ['--port', '0', '--host', '127.0.0.1', '--seed-contacts', '0', '--log-level', 'silent', '--sqlite-read-processes', '0', '--rate-limit', 'off'];
  if (database !== undefined) argv.push('--database', database);
  const config = loadConfig(argv, process.env);
  return startService(config, { seed: forImport });
}

async function withCaller<T>(common: Common, forImport: boolean, work: (target: ServiceCaller) => Promise<T>): Promise<T> {
  const running = await openService(common.database, forImport);
  try {
    const caller = await callerNamed(running.services, common.user);
    return await work({ services: running.services, handle, serviceRoot: running.url, caller });
  } finally {
    await running.close();
  }
}

async function* csvRecords(file: string, onBytes: (bytes: number) => void): AsyncGenerator<CsvRecord> {
  const input = fs.createReadStream(file);
  input.on('data', (chunk) => onBytes(chunk.length));
  const parser = input.pipe(parse({ info: true, relax_column_count: true, bom: true, skip_empty_lines: true }));
  for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
    yield { line: item.info.lines, cells: item.record };
  }
}

async function runImport(argv: readonly string[]): Promise<number> {
  const common: Common = {};
  let file: string | undefined;
  let errors: string | undefined;
  let batchSize = 500;
  let upsertKey: string | undefined;
  let allOrNothing = false;
  for (const flag of readFlags(argv, USAGE)) {
    switch (flag.name) {
      case '--set': common.set = flag.value(); break;
      case '--user': common.user = flag.value(); break;
      case '--database': case '--db': common.database = flag.value(); break;
      case '--file': file = flag.value(); break;
      case '--errors': errors = flag.value(); break;
      case '--batch-size': batchSize = flag.integer(1); break;
      case '--upsert-key': upsertKey = flag.value(); break;
      case '--all-or-nothing': allOrNothing = true; break;
      default: throw new Error(`unknown option ${flag.name}\n${USAGE}`);
    }
  }
  if (!common.set || !file) throw new Error(`--set and --file are required\n${USAGE}`);
  const size = fs.statSync(file).size;
  const errorFile = errors === undefined ? undefined : fs.createWriteStream(errors);
  errorFile?.write(stringify([['line', 'reason']]));
  const shown: RejectedRow[] = [];
  const bar = process.stderr.isTTY ? new SingleBar({ format: 'importing [{bar}] {percentage}% | {rows} rows | {speed} rows/s | {rejected} rejected', hideCursor: true, stream: process.stderr }, Presets.shades_classic) : undefined;
  const started = Date.now();
  let bytes = 0;
  let rejected = 0;
  bar?.start(size, 0, { rows: 0, speed: 0, rejected: 0 });
  const summary = await withCaller(common, true, (target) => importRecords(target, csvRecords(file!, (n) => { bytes += n; }), {
    set: common.set!, batchSize, upsertKey, allOrNothing,
    onProgress: (rows) => bar?.update(bytes, { rows, speed: Math.round(rows / Math.max(0.001, (Date.now() - started) / 1000)), rejected }),
    onRejected: async (row) => {
      rejected += 1;
      if (shown.length < 20) shown.push(row);
      if (errorFile && !errorFile.write(stringify([[row.line, row.reason]]))) await once(errorFile, 'drain');
    },
  })).finally(() => bar?.stop());
  if (errorFile) await new Promise<void>((resolve) => errorFile.end(resolve));
  const seconds = (Date.now() - started) / 1000;
  if (errorFile === undefined) for (const row of shown) process.stderr.write(`line ${row.line}: ${row.reason}\n`);
  process.stdout.write(`${JSON.stringify({ ...summary, seconds, rowsPerSecond: Math.round(summary.rowsRead / Math.max(seconds, 0.001)) })}\n`);
  return summary.rejected > 0 ? 2 : 0;
}

async function runExport(argv: readonly string[]): Promise<number> {
  const common: Common = {};
  let format: ExportFormat = 'csv';
  let filter: string | undefined;
  let select: string[] | undefined;
  let out: string | undefined;
  for (const flag of readFlags(argv, USAGE)) {
    switch (flag.name) {
      case '--set': common.set = flag.value(); break;
      case '--user': common.user = flag.value(); break;
      case '--database': case '--db': common.database = flag.value(); break;
      case '--format': {
        const value = flag.value();
        if (!(EXPORT_FORMATS as readonly string[]).includes(value)) throw new Error(`--format is one of ${EXPORT_FORMATS.join(', ')}`);
        format = value as ExportFormat;
        break;
      }
      case '--filter': filter = flag.value(); break;
      case '--select': select = flag.value().split(',').map((s) => s.trim()).filter((s) => s !== ''); break;
      case '--out': out = flag.value(); break;
      default: throw new Error(`unknown option ${flag.name}\n${USAGE}`);
    }
  }
  if (!common.set) throw new Error(`--set is required\n${USAGE}`);
  await withCaller(common, false, async (target) => {
    const pieces = exportText(target, { set: common.set!, format, filter, select });
    const first = await pieces.next();
    const output = out === undefined ? process.stdout : fs.createWriteStream(out);
    const write = async (text: string): Promise<void> => { if (!output.write(text)) await once(output, 'drain'); };
    if (!first.done) await write(first.value);
    for await (const piece of pieces) await write(piece);
    if (output !== process.stdout) await new Promise<void>((resolve) => (output as fs.WriteStream).end(resolve));
  });
  return 0;
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  if (command === 'import') process.exitCode = await runImport(rest);
  else if (command === 'export') process.exitCode = await runExport(rest);
  else throw new Error(USAGE);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
