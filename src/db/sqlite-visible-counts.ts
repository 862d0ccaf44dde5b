/**
 * SQLite: how many rows of an owner-or-public table (auth/access.ts) each caller may see, kept by
 * triggers in the writing transaction, so a signed-in `/$count` is two primary-key reads instead of a
 * scan. SQLite answers a bare `COUNT(*)` from the b-tree without reading rows; the caller's access
 * predicate (`IsPrivate <> 1 OR OwnerId IS NULL OR OwnerId = ?`) made the same count read every row
 * (0.03 of the bare floor at 20 000 contacts).
 *
 * `odata_visible_counts` holds, per table, the rows every caller sees (`shared` 1, owner '') and, per
 * owner, the private rows only that owner sees (`shared` 0). Triggers keep it on every INSERT, DELETE,
 * and UPDATE of the owner or privacy column, whoever writes (the service, the seed, an import), inside
 * the writer's transaction: a rolled-back write rolls its counts back. `odata_visible_count_tables`
 * names the tables kept this way and the columns their triggers read; the count query consults it and
 * scans when its table is not there (sql/dialect/sqlite.ts countVisible), so a process still serving
 * an older model, or a table whose triggers a rebuild dropped, never reads a stale count.
 *
 * PostgreSQL has no such table: its COUNT(*) reads the rows either way, and a counter row per owner
 * would serialize concurrent writers on its lock.
 */
import type { Knex } from 'knex';

export const VISIBLE_COUNTS = 'odata_visible_counts';
export const VISIBLE_COUNT_TABLES = 'odata_visible_count_tables';

export interface CountedTable {
  readonly table: string;
  readonly ownerColumn: string;
  readonly privateColumn: string;
}

const TRIGGERS = ['ins', 'del', 'upd'] as const;
/** Names the triggers may carry as they are (trigger bodies cannot take parameters). */
const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function triggerName(table: string, event: (typeof TRIGGERS)[number]): string {
  return `odata_visible_count_${event}_${table}`;
}

/**
 * Makes the counts true for `tables` (those whose table exists with both columns) and forgets every
 * other table's: creates missing tables and triggers, recounts a table whose triggers were missing
 * or read other columns. Runs in the model's schema transaction, at start and after each schema change.
 */
export async function maintainVisibleCounts(trx: Knex.Transaction, tables: readonly CountedTable[]): Promise<void> {
  await trx.raw(`CREATE TABLE IF NOT EXISTS ?? (tbl TEXT NOT NULL PRIMARY KEY, owner_column TEXT NOT NULL, private_column TEXT NOT NULL) WITHOUT ROWID`, [VISIBLE_COUNT_TABLES]);
  await trx.raw(`CREATE TABLE IF NOT EXISTS ?? (tbl TEXT NOT NULL, shared INTEGER NOT NULL, owner TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (tbl, shared, owner)) WITHOUT ROWID`, [VISIBLE_COUNTS]);
  const wanted = new Map<string, CountedTable>();
  for (const t of tables) if ([t.table, t.ownerColumn, t.privateColumn].every((n) => PLAIN_NAME.test(n)) && await hasColumns(trx, t)) wanted.set(t.table, t);
  const registered = await trx(VISIBLE_COUNT_TABLES).select('tbl', 'owner_column', 'private_column') as { tbl: string; owner_column: string; private_column: string }[];
  const triggers = new Set((await trx('sqlite_master').where({ type: 'trigger' }).select('name') as { name: string }[]).map((r) => r.name));
  for (const r of registered) {
    const w = wanted.get(r.tbl);
    const intact = w !== undefined && w.ownerColumn === r.owner_column && w.privateColumn === r.private_column
      && TRIGGERS.every((e) => triggers.has(triggerName(r.tbl, e)));
    if (intact) wanted.delete(r.tbl);
    else await forget(trx, r.tbl);
  }
  for (const t of wanted.values()) {
    await forget(trx, t.table);
    await createTriggers(trx, t);
    await recount(trx, t);
    await trx(VISIBLE_COUNT_TABLES).insert({ tbl: t.table, owner_column: t.ownerColumn, private_column: t.privateColumn });
  }
}

async function hasColumns(trx: Knex.Transaction, t: CountedTable): Promise<boolean> {
  const columns = await trx.raw('SELECT name FROM pragma_table_info(?)', [t.table]) as { name: string }[];
  const names = new Set(columns.map((c) => c.name));
  return names.has(t.ownerColumn) && names.has(t.privateColumn);
}

async function forget(trx: Knex.Transaction, table: string): Promise<void> {
  for (const event of TRIGGERS) await trx.raw('DROP TRIGGER IF EXISTS ??', [triggerName(table, event)]);
  await trx(VISIBLE_COUNTS).where({ tbl: table }).delete();
  await trx(VISIBLE_COUNT_TABLES).where({ tbl: table }).delete();
}

/** Whether every caller sees a row (`row`: NEW, OLD, or the table's own): the access predicate's test; null counts as no. */
function everyoneSees(row: 'NEW.' | 'OLD.' | '', t: CountedTable): string {
  return `${row}"${t.privateColumn}" <> 1 OR ${row}"${t.ownerColumn}" IS NULL`;
}

/** `shared` and `owner` of a row (`row`: NEW or OLD). */
function keyOf(row: 'NEW.' | 'OLD.', t: CountedTable): { shared: string; owner: string } {
  const everyone = everyoneSees(row, t);
  return { shared: `CASE WHEN ${everyone} THEN 1 ELSE 0 END`, owner: `CASE WHEN ${everyone} THEN '' ELSE ${row}"${t.ownerColumn}" END` };
}

// Trigger bodies cannot take parameters: the names in them passed PLAIN_NAME (nothing to escape).
async function createTriggers(trx: Knex.Transaction, t: CountedTable): Promise<void> {
  const neu = keyOf('NEW.', t);
  const old = keyOf('OLD.', t);
  const add = `INSERT INTO ${VISIBLE_COUNTS} (tbl, shared, owner, n) VALUES ('${t.table}', ${neu.shared}, ${neu.owner}, 1) ON CONFLICT (tbl, shared, owner) DO UPDATE SET n = n + 1;`;
  const remove = `UPDATE ${VISIBLE_COUNTS} SET n = n - 1 WHERE tbl = '${t.table}' AND shared = ${old.shared} AND owner = ${old.owner};`;
  const table = `"${t.table}"`;
  await trx.raw(`CREATE TRIGGER "${triggerName(t.table, 'ins')}" AFTER INSERT ON ${table} BEGIN ${add} END`);
  await trx.raw(`CREATE TRIGGER "${triggerName(t.table, 'del')}" AFTER DELETE ON ${table} BEGIN ${remove} END`);
  await trx.raw(`CREATE TRIGGER "${triggerName(t.table, 'upd')}" AFTER UPDATE OF "${t.ownerColumn}", "${t.privateColumn}" ON ${table}
    WHEN (${old.shared}) <> (${neu.shared}) OR (${old.owner}) <> (${neu.owner}) BEGIN ${remove} ${add} END`);
}

/**
 * Two scans rather than one GROUP BY over both keys: that sorted every row of the table (1 000 000
 * contacts: a 65 MB sorter in memory, as temp_store is, which the allocator kept after the start).
 * The shared rows are one running count; only the private rows, a few in a hundred, are sorted by
 * owner (NOT INDEXED: through the owner index SQLite would read every private row at random).
 */
async function recount(trx: Knex.Transaction, t: CountedTable): Promise<void> {
  const everyone = everyoneSees('', t);
  await trx.raw(`INSERT INTO ${VISIBLE_COUNTS} (tbl, shared, owner, n) SELECT ?, 1, '', COUNT(*) FROM "${t.table}" WHERE ${everyone} HAVING COUNT(*) > 0`, [t.table]);
  await trx.raw(`INSERT INTO ${VISIBLE_COUNTS} (tbl, shared, owner, n) SELECT ?, 0, "${t.ownerColumn}", COUNT(*) FROM "${t.table}" NOT INDEXED
    WHERE NOT coalesce(${everyone}, 0) GROUP BY "${t.ownerColumn}"`, [t.table]);
}
