/**
 * The floor on PostgreSQL: a pg pool of the service's size, every statement a named prepared statement
 * (`{ name, text, values }`: pg parses it once per connection and then only binds and executes).
 * Dates (Edm.Date) stay text, as in the service; timestamptz arrive as Date and are written with toISOString.
 */
import pg from 'pg';
import type { StatementName } from './statements';
import { statementText, type FloorStore, type Query, type Row, type Value } from './store';

const DATE_OID = 1082;

export async function openPgStore(url: string, poolSize: number): Promise<FloorStore> {
  const types = {
    getTypeParser: (oid: number, format?: 'text' | 'binary') => (oid === DATE_OID ? (v: string) => v : pg.types.getTypeParser(oid, format)),
  };
  const pool = new pg.Pool({ connectionString: url, max: poolSize, types: types as pg.CustomTypesConfig });
  const columns = await pool.query(`SELECT 1 FROM information_schema.columns WHERE table_name = 'Contacts' AND column_name = 'Categories'`);
  const contactCategories = columns.rows.length > 0;
  const texts = new Map<string, { name: string; text: string }>();
  const statement = (name: StatementName, integers: readonly number[]) => {
    const key = integers.length === 0 ? name : `${name}_${integers.join('_')}`;
    let s = texts.get(key);
    if (!s) {
      let i = 0;
      s = { name: `floor_${key}`, text: statementText(name, integers, contactCategories).replace(/\?/g, () => `$${++i}`) };
      texts.set(key, s);
    }
    return s;
  };
  const on = (client: pg.Pool | pg.PoolClient): Query => async (name, values, integers = []) => {
    const s = statement(name, integers);
    const result = await client.query<Row>({ name: s.name, text: s.text, values: values as Value[] });
    return result.rows;
  };
  return {
    engine: 'postgres',
    contactCategories,
    query: on(pool),
    async transaction(work) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await work(on(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}
