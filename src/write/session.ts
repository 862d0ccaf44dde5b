/**
 * One write transaction: the executor bound to it, the moment it happens, the hooks that watch its
 * statements, and the derived sums it must bring up to date before it commits.
 */
import type { EdmEntitySet, EdmModel } from '../edm/model';
import type { Fragment } from '../sql/fragment';
import { run, runWrite, type Executor, type Row } from '../sql/execute';
import { formatUtc } from '../uri/temporal';
import type { KeyValue } from './entity-reference';

import type { RequestUser } from '../plan/request-context';
import type { SumRule } from './derived-values';
import type { StoredValue } from './json-values';

export interface WriteEvent {
  readonly table: string;
  readonly statement: 'insert' | 'update' | 'delete';
}

/** Extension points around writes (an activity stream and access rules plug in here later; tests inject failures). */
export interface WriteHooks {
  readonly afterWriteStatement: ((event: WriteEvent) => void | Promise<void>)[];
}

export function createWriteHooks(): WriteHooks {
  return { afterWriteStatement: [] };
}

/**
 * One moment per transaction, as SQL's CURRENT_TIMESTAMP: every write of a change set is stamped
 * alike (a row written twice in it still gets a newer `Edited`: see entity-store's nextEdited).
 */
const momentOfTransaction = new WeakMap<object, string>();

function momentOf(knex: Executor['knex']): string {
  if (!knex.isTransaction) return formatUtc(new Date());
  let moment = momentOfTransaction.get(knex);
  if (moment === undefined) momentOfTransaction.set(knex, (moment = formatUtc(new Date())));
  return moment;
}

/** Who writes (their rows are checked by src/auth/write-rules.ts) and the password policy for User.Password. */
export interface WriteActor {
  readonly user: RequestUser;
  readonly minPasswordLength: number;
}

export class WriteSession {
  /** the transaction's timestamp, ISO 8601 UTC with milliseconds */
  readonly now: string;
  /** parents whose sums must be recomputed before commit */
  readonly pendingSums = new Map<SumRule, Set<KeyValue>>();
  /** every entity written in this session as its row now is (column → value), by `Set(key)` */
  readonly rows = new Map<string, ReadonlyMap<string, StoredValue>>();
  /** per entity set, the keys inserted (`inserted`) or updated (the columns written) in this session */
  readonly written = new Map<EdmEntitySet, Map<KeyValue, 'inserted' | Set<string>>>();
  /** personal access tokens created in this session, in clear, by `Set(key)`: answered once, never stored */
  readonly issuedTokens = new Map<string, string>();
  /** every table a statement of this session wrote */
  readonly writtenTables = new Set<string>();

  constructor(readonly ex: Executor, readonly model: EdmModel, private readonly hooks: WriteHooks, readonly actor: WriteActor) {
    this.now = momentOf(ex.knex);
  }

  read(f: Fragment): Promise<Row[]> {
    return run(this.ex, f);
  }

  /**
   * Not an async function: without hooks, the statement's own promise (a change set's inserts each save
   * one). The table counts as written from the start: a statement that fails fails the whole write.
   */
  write(f: Fragment, event: WriteEvent): Promise<number> {
    this.writtenTables.add(event.table);
    const written = runWrite(this.ex, f);
    const hooks = this.hooks.afterWriteStatement;
    if (hooks.length === 0) return written;
    return written.then(async (changed) => {
      for (const hook of hooks) await hook(event);
      return changed;
    });
  }

  /** Records that an entity was inserted, or which of its columns an update wrote. */
  noteWritten(set: EdmEntitySet, key: KeyValue, columns: 'inserted' | readonly string[]): void {
    let keys = this.written.get(set);
    if (!keys) this.written.set(set, (keys = new Map()));
    const before = keys.get(key);
    if (columns === 'inserted' || before === 'inserted') keys.set(key, 'inserted');
    else keys.set(key, new Set([...(before ?? []), ...columns]));
  }

  touchSum(rule: SumRule, parentKey: unknown): void {
    if (typeof parentKey !== 'string' && typeof parentKey !== 'number') return;
    let keys = this.pendingSums.get(rule);
    if (!keys) this.pendingSums.set(rule, (keys = new Set()));
    keys.add(parentKey);
  }
}
