/**
 * PostgreSQL: other processes hear of a schema change at once. The transaction that records a new
 * model version sends `NOTIFY odata_model` (delivered on commit); every service keeps one connection
 * that LISTENs and, on a notification or after a reconnect (notifications sent while it was away
 * are lost), reads the version row again. SQLite has no such channel: the version row is polled.
 */
import pg from 'pg';
import type { Knex } from 'knex';

export const MODEL_CHANNEL = 'odata_model';
const RECONNECT_MS = 1000;

/** Inside the recording transaction: tells the listeners once it commits. */
export async function notifyModelChange(trx: Knex.Transaction, version: number): Promise<void> {
  await trx.raw('SELECT pg_notify(?, ?)', [MODEL_CHANNEL, String(version)]);
}

export interface ModelListener {
  close(): Promise<void>;
}

/** Listens on `url` until closed; `onChange` runs on every notification and after every (re)connect. */
export function listenForModelChanges(url: string, onChange: () => void, onError: (err: unknown) => void): ModelListener {
  let client: pg.Client | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  const reconnectSoon = () => {
    if (closed || retry) return;
    retry = setTimeout(() => { retry = undefined; void connect(); }, RECONNECT_MS);
    retry.unref();
  };
  const connect = async () => {
    const c = new pg.Client({ connectionString: url });
    client = c;
    c.on('notification', () => onChange());
    c.on('error', (err) => { onError(err); reconnectSoon(); });
    c.on('end', () => { if (client === c) reconnectSoon(); });
    try {
      await c.connect();
      await c.query(`LISTEN ${MODEL_CHANNEL}`);
      if (closed) { await c.end(); return; }
      onChange();
    } catch (err) {
      onError(err);
      reconnectSoon();
    }
  };
  void connect();
  return {
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      const c = client;
      client = undefined;
      await c?.end().catch(() => undefined);
    },
  };
}
