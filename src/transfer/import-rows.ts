/**
 * Loads CSV records into an entity set through the service's own write path: every row becomes a
 * POST (or, with an upsert key that finds an existing entity, a PATCH) inside a `$batch` change set
 * of `batchSize` rows, run by executeBatch with the importing user as the caller. So conversion,
 * validation, derived values, audit fields and record access are exactly those of an OData write.
 * A change set that fails names its failing row: that row is set aside with its reason and the
 * rest of the change set is sent again. With `allOrNothing` every change set runs inside one outer
 * transaction that is rolled back if any row was rejected.
 */
import type { Knex } from 'knex';
import type { EdmEntitySet, EdmEntityType, EdmProperty } from '../edm/model';
import type { Services } from '../http/handle';
import type { BatchItem, BatchPart } from '../batch/batch-types';
import { executeBatch } from '../batch/execute-batch';
import { mapColumns, recordBody, type ColumnMapping } from './columns';
import { getJson, keyPath, literalOf, reasonOf, ServiceError, splitLink, type ServiceCaller } from './service-calls';
import { FIELD_DEFINITIONS_SET } from '../schema/field-rows';

export interface CsvRecord {
  /** 1-based line of the file where the record is (the header is line 1) */
  readonly line: number;
  readonly cells: readonly string[];
}

export interface RejectedRow {
  readonly line: number;
  readonly reason: string;
}

export interface ImportOptions {
  readonly set: string;
  readonly batchSize: number;
  /** a property whose value finds the entity a row updates (no match: the row is inserted) */
  readonly upsertKey?: string;
  readonly allOrNothing: boolean;
  readonly onProgress?: (rowsDone: number) => void;
  readonly onRejected?: (row: RejectedRow) => void | Promise<void>;
}

export interface ImportSummary {
  readonly set: string;
  readonly rowsRead: number;
  readonly inserted: number;
  readonly updated: number;
  readonly rejected: number;
  /** false when all-or-nothing rolled everything back */
  readonly committed: boolean;
  /** headers of server-maintained properties, not written */
  readonly ignoredColumns: readonly string[];
}

export type ImportTarget = ServiceCaller;

interface PendingRow {
  readonly line: number;
  readonly body: Record<string, unknown>;
  /** the entity's key path (`Contacts(…)`) when the row updates one */
  target?: string;
}

class RolledBack extends Error {}

const UPSERT_LOOKUP_VALUES = 100;

export async function importRecords(target: ImportTarget, records: AsyncIterable<CsvRecord>, options: ImportOptions): Promise<ImportSummary> {
  const set = target.services.model().entitySets.get(options.set)
    ?? [...target.services.model().entitySets.values()].find((s) => s.name.toLowerCase() === options.set.toLowerCase());
  if (!set) throw new ImportSetupError(`'${options.set}' is no entity set of this service`);
  if (!Number.isInteger(options.batchSize) || options.batchSize < 1) throw new ImportSetupError('the batch size must be a whole number of at least 1');
  const counts = { rowsRead: 0, inserted: 0, updated: 0, rejected: 0 };
  let mapping: RowMapping | undefined;
  const run = async (services: Services): Promise<void> => {
    const sink: Sink = { target: Object.assign({}, target, { services }), set, counts, options };
    let pending: PendingRow[] = [];
    for await (const record of records) {
      if (!mapping) {
        mapping = mappingOf(set.entityType, record.cells, options.upsertKey, await displayNamesOf(sink.target, set.entityType));
        continue;
      }
      counts.rowsRead += 1;
      if (record.cells.length !== mapping.headerCount) {
        await reject(sink, { line: record.line, reason: `the row has ${record.cells.length} cells, the header ${mapping.headerCount}` });
        continue;
      }
      pending.push({ line: record.line, body: recordBody(mapping, record.cells) });
      if (pending.length >= options.batchSize) {
        await loadChunk(sink, pending, mapping);
        pending = [];
      }
    }
    if (!mapping) throw new ImportSetupError('the file is empty: a header row naming the columns comes first');
    if (pending.length > 0) await loadChunk(sink, pending, mapping);
    if (options.allOrNothing && counts.rejected > 0) throw new RolledBack();
  };
  let committed = true;
  if (options.allOrNothing) {
    try {
      // reads inside the transaction must see its own writes: no read processes, no replica
      await target.services.knex.transaction((trx: Knex.Transaction) => run(Object.assign({}, target.services, { knex: trx, reads: undefined, readReplica: undefined })));
    } catch (err) {
      if (!(err instanceof RolledBack)) throw err;
      committed = false;
    }
  } else {
    await run(target.services);
  }
  return {
    set: set.name, ...counts, inserted: committed ? counts.inserted : 0, updated: committed ? counts.updated : 0, committed,
    ignoredColumns: mapping?.ignored ?? [],
  };
}

/** A problem with the whole import (unknown set, columns, options): nothing was loaded. */
export class ImportSetupError extends Error {}

interface RowMapping extends ColumnMapping {
  readonly headerCount: number;
  readonly upsert?: { readonly property: EdmProperty; readonly name: string };
}

function mappingOf(type: EdmEntityType, headers: readonly string[], upsertKey: string | undefined, displayNames: ReadonlyMap<string, string>): RowMapping {
  let mapping: ColumnMapping;
  try {
    mapping = mapColumns(type, headers, displayNames);
  } catch (err) {
    throw new ImportSetupError((err as Error).message);
  }
  if (upsertKey === undefined) return { ...mapping, headerCount: headers.length };
  const column = mapping.columns.find((c) => c.path.length === 1 && c.path[0].toLowerCase() === upsertKey.toLowerCase());
  if (!column) throw new ImportSetupError(`the upsert key '${upsertKey}' is not a column of the file (or not a writable property of ${type.name})`);
  if (column.property.type.kind !== 'primitive') throw new ImportSetupError(`the upsert key '${upsertKey}' must be a primitive property`);
  return { ...mapping, headerCount: headers.length, upsert: { property: column.property, name: column.path[0] } };
}

/**
 * The display names the caller can read for the type's fields (lower case → property name), from
 * FieldDefinitions through the service; none when the model has no such set or the caller may not read it.
 */
async function displayNamesOf(target: ImportTarget, type: EdmEntityType): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  if (!target.services.model().entitySets.has(FIELD_DEFINITIONS_SET)) return names;
  const filter = `EntityType eq '${type.name.replace(/'/g, "''")}' and DisplayName ne null`;
  let link: { path: string; query: string } | undefined = { path: FIELD_DEFINITIONS_SET, query: `$filter=${encodeURIComponent(filter)}&$select=Name,DisplayName` };
  try {
    while (link) {
      const page = await getJson(target, link.path, link.query);
      for (const row of page.value) if (typeof row.DisplayName === 'string' && typeof row.Name === 'string') names.set(row.DisplayName.trim().toLowerCase(), row.Name);
      link = page.nextLink ? splitLink(page.nextLink, target.serviceRoot) : undefined;
    }
  } catch (err) {
    if (!(err instanceof ServiceError)) throw err;
  }
  return names;
}

interface Sink {
  readonly target: ImportTarget;
  readonly set: EdmEntitySet;
  readonly counts: { rowsRead: number; inserted: number; updated: number; rejected: number };
  readonly options: ImportOptions;
}

async function reject(sink: Sink, row: RejectedRow): Promise<void> {
  sink.counts.rejected += 1;
  await sink.options.onRejected?.(row);
}

async function loadChunk(sink: Sink, rows: PendingRow[], mapping: RowMapping): Promise<void> {
  let pending = rows;
  if (mapping.upsert) pending = await findTargets(sink, pending, mapping.upsert);
  while (pending.length > 0) {
    const parts: BatchPart[] = pending.map((row, i) => ({
      id: String(i), method: row.target ? 'PATCH' : 'POST', url: row.target ?? sink.set.name,
      headers: { 'content-type': 'application/json', prefer: 'return=minimal' }, json: { value: row.body },
    }));
    const items: BatchItem[] = [{ kind: 'changeset', id: 'rows', parts }];
    const { target } = sink;
    const [answer] = await executeBatch(items, {
      services: target.services, handle: target.handle, serviceRoot: target.serviceRoot, inherited: {}, continueOnError: false, caller: target.caller,
    });
    if (answer?.kind === 'changeset') {
      for (const row of pending) row.target ? sink.counts.updated++ : sink.counts.inserted++;
      break;
    }
    const failed = answer ? Number(answer.response.id) : 0;
    const index = Number.isInteger(failed) && failed >= 0 && failed < pending.length ? failed : 0;
    await reject(sink, { line: pending[index].line, reason: answer ? reasonOf(answer.response.status, answer.response.body) : 'not answered' });
    pending = pending.filter((_, i) => i !== index);
  }
  sink.options.onProgress?.(sink.counts.rowsRead);
}

/** Looks up the rows' upsert-key values; a row whose value names one entity updates it. */
async function findTargets(sink: Sink, rows: PendingRow[], upsert: NonNullable<RowMapping['upsert']>): Promise<PendingRow[]> {
  const keep: PendingRow[] = [];
  const firstLine = new Map<string, number>();
  for (const row of rows) {
    const value = row.body[upsert.name];
    if (value === undefined || value === null) { await reject(sink, { line: row.line, reason: `no value for the upsert key ${upsert.name}` }); continue; }
    const text = String(value);
    const earlier = firstLine.get(text);
    if (earlier !== undefined) { await reject(sink, { line: row.line, reason: `${upsert.name} '${text}' repeats line ${earlier} in the same batch` }); continue; }
    firstLine.set(text, row.line);
    keep.push(row);
  }
  const type = sink.set.entityType;
  const found = new Map<string, string[]>();
  for (let i = 0; i < keep.length; i += UPSERT_LOOKUP_VALUES) {
    const values = keep.slice(i, i + UPSERT_LOOKUP_VALUES).map((r) => literalOf(upsert.property, r.body[upsert.name]));
    const filter = `${upsert.name} in (${values.join(',')})`;
    const select = [...new Set([...type.key, upsert.name])].join(',');
    const page = await getJson(sink.target, sink.set.name, `$filter=${encodeURIComponent(filter)}&$select=${select}`, 'odata.maxpagesize=5000');
    for (const entity of page.value) {
      const value = String(entity[upsert.name]);
      found.set(value, [...found.get(value) ?? [], keyPath(sink.set, entity)]);
    }
  }
  const out: PendingRow[] = [];
  for (const row of keep) {
    const matches = found.get(String(row.body[upsert.name])) ?? [];
    if (matches.length > 1) { await reject(sink, { line: row.line, reason: `${upsert.name} '${String(row.body[upsert.name])}' matches ${matches.length} entities` }); continue; }
    row.target = matches[0];
    out.push(row);
  }
  return out;
}
