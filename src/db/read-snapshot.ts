/**
 * SQLite: consecutive reads of one `$batch` in one read transaction on the service's connection.
 *
 * Outside a transaction SQLite takes and drops a shared lock on the file for every statement (two
 * `fcntl` system calls, and the WAL index read again): under perf ~5 % of a batch of ten small reads.
 * A batch's read statements that run on the service's connection (the inline ones, db/read-pool.ts and
 * sql/inline-reads.ts) open a read transaction there on the first of them and keep it for the next.
 *
 * The snapshot never holds anybody up: the connection is not taken from the pool, and whoever else
 * wants it ends the snapshot first (a read of another request or of another batch on the idle
 * connection, and every acquisition through the pool: writes, Knex's queries), which costs a COMMIT of
 * a read transaction. The batch ends its own when it finishes. So it lasts while the batch's parts run
 * back to back, and it promises nothing about consistency across parts (a part that waited on a read
 * process may have lost it); it only saves the locking.
 */

/** The part of a better-sqlite3 connection a snapshot uses. */
export interface SnapshotConnection {
  prepare(sql: string): { run(bindings?: readonly unknown[]): unknown };
  readonly inTransaction?: boolean;
}

/** Held by one batch: identifies the owner of the read transaction it opens. */
export class ReadSnapshot {
  /** the connection its read transaction is open on, if it is */
  connection: SnapshotConnection | undefined;

  /** Ends the read transaction if it is still open (the batch is done). */
  end(): void {
    if (this.connection !== undefined) endSnapshotOn(this.connection);
  }
}

/** connection → the snapshot whose read transaction is open on it */
const openOn = new WeakMap<SnapshotConnection, ReadSnapshot>();

/** Whether `connection` is in a read transaction a snapshot opened (and so may be taken by ending it). */
export function holdsSnapshot(connection: SnapshotConnection): boolean {
  return openOn.has(connection);
}

/**
 * Makes the idle `connection` ready for a read of `owner` (undefined: a read outside any batch):
 * another snapshot's transaction is ended; `owner`'s is opened, or kept when it is already open.
 */
export function readOn(connection: SnapshotConnection, owner: ReadSnapshot | undefined): void {
  const current = openOn.get(connection);
  if (current === owner) return;
  if (current !== undefined) endSnapshotOn(connection);
  if (owner === undefined || connection.inTransaction === true) return;
  connection.prepare('BEGIN').run([]);
  openOn.set(connection, owner);
  owner.connection = connection;
}

/** Ends the snapshot open on `connection`, if any (before the connection is used otherwise). */
export function endSnapshotOn(connection: SnapshotConnection): void {
  const current = openOn.get(connection);
  if (current === undefined) return;
  openOn.delete(connection);
  current.connection = undefined;
  if (connection.inTransaction === true) connection.prepare('COMMIT').run([]);
}
