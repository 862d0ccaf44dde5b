/**
 * The floor on PostgreSQL: a pg pool of the service's size, every statement a named prepared statement
 * (`{ name, text, values }`: pg parses it once per connection and then only binds and executes).
 * Dates (Edm.Date) stay text, as in the service; timestamptz in UTC (the server's default zone here) are
 * rewritten from their text to ISO 8601 without a Date, as the service does; any other text goes through pg's Date.
 */
import pg from 'pg';
import type { StatementName } from './statements';
import { statementText, type FloorStore, type Query, type Row, type Value } from './store';

const DATE_OID = 1082;
const TIMESTAMPTZ_OID = 1184;
const UTC_TEXT = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d{1,3}))?\+00$/;

const timestamptzViaDate = pg.types.getTypeParser(TIMESTAMPTZ_OID, 'text') as (v: string) => unknown;
const timestamptzText = (v: string): unknown => {
  const m = UTC_TEXT.exec(v);
  return m === null ? timestamptzViaDate(v) : `${m[1]}T${m[2]}.${(m[3] ?? '').padEnd(3, '0')}Z`;
};

export async function openPgStore(url: string, poolSize: number): Promise<FloorStore> {
  const types = {
    getTypeParser: (oid: number, format?: 'text' | 'binary') => (oid === DATE_OID ? (v: string) => v
      : oid === TIMESTAMPTZ_OID && format !== 'binary' ? timestamptzText : pg.types.getTypeParser(oid, format)),
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
