/** The dialect of a database engine: the one place that maps an engine's name to its SQL table. */
import type { Engine } from '../../db/connect';
import type { Dialect } from './dialect';
import { postgresDialect } from './postgres';
import { sqliteDialect } from './sqlite';

export function dialectOf(engine: Engine): Dialect {
  return engine === 'postgres' ? postgresDialect : sqliteDialect;
}
