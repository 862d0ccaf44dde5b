/**
 * SQLite's documented table rebuild (src/db/sqlite-table-change.ts) on a small schema of its own: a
 * parent table with a child whose rows cascade, an index, a trigger on the table, another table's
 * trigger and a view that name it. The rebuild keeps all of them and every row; a failure inside it
 * rolls everything back. The CREATE TABLE edit changes one column's NOT NULL only.
 */
import { openDatabase } from '../../src/db/connect';
import { ForeignKeysOnError, forceSqliteNullabilityMethod, schemaTransaction, setSqliteNullability, withNullability } from '../../src/db/sqlite-table-change';

describe('SQLite table rebuild', () => {
  const db = openDatabase(':memory:');
  const k = db.knex;

  beforeAll(async () => {
    for (const sql of [
      'CREATE TABLE `P` (`Id` integer not null, `Name` text null, `Tier` text null, constraint `pk_P` primary key (`Id`))',
      'CREATE TABLE `C` (`Id` integer primary key, `PId` integer not null references `P` (`Id`) on delete cascade)',
      'CREATE INDEX `ix_P_Tier` ON `P` (`Tier`)',
      'CREATE TABLE `Log` (`What` text)',
      "CREATE TRIGGER `t_P` AFTER UPDATE ON `P` BEGIN INSERT INTO `Log` VALUES ('P ' || new.`Id`); END",
      "CREATE TRIGGER `t_C` AFTER INSERT ON `C` BEGIN INSERT INTO `Log` SELECT 'C of ' || `Name` FROM `P` WHERE `Id` = new.`PId`; END",
      'CREATE VIEW `PC` AS SELECT `P`.`Name`, `C`.`Id` AS `CId` FROM `P` JOIN `C` ON `C`.`PId` = `P`.`Id`',
      "INSERT INTO `P` VALUES (1, 'one', 'a'), (2, 'two', null)",
      'INSERT INTO `C` (`PId`) VALUES (1), (1), (2)',
      'DELETE FROM `Log`',
    ]) await k.raw(sql);
  });
  afterAll(async () => {
    forceSqliteNullabilityMethod(undefined);
    await k.destroy();
  });

  const schema = async () => await k.raw("SELECT type, name, sql FROM sqlite_master WHERE name <> 'P' ORDER BY name") as unknown[];

  it('edits one column definition of a CREATE TABLE', () => {
    const sql = "CREATE TABLE `T` (`A` text null, `B` text DEFAULT NULL, `C` text not null default 'x', constraint `pk` primary key (`A`), `Constraint` decimal_text(10,2))";
    expect(withNullability(sql, 'A', false)).toBe("CREATE TABLE `T` (`A` text NOT NULL, `B` text DEFAULT NULL, `C` text not null default 'x', constraint `pk` primary key (`A`), `Constraint` decimal_text(10,2))");
    expect(withNullability(sql, 'B', false)).toContain('`B` text DEFAULT NULL NOT NULL,');
    expect(withNullability(sql, 'C', true)).toContain("`C` text default 'x',");
    expect(withNullability(sql, 'constraint', false)).toContain('`Constraint` decimal_text(10,2) NOT NULL)');
    expect(() => withNullability(sql, 'D', false)).toThrow('no column D');
  });

  it('needs foreign keys off: with them on it refuses before changing anything', async () => {
    forceSqliteNullabilityMethod('rebuild');
    await expect(k.transaction((trx) => setSqliteNullability(trx, 'P', 'Name', false))).rejects.toBeInstanceOf(ForeignKeysOnError);
  });

  it('rebuilds the table: rows, children, index, triggers and view kept; NOT NULL set and dropped', async () => {
    forceSqliteNullabilityMethod('rebuild');
    const before = await schema();
    await schemaTransaction(k, (trx) => setSqliteNullability(trx, 'P', 'Name', false));
    expect((await k.raw('PRAGMA table_info(`P`)') as { name: string; notnull: number }[]).find((c) => c.name === 'Name')?.notnull).toBe(1);
    expect(await k.raw('PRAGMA foreign_keys')).toEqual([{ foreign_keys: 1 }]);
    expect(await schema()).toEqual(before);
    expect(await k('C').count({ n: '*' })).toEqual([{ n: 3 }]);
    expect(await k('PC').orderBy('CId')).toEqual([{ Name: 'one', CId: 1 }, { Name: 'one', CId: 2 }, { Name: 'two', CId: 3 }]);
    await expect(k('P').insert({ Id: 3, Name: null })).rejects.toMatchObject({ message: expect.stringMatching(/NOT NULL/) });
    // the triggers still fire, and the cascade still works
    await k('P').where('Id', 2).update({ Tier: 'b' });
    await k('C').insert({ PId: 2 });
    expect((await k('Log').select('What')).map((r: { What: string }) => r.What)).toEqual(['P 2', 'C of two']);
    await k('P').where('Id', 2).delete();
    expect(await k('C').count({ n: '*' })).toEqual([{ n: 2 }]);
    await schemaTransaction(k, (trx) => setSqliteNullability(trx, 'P', 'Name', true));
    await k('P').insert({ Id: 3, Name: null });
    expect(await schema()).toEqual(before);
  });

  it('a failure after the rebuild rolls it back whole', async () => {
    forceSqliteNullabilityMethod('rebuild');
    const before = await k.raw("SELECT sql FROM sqlite_master WHERE name = 'P'");
    const tiers = await k('P').orderBy('Id').select('Tier');
    await expect(schemaTransaction(k, async (trx) => {
      await trx('P').whereNull('Tier').update({ Tier: 'z' });
      await setSqliteNullability(trx, 'P', 'Tier', false);
      throw new Error('injected');
    })).rejects.toThrow('injected');
    expect(await k.raw("SELECT sql FROM sqlite_master WHERE name = 'P'")).toEqual(before);
    expect(await k.schema.hasTable('P__rebuild')).toBe(false);
    expect(await k('P').orderBy('Id').select('Tier')).toEqual(tiers);
    expect(await k('C').count({ n: '*' })).toEqual([{ n: 2 }]);
    expect(await k.raw('PRAGMA foreign_keys')).toEqual([{ foreign_keys: 1 }]);
  });

  it('in place (SQLite ≥ 3.53): the same result without a copy', async () => {
    forceSqliteNullabilityMethod('in-place');
    await k('P').whereNull('Name').update({ Name: 'x' });
    await schemaTransaction(k, (trx) => setSqliteNullability(trx, 'P', 'Name', false));
    expect((await k.raw('PRAGMA table_info(`P`)') as { name: string; notnull: number }[]).find((c) => c.name === 'Name')?.notnull).toBe(1);
    await schemaTransaction(k, (trx) => setSqliteNullability(trx, 'P', 'Name', true));
    expect((await k.raw('PRAGMA table_info(`P`)') as { name: string; notnull: number }[]).find((c) => c.name === 'Name')?.notnull).toBe(0);
  });
});
