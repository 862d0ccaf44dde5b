/**
 * Times run-time schema changes on a seeded database (issue 17, scale): adding a nullable Text
 * property to Contacts, filling it, and dropping it again, through `lifecycle.applySchemaChange`
 * (DDL + definition rows + model record in one transaction, then the model swap).
 *
 *   npx tsx bench/schema-change.ts --database <file or postgres URL> [--rounds 3]
 *
 * The database must be seeded already (`npm run seed -- --contacts 100000 --database …`).
 */
import { withOverrides } from '../src/config';
import { startService } from '../src/server';
import { scriptOption as option } from './args';

async function timed<T>(work: () => Promise<T>): Promise<number> {
  const started = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

async function main(): Promise<void> {
  const database = option('database');
  const rounds = Number(option('rounds', '3'));
  const svc = await startService(withOverrides({ database, auth: 'off', rateLimit: 'off', seedContacts: 0, logLevel: 'silent', port: 0, host: '127.0.0.1', sqliteReadProcesses: 0 }));
  try {
    const [{ n }] = await svc.db.knex('Contacts').count({ n: '*' }) as { n: number | string }[];
    const results: Record<string, number[]> = { add: [], fill: [], 'drop (filled)': [], 'add again': [], 'drop (empty)': [] };
    for (let round = 0; round < rounds; round++) {
      const property = `BenchField${round}`;
      const add = { kind: 'add-property', entityType: 'Contact', property, definition: { $MaxLength: 255, $Nullable: true } } as const;
      const drop = { kind: 'drop-property', entityType: 'Contact', property } as const;
      results.add.push(await timed(() => svc.lifecycle.applySchemaChange(add)));
      results.fill.push(await timed(() => svc.db.knex('Contacts').update({ [property]: 'some text' })));
      results['drop (filled)'].push(await timed(() => svc.lifecycle.applySchemaChange(drop)));
      results['add again'].push(await timed(() => svc.lifecycle.applySchemaChange(add)));
      results['drop (empty)'].push(await timed(() => svc.lifecycle.applySchemaChange(drop)));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    console.log(`${svc.db.engine}, ${Number(n)} contacts, ${rounds} rounds (median ms):`);
    for (const [step, times] of Object.entries(results)) console.log(`  ${step.padEnd(14)} ${median(times).toFixed(1).padStart(10)}   (${times.map((t) => t.toFixed(1)).join(', ')})`);
  } finally {
    await svc.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
