/**
 * Run-time schema at scale over HTTP (issue 17): on a seeded database, as an Administrator,
 *  1. POST / DELETE a Text field on Contacts (`FieldDefinitions`), with and without IsIndexed,
 *     empty and after filling every row;
 *  2. `list_top50` and `filter_order` req/s before and after 20 custom fields on Contacts;
 *  3. a 10-connection read load (both shapes) while 10 fields are added and then dropped: every
 *     answer that is not 2xx is counted and its first bodies printed (the target is zero);
 *  4. SQLite only: dropping a filled column in place (`ALTER TABLE DROP COLUMN`, what the migrator
 *     does) against rebuilding the table (knex's copy-and-rename dropColumn).
 *
 *   npx tsx bench/schema-http.ts --database <file or postgres URL> [--rounds 2] [--seconds 3] [--skip ops,rate,load,rebuild]
 *     [--url http://127.0.0.1:PORT/odata: a service already running on that database, e.g. to read its log]
 *
 * The database must be seeded (`npm run seed -- --contacts 100000 --database …`); PostgreSQL runs go
 * under `flock /tmp/pg-bench.lock`. The service runs as a child process (dist/, built first, production
 * settings, authentication off: every request acts as the bootstrap Administrator, as in `npm run bench`);
 * this process is the client and fills columns through its own connection. Figures are wall-clock ms
 * on whatever machine load there is.
 */
import os from 'node:os';
import { openDatabase } from '../src/db/connect';
import { median } from './load';
import { buildService, startService } from './processes';
import { scriptOption as option, timedMs as timed } from './args';

const READS = {
  list_top50: '/Contacts?$top=50',
  filter_order: "/Contacts?$filter=startswith(LastName,'S') and BusinessAddress/State eq 'CA'&$orderby=LastName,FirstName&$top=50&$select=Id,FullName,EmailAddress",
} as const;

interface Client {
  readonly url: string;
  readonly auth: Record<string, string>;
}

async function addField(client: Client, name: string, indexed: boolean): Promise<string> {
  const res = await fetch(`${client.url}/FieldDefinitions`, {
    method: 'POST', headers: { ...client.auth, 'Content-Type': 'application/json' },
    body: JSON.stringify({ EntityType: 'Contact', Name: name, FieldType: 'Text', Length: 255, IsIndexed: indexed }),
  });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`POST FieldDefinitions ${name}: ${res.status} ${text}`);
  return String((JSON.parse(text) as { Id: string }).Id);
}

async function dropField(client: Client, id: string): Promise<void> {
  const res = await fetch(`${client.url}/FieldDefinitions(${id})`, { method: 'DELETE', headers: client.auth });
  if (res.status !== 204) throw new Error(`DELETE FieldDefinitions(${id}): ${res.status} ${await res.text()}`);
}

/** Custom fields on Contacts left by an interrupted run. */
async function dropLeftovers(client: Client): Promise<void> {
  const res = await fetch(`${client.url}/FieldDefinitions?$filter=IsCustom and EntityType eq 'Contact'&$select=Id`, { headers: client.auth });
  const body = await res.json() as { value: { Id: string }[] };
  for (const row of body.value) await dropField(client, row.Id);
}

interface ReadLoad {
  readonly requests: number;
  readonly statusCodes: Record<string, number>;
  readonly failures: string[];
  readonly slowestMs: number;
  readonly seconds: number;
}

/** `connections` loops issuing the read shapes in turn until `stop` resolves. */
async function readLoad(client: Client, paths: readonly string[], connections: number, stop: Promise<unknown>): Promise<ReadLoad> {
  let done = false;
  void stop.finally(() => { done = true; });
  const statusCodes: Record<string, number> = {};
  const failures: string[] = [];
  let requests = 0;
  let slowestMs = 0;
  const started = process.hrtime.bigint();
  const loop = async (offset: number): Promise<void> => {
    for (let i = offset; !done; i++) {
      const path = paths[i % paths.length];
      let status: string;
      let body = '';
      const sent = process.hrtime.bigint();
      try {
        const res = await fetch(client.url + path, { headers: client.auth });
        body = await res.text();
        status = String(res.status);
      } catch (err) {
        status = 'error';
        body = `${String(err)} (${String((err as { cause?: unknown }).cause)})`;
      }
      requests++;
      slowestMs = Math.max(slowestMs, Number(process.hrtime.bigint() - sent) / 1e6);
      statusCodes[status] = (statusCodes[status] ?? 0) + 1;
      if (!status.startsWith('2') && failures.length < 5) failures.push(`${status} ${path}: ${body.slice(0, 300)}`);
    }
  };
  await Promise.all(Array.from({ length: connections }, (_, c) => loop(c)));
  return { requests, statusCodes, failures, slowestMs, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

async function rate(client: Client, path: string, seconds: number, rounds: number): Promise<number> {
  const results: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const load = await readLoad(client, [path], 10, new Promise((resolve) => setTimeout(resolve, seconds * 1000)));
    if (Object.keys(load.statusCodes).some((s) => !s.startsWith('2'))) throw new Error(`${path}: ${JSON.stringify(load.statusCodes)} ${load.failures.join('\n')}`);
    results.push(load.requests / load.seconds);
  }
  return median(results);
}

async function main(): Promise<void> {
  const database = option('database');
  const rounds = Number(option('rounds', '2'));
  const seconds = Number(option('seconds', '3'));
  const skip = new Set(option('skip', '').split(',').filter(Boolean));
  const running = option('url', '');
  if (!running) buildService((line) => console.warn(line));
  const svc = running ? { root: running, stop: async () => undefined } : await startService(database);
  const db = openDatabase(database, { readProcesses: 0 });
  const print = (line: string) => console.log(line);
  try {
    const client: Client = { url: svc.root, auth: {} };
    await dropLeftovers(client);
    const [{ n }] = await db.knex('Contacts').count({ n: '*' }) as { n: number | string }[];
    print(`${db.engine}, ${Number(n)} contacts, ${rounds} rounds; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);

    if (!skip.has('ops')) {
      for (const indexed of [false, true]) {
        const steps: Record<string, number[]> = { 'POST (add)': [], 'DELETE (empty)': [], 'POST again': [], fill: [], 'DELETE (filled)': [] };
        for (let round = 0; round < rounds; round++) {
          const name = `Bench${indexed ? 'Ix' : ''}${round}`;
          let id = '';
          steps['POST (add)'].push(await timed(async () => { id = await addField(client, name, indexed); }));
          steps['DELETE (empty)'].push(await timed(() => dropField(client, id)));
          const columnsBefore = Object.keys(await db.knex('Contacts').columnInfo());
          steps['POST again'].push(await timed(async () => { id = await addField(client, name, indexed); }));
          const column = Object.keys(await db.knex('Contacts').columnInfo()).find((c) => !columnsBefore.includes(c));
          if (!column) throw new Error(`no new column for ${name}`);
          steps.fill.push(await timed(() => db.knex('Contacts').update({ [column]: 'some text of a custom field' })));
          // SQLite's fill blocks this process's event loop (better-sqlite3): past the service's 5 s idle close, fetch
          // would send the DELETE on the socket the service closed meanwhile ("other side closed") before it noticed
          if (db.engine === 'sqlite') await new Promise((resolve) => setTimeout(resolve, 1100));
          steps['DELETE (filled)'].push(await timed(() => dropField(client, id)));
        }
        for (const [step, times] of Object.entries(steps)) print(`  Text${indexed ? ' IsIndexed' : ''} ${step.padEnd(16)} ${median(times).toFixed(0).padStart(8)} ms   (${times.map((t) => t.toFixed(0)).join(', ')})`);
      }
    }

    if (!skip.has('rate')) {
      const before = { list_top50: await rate(client, READS.list_top50, seconds, rounds), filter_order: await rate(client, READS.filter_order, seconds, rounds) };
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) ids.push(await addField(client, `Extra${i}`, i % 4 === 0));
      const after = { list_top50: await rate(client, READS.list_top50, seconds, rounds), filter_order: await rate(client, READS.filter_order, seconds, rounds) };
      for (const id of ids) await dropField(client, id);
      for (const shape of ['list_top50', 'filter_order'] as const) print(`  ${shape} req/s (10 conn): ${before[shape].toFixed(0)} before, ${after[shape].toFixed(0)} with 20 custom fields`);
    }

    if (!skip.has('load')) {
      const changeMs: number[] = [];
      const changing = (async () => {
        await new Promise((resolve) => setTimeout(resolve, 500));
        const ids: string[] = [];
        for (let i = 0; i < 10; i++) changeMs.push(await timed(async () => { ids.push(await addField(client, `Load${i}`, i % 2 === 0)); }));
        for (const id of ids) changeMs.push(await timed(() => dropField(client, id)));
        await new Promise((resolve) => setTimeout(resolve, 500));
      })();
      const load = await readLoad(client, [READS.list_top50, READS.filter_order], 10, changing.catch(() => undefined));
      await changing;
      const bad = Object.entries(load.statusCodes).filter(([s]) => !s.startsWith('2')).reduce((sum, [, k]) => sum + k, 0);
      print(`  read load during ${changeMs.length} schema changes (ms each: ${changeMs.map((t) => t.toFixed(0)).join(' ')}): ${load.requests} reads in ${load.seconds.toFixed(1)} s, slowest ${load.slowestMs.toFixed(0)} ms, status ${JSON.stringify(load.statusCodes)}, non-2xx ${bad}`);
      for (const f of load.failures) print(`    ${f}`);
    }

    if (!skip.has('rebuild') && db.engine === 'sqlite') {
      const k = db.knex;
      const inPlace: number[] = [];
      const rebuild: number[] = [];
      for (let round = 0; round < rounds; round++) {
        await k.raw('ALTER TABLE "Contacts" ADD COLUMN "RawBench" varchar(255)');
        await k('Contacts').update({ RawBench: 'some text of a custom field' });
        inPlace.push(await timed(() => k.raw('ALTER TABLE "Contacts" DROP COLUMN "RawBench"')));
        await k.raw('ALTER TABLE "Contacts" ADD COLUMN "RawBench" varchar(255)');
        await k('Contacts').update({ RawBench: 'some text of a custom field' });
        rebuild.push(await timed(() => k.schema.alterTable('Contacts', (t) => { t.dropColumn('RawBench'); })));
      }
      print(`  SQLite drop of a filled column: in place ${median(inPlace).toFixed(0)} ms (${inPlace.map((t) => t.toFixed(0)).join(', ')}), table rebuild ${median(rebuild).toFixed(0)} ms (${rebuild.map((t) => t.toFixed(0)).join(', ')})`);
    }
  } finally {
    await svc.stop();
    await db.knex.destroy();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
