/**
 * The model's lifecycle on one database. At start the model to serve (built-in CSDL + the schema
 * changes the database holds) is compared with what the database holds and the difference applied
 * in one transaction (`migrateModel`). While the service runs, `applySchemaChange` runs a change's
 * DDL and definition rows in one transaction, serialized across processes by the schema lock, and
 * then swaps the next model in; requests in flight keep the model object they started with. Other
 * processes (workers, nodes) notice a newer recorded version by polling it (one primary-key read)
 * and swap in the same model.
 */
import type { Knex } from 'knex';
import { buildServedModel, SchemaChangeAtError, type BuiltInModel, type SchemaChange } from '../edm/schema-change';
import type { EdmModel } from '../edm/model';
import type { Engine } from './connect';
import { applyMigration, ModelMigrationError, planMigration } from './model-migrator';
import { latestModelRecord, latestModelVersion, lockSchema, pollModelVersion, recordModel, recordSchemaChange, schemaChanges } from './model-store';
import { describeExpectedSchema } from './schema';
import { schemaTransaction } from './sqlite-table-change';
import { createAlternateKeyIndexes } from './alternate-key-indexes';
import { maintainVisibleCounts } from './sqlite-visible-counts';
import { ownerOrPublicTables } from '../auth/access';
import { loadReferenceData } from './reference-data';
import { syncDeclaredFields } from '../schema/field-rows';
import { setStatementEpoch } from './prepared-statements';
import { listenForModelChanges, notifyModelChange, type ModelListener } from './model-notify';
import { entitySetOfType } from '../edm/lookup';
import { columnsOf, navigationStorage, tableOf } from '../edm/storage';

export interface ServedModel {
  readonly model: EdmModel;
  /** the database's model version (odata_model.version) this model belongs to */
  readonly version: number;
}

/** Applies the difference between the database and the model to serve; throws ModelMigrationError (nothing changed) when unsafe. */
export async function migrateModel(knex: Knex, engine: Engine, builtIn: BuiltInModel): Promise<ServedModel> {
  return schemaTransaction(knex, async (trx) => {
    await lockSchema(trx);
    const changes = await schemaChanges(trx);
    const model = servedModelAtStart(builtIn, changes);
    const record = await latestModelRecord(trx);
    if (record?.digest === model.version) {
      await keepVisibleCounts(trx, engine, model);
      return { model, version: record.version };
    }
    const expected = describeExpectedSchema(model);
    const plan = await planMigration(trx, engine, expected, record?.storage);
    if (plan.problems.length > 0) throw new ModelMigrationError(plan.problems);
    await applyMigration(trx, engine, plan.steps);
    await keepVisibleCounts(trx, engine, model);
    // however a table came into being (knex migration or the steps above), it gets its alternate-key indexes and reference rows
    await createAlternateKeyIndexes(trx, model);
    await loadReferenceData(trx, model);
    await syncDeclaredFields(trx, model, changes);
    const version = (record?.version ?? 0) + 1;
    await recordModel(trx, version, model, expected);
    return { model, version };
  });
}

/** SQLite keeps the visible-row counts of the model's owner-or-public tables (db/sqlite-visible-counts.ts). */
async function keepVisibleCounts(trx: Knex.Transaction, engine: Engine, model: EdmModel): Promise<void> {
  if (engine === 'sqlite') await maintainVisibleCounts(trx, ownerOrPublicTables(model));
}

/**
 * The model to serve at start. A schema change the database holds that no longer fits the built-in
 * model (a later model file declares a property, set or type a custom one already took: the columns
 * cannot collide, `cf_<Name>`, but the EDM names do) stops the start, naming both.
 */
function servedModelAtStart(builtIn: BuiltInModel, changes: readonly SchemaChange[]): EdmModel {
  try {
    return buildServedModel(builtIn, changes);
  } catch (err) {
    if (!(err instanceof SchemaChangeAtError)) throw err;
    throw new ModelConflictError(err);
  }
}

/** The built-in model and a run-time addition the database holds claim the same name. */
export class ModelConflictError extends Error {
  constructor(readonly failure: SchemaChangeAtError) {
    super(`The model to serve cannot be built on this database; nothing was changed: ${describeStoredChange(failure.change)} (schema change ${failure.index + 1} the database holds) no longer fits the model file: ${failure.message}. `
      + 'The model file now declares what the database already holds as a run-time addition: rename the built-in element in the model file, or remove or rename the custom one with the previous release, then start again.');
    this.name = 'ModelConflictError';
  }
}

function describeStoredChange(change: SchemaChange): string {
  switch (change.kind) {
    case 'add-property': return `the custom field ${change.entityType}.${change.property} (FieldDefinitions(EntityType='${change.entityType}',Name='${change.property}'))`;
    case 'alter-property': return `a change of the custom field ${change.entityType}.${change.property}`;
    case 'drop-property': return `the removal of the custom field ${change.entityType}.${change.property}`;
    case 'add-table': return `the custom table ${change.entitySet} of type ${change.entityType} (TableDefinitions(Name='${change.entitySet}'))`;
    case 'drop-table': return `the removal of the custom table ${change.entitySet}`;
  }
}

/** Test-only seams inside a schema change's transaction. */
export interface SchemaChangeHooks {
  /** runs after the DDL, before the definition rows are written; a throw rolls everything back */
  readonly afterDdl?: () => void | Promise<void>;
  /** runs in the change's transaction before its DDL is planned (e.g. fills nulls a now required column cannot hold) */
  readonly beforeDdl?: (trx: Knex.Transaction) => Promise<void>;
  /**
   * Writes the change's definition rows (FieldDefinitions, …) in its transaction, after the DDL, with
   * the model the change leads to; a throw rolls everything back.
   */
  readonly inTransaction?: (trx: Knex.Transaction, next: EdmModel) => Promise<void>;
}

export interface ModelLifecycleOptions {
  /** how often another process's schema change is looked for (ms; 0: never) */
  readonly pollMs: number;
  /** PostgreSQL: the database URL to LISTEN on for schema changes (src/db/model-notify.ts) */
  readonly listenUrl?: string;
  readonly onError: (err: unknown) => void;
}

/** The columns (`Table.Column`) and tables (`Table`) a change removes on purpose, values included. */
function droppedStorage(model: EdmModel, change: SchemaChange): ReadonlySet<string> {
  switch (change.kind) {
    case 'add-property': case 'alter-property': case 'add-table': return new Set();
    case 'drop-property': {
      const type = model.entityTypes.get(`${model.namespace}.${change.entityType}`);
      if (!type) return new Set();
      const table = tableOf(entitySetOfType(model, type));
      return new Set(columnsOf(type).filter((c) => c.path[0].toLowerCase() === change.property.toLowerCase()).map((c) => `${table}.${c.column}`));
    }
    case 'drop-table': {
      const set = [...model.entitySets.values()].find((s) => s.name.toLowerCase() === change.entitySet.toLowerCase());
      if (!set) return new Set();
      const links = set.entityType.navigations.map((nav) => navigationStorage(model, set.entityType, nav)).filter((s) => s.kind === 'link-table').map((s) => s.table);
      return new Set([tableOf(set), ...links]);
    }
  }
}

export class ModelLifecycle {
  private served: ServedModel;
  private timer: NodeJS.Timeout | undefined;
  private listener: ModelListener | undefined;
  private polling = false;
  private pollAgain = false;
  /** one schema change at a time per process (the schema lock serializes processes) */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly knex: Knex, private readonly engine: Engine, private readonly builtIn: BuiltInModel, initial: ServedModel, private readonly options: ModelLifecycleOptions) {
    this.served = initial;
    setStatementEpoch(initial.version);
  }

  get model(): EdmModel {
    return this.served.model;
  }

  get version(): number {
    return this.served.version;
  }

  /** Replaces the model in memory only (tests that try a variant of the model). */
  replaceInMemory(model: EdmModel): void {
    this.served = { model, version: this.served.version };
  }

  /**
   * Applies one change: DDL, then its definition row and the new model record, in one transaction;
   * then the next model is served. Throws SchemaChangeError (the change does not fit the model),
   * ModelMigrationError (its DDL would change or lose data) or the database's error; nothing changes then.
   */
  applySchemaChange(change: SchemaChange, hooks: SchemaChangeHooks = {}): Promise<ServedModel> {
    const run = this.queue.then(() => this.runChange(change, hooks));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async runChange(change: SchemaChange, hooks: SchemaChangeHooks): Promise<ServedModel> {
    const next = await schemaTransaction(this.knex, async (trx) => {
      await lockSchema(trx);
      const record = await latestModelRecord(trx);
      if (!record) throw new Error('the database holds no model record; start the service on it first');
      const model = buildServedModel(this.builtIn, [...await schemaChanges(trx), change]);
      const expected = describeExpectedSchema(model);
      await hooks.beforeDdl?.(trx);
      const plan = await planMigration(trx, this.engine, expected, record.storage, droppedStorage(this.served.model, change));
      if (plan.problems.length > 0) throw new ModelMigrationError(plan.problems);
      await applyMigration(trx, this.engine, plan.steps);
      await keepVisibleCounts(trx, this.engine, model);
      await hooks.afterDdl?.();
      await hooks.inTransaction?.(trx, model);
      const version = record.version + 1;
      await recordSchemaChange(trx, version, change);
      await recordModel(trx, version, model, expected);
      if (this.engine === 'postgres') await notifyModelChange(trx, version);
      return { model, version };
    });
    this.swap(next);
    return next;
  }

  /** Starts looking for schema changes made by other processes. */
  watch(): void {
    if (this.options.listenUrl && !this.listener) this.listener = listenForModelChanges(this.options.listenUrl, () => void this.poll(), this.options.onError);
    if (this.timer || this.options.pollMs <= 0) return;
    this.timer = setInterval(() => void this.poll(), this.options.pollMs);
    this.timer.unref();
  }

  /** Serves the database's newest model if it is newer than the one served (answers whether it changed). */
  async refresh(): Promise<boolean> {
    const latest = await pollModelVersion(this.knex);
    if (latest <= this.served.version) return false;
    const { changes, version } = await this.knex.transaction(async (trx) => ({ changes: await schemaChanges(trx), version: await latestModelVersion(trx) }));
    return this.swap({ model: buildServedModel(this.builtIn, changes), version });
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.listener?.close();
    this.listener = undefined;
  }

  private async poll(): Promise<void> {
    // a notification during a poll is not lost: the poll reads the version row after it was sent, or the next one does
    if (this.polling) { this.pollAgain = true; return; }
    this.polling = true;
    try {
      await this.refresh();
    } catch (err) {
      this.options.onError(err);
    } finally {
      this.polling = false;
      if (this.pollAgain) { this.pollAgain = false; void this.poll(); }
    }
  }

  /** Newer versions only: a slow poll must not put back a model a schema change just replaced. */
  private swap(next: ServedModel): boolean {
    if (next.version <= this.served.version) return false;
    setStatementEpoch(next.version);
    this.served = next;
    return true;
  }
}
