/**
 * Model rebuild and `$metadata` generation with 200 custom fields and 50 custom tables (issue 17,
 * scale), and the cost of one more table change on a database that holds them.
 *
 *   npx tsx bench/custom-model.ts [--database <file or postgres URL>] [--rounds 7]
 *
 * Without --database a fresh SQLite file in the temp directory is used. The in-memory figures
 * (model build, `$metadata` XML and JSON) need no database; the lifecycle figures apply the 250
 * changes through `lifecycle.applySchemaChange` first (DDL, definition rows, model record each).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withOverrides } from '../src/config';
import { MAIN_ENTITIES } from '../src/edm/custom-tables';
import { readBuiltInModel } from '../src/edm/load-csdl';
import { clearMetadataCache, metadataDocument } from '../src/edm/metadata-document';
import { buildServedModel, type SchemaChange } from '../src/edm/schema-change';
import { startService } from '../src/server';
import { timedMs as timed } from './args';

function option(name: string, fallback?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function timedSync(work: () => unknown): number {
  const started = process.hrtime.bigint();
  work();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

/** 200 custom fields (50 on each main entity) and 50 custom tables of 4 fields (every fifth without a main entity). */
function customChanges(): SchemaChange[] {
  const changes: SchemaChange[] = [];
  for (let i = 0; i < 200; i++) {
    const entityType = MAIN_ENTITIES[i % MAIN_ENTITIES.length];
    changes.push({ kind: 'add-property', entityType, property: `Custom${i}`, definition: i % 3 === 0 ? { $Type: 'Edm.Int32', $Nullable: true } : { $MaxLength: 255, $Nullable: true } });
  }
  for (let t = 0; t < 50; t++) {
    const mainEntity = t % 5 === 4 ? {} : { mainEntity: MAIN_ENTITIES[t % MAIN_ENTITIES.length] };
    changes.push({
      kind: 'add-table', entitySet: `Table${t}s`, entityType: `Table${t}`, ...mainEntity,
      properties: { Title: { $MaxLength: 100 }, Amount: { $Type: 'Edm.Decimal', $Precision: 18, $Scale: 2, $Nullable: true }, Due: { $Type: 'Edm.Date', $Nullable: true }, Done: { $Type: 'Edm.Boolean', $Nullable: true } },
    });
  }
  return changes;
}

async function main(): Promise<void> {
  const rounds = Number(option('rounds', '7'));
  const builtIn = readBuiltInModel();
  const changes = customChanges();
  const limits = { maxTop: 1000, maxExpandDepth: 3, pageSize: 100 };
  const rows: [string, number][] = [];
  for (const [label, list] of [['built-in model', []], ['+ 200 fields + 50 tables', changes]] as const) {
    const builds: number[] = [];
    const xml: number[] = [];
    const json: number[] = [];
    let size = 0;
    for (let r = 0; r < rounds; r++) {
      let model = buildServedModel(builtIn, []);
      builds.push(timedSync(() => { model = buildServedModel(builtIn, list); }));
      clearMetadataCache();
      xml.push(timedSync(() => { size = metadataDocument(model, limits, 'xml').length; }));
      clearMetadataCache();
      json.push(timedSync(() => metadataDocument(model, limits, 'json')));
    }
    rows.push([`${label}: model build (ms)`, median(builds)], [`${label}: $metadata XML (ms, ${Math.round(size / 1024)} KiB)`, median(xml)], [`${label}: $metadata JSON (ms)`, median(json)]);
  }

  const temp = option('database') ? undefined : mkdtempSync(join(tmpdir(), 'custom-model-'));
  const database = option('database') ?? join(temp!, 'bench.sqlite');
  const svc = await startService(withOverrides({ database, auth: 'off', rateLimit: 'off', adminPassword: 'bench-admin-password', demoPassword: 'bench-demo-password', seedContacts: 1000, logLevel: 'silent', port: 0, host: '127.0.0.1', sqliteReadProcesses: 0 }));
  try {
    const all = await timed(async () => { for (const change of changes) await svc.lifecycle.applySchemaChange(change); });
    rows.push(['250 changes applied one by one (ms, total)', all]);
    const add: number[] = [];
    const drop: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const table: SchemaChange = { kind: 'add-table', entitySet: `Extra${r}s`, entityType: `Extra${r}`, mainEntity: 'Contact', properties: { Title: { $MaxLength: 100, $Nullable: true } } };
      add.push(await timed(() => svc.lifecycle.applySchemaChange(table)));
      drop.push(await timed(() => svc.lifecycle.applySchemaChange({ kind: 'drop-table', entitySet: `Extra${r}s` })));
    }
    rows.push(['one more table with a main entity, on top of them (ms)', median(add)], ['dropping it again (ms)', median(drop)]);
    const res = await fetch(`${svc.url}/$metadata`);
    rows.push([`first $metadata over HTTP after the last change (${Math.round((await res.text()).length / 1024)} KiB)`, 0]);
  } finally {
    await svc.close();
    if (temp) rmSync(temp, { recursive: true, force: true });
  }
  console.log(`engine: ${database.startsWith('postgres') ? 'postgres' : 'sqlite'}, rounds: ${rounds} (medians)`);
  for (const [label, ms] of rows) console.log(`${label.padEnd(72)} ${ms ? ms.toFixed(1) : ''}`);
}

main().catch((err) => { console.error(err); process.exit(1); });
