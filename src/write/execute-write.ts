/**
 * Runs a WritePlan in one transaction: find (and lock) what it addresses, check preconditions,
 * apply the change, bring derived sums up to date, and read back what the response needs. Any
 * failure rolls the whole transaction back.
 */
import type { Knex } from 'knex';
import type { EdmModel } from '../edm/model';
import { tableOf } from '../edm/storage';
import { ODataError } from '../errors/odata-error';
import { entityReadPlan, wholeEntityPlan, type ReadOnlyPlan } from '../plan/plan-request';
import { entityPosition, type EntityPosition } from '../plan/resolve-path';
import { keyOfRow } from '../plan/keys';
import type { RequestContext } from '../plan/request-context';
import { etagMatches, etagOf } from '../serialize/etag';
import type { Dialect } from '../sql/dialect/dialect';
import { executeRead, type ReadResult, type RowNode } from '../sql/execute';
import type { QueryOptions } from '../uri/ast';
import {
  addLink, checkReferences, hasReferences, rowObject, deleteEntity, insertEntity, keyColumnValues, loadRow, removeLink, rowKey, splitBinds, updateEntity, type CurrentRow, type EntityAddress,
} from './entity-store';
import type { ColumnValue } from './entity-input';
import { failOnDetails } from './plan-write';
import { WriteSession, type WriteHooks } from './session';
import { applyDeepUpdate } from './deep-update';
import { checkRowWrite } from '../auth/write-rules';
import { recordAccess } from '../auth/access';
import { flushSums } from './sums';
import { flushDynamicGroups } from './dynamic-groups';
import type { Preconditions, WritePlan } from './write-plan';

export interface WriteServices {
  readonly knex: Knex | Knex.Transaction;
  readonly dialect: Dialect;
  readonly hooks: WriteHooks;
}

export type WriteOutcome =
  /** an entity was created or updated; `read` holds it when the response returns it */
  | {
    readonly kind: 'entity'; readonly created: boolean; readonly address: EntityAddress; readonly etag?: string; readonly read?: { plan: ReadOnlyPlan; result: ReadResult };
    /** a created personal access token in clear: shown in this response only */
    readonly issuedToken?: string;
  }
  /** done, nothing to return (204); `etag` is the changed entity's new ETag */
  | { readonly kind: 'done'; readonly etag?: string };

export function executeWrite(model: EdmModel, plan: WritePlan, svc: WriteServices): Promise<WriteOutcome> {
  const actor = { user: plan.context.user, minPasswordLength: plan.context.limits.minPasswordLength };
  return inTransaction(svc.knex, (trx) => withinTransaction(new WriteSession({ knex: trx, dialect: svc.dialect, access: recordAccess(model, actor.user) }, model, svc.hooks, actor), plan));
}

/**
 * Runs `work` in a transaction. Inside one already (a change set), the write joins it: the change
 * set fails and rolls back as a whole, so a savepoint per request would buy nothing.
 */
export function inTransaction<T>(knex: Knex | Knex.Transaction, work: (trx: Knex | Knex.Transaction) => Promise<T>): Promise<T> {
  return knex.isTransaction ? work(knex) : knex.transaction(work);
}

/** Runs a write inside a session a caller already holds (actions, and later $batch change sets). */
export async function withinTransaction(s: WriteSession, plan: WritePlan): Promise<WriteOutcome> {
  const step = await apply(s, plan);
  if (s.pendingSums.size > 0) await flushSums(s);
  const groups = flushDynamicGroups(s);
  if (groups !== undefined) await groups;
  if (step.kind === 'done') return step;
  const writtenKey = rowKey(step.address.set, step.address.key);
  const writtenRow = s.rows.get(writtenKey);
  const written = writtenRow ? rowObject(writtenRow) : undefined;
  const etag = written ? etagOf(step.address.set, written, s.ex.dialect) : (await loadRow(s, step.address.set, step.address.key, false))?.etag;
  const issuedToken = s.issuedTokens.size === 0 ? undefined : s.issuedTokens.get(writtenKey);
  // a new token is answered whatever the preference: it cannot be read later
  const wantsBody = step.created ? plan.returnPreference !== 'minimal' || issuedToken !== undefined : plan.returnPreference === 'representation';
  // PATCH /Me answers as the singleton (context $metadata#Me), not as an entity of Users
  const singleton = plan.kind === 'update' ? plan.target.singleton : undefined;
  const read = !wantsBody ? undefined
    : written && plan.options.select === undefined && plan.options.expand === undefined ? writtenEntity(s, plan.context, step.address, written, singleton)
    : await readBack(s, plan.context, step.address, plan.options, written, singleton);
  return { kind: 'entity', created: step.created, address: step.address, etag, read, issuedToken };
}

type Step = { kind: 'entity'; created: boolean; address: EntityAddress } | { kind: 'done'; etag?: string };

async function apply(s: WriteSession, plan: WritePlan): Promise<Step> {
  switch (plan.kind) {
    case 'create': {
      const via = plan.target.via;
      const parent = via ? await locateOrFail(s, plan.context, via.parent) : undefined;
      if (hasReferences(s.model, plan.input)) await checkReferences(s, [plan.input]);
      const supplied: ColumnValue[] = [];
      if (via && parent && via.storage.kind === 'reverse-foreign-key') {
        supplied.push(...keyColumnValues(parent.set, via.storage.targetColumns, parent.key));
      }
      const key = await insertEntity(s, plan.input, supplied);
      if (via && parent && via.storage.kind === 'link-table') await addLink(s, parent, via.navigation, key);
      return { kind: 'entity', created: true, address: { set: plan.input.set, key } };
    }
    case 'update': {
      const current = await locate(s, plan.context, plan.target);
      checkPreconditions(current, plan.preconditions);
      if (!current) {
        if (plan.target.source || plan.target.key === undefined) throw notFound(plan.target);
        // no upsert for a caller who sees only part of the set: 404 whether or not a hidden record holds
        // the key, so the answer does not tell them (POST with a chosen key: checkClientKey)
        if (s.ex.access.has(tableOf(plan.target.set))) throw notFound(plan.target);
        failOnDetails(plan.upsert.errors);
        await checkReferences(s, [plan.upsert.input]);
        const key = await insertEntity(s, Object.assign({}, plan.upsert.input, { key: plan.target.key }));
        return { kind: 'entity', created: true, address: { set: plan.target.set, key } };
      }
      await checkReferences(s, [plan.input]);
      const binds = splitBinds(s, plan.input);
      const updated = await updateEntity(s, current, new Map([...plan.input.values, ...binds.foreignKeys]), plan.grant);
      for (const link of binds.links) await addLink(s, current, link.navigation, link.key);
      for (const nested of plan.input.nested) await applyDeepUpdate(s, updated, nested);
      return { kind: 'entity', created: false, address: current };
    }
    case 'property': {
      const current = await locateOrFail(s, plan.context, plan.target);
      checkPreconditions(current, plan.preconditions);
      const updated = await updateEntity(s, current, plan.changes);
      return { kind: 'done', etag: updated.etag };
    }
    case 'delete': {
      const current = await locateOrFail(s, plan.context, plan.target);
      checkPreconditions(current, plan.preconditions);
      await deleteEntity(s, current);
      return { kind: 'done' };
    }
    case 'link': {
      const parent = await locateOrFail(s, plan.context, plan.parent);
      checkPreconditions(parent, plan.preconditions);
      checkRowWrite(s.actor.user, parent.set, 'update', parent.values, undefined);
      await checkReferences(s, [{ set: parent.set, values: new Map(), binds: [{ navigation: plan.navigation, refs: [plan.ref] }], nested: [] }]);
      await addLink(s, parent, plan.navigation, plan.ref.key);
      return { kind: 'done' };
    }
    case 'unlink': {
      const parent = await locateOrFail(s, plan.context, plan.parent);
      checkPreconditions(parent, plan.preconditions);
      checkRowWrite(s.actor.user, parent.set, 'update', parent.values, undefined);
      await removeLink(s, parent, plan.navigation, plan.key);
      return { kind: 'done' };
    }
  }
}

/** The single entity at a position, loaded and locked; found through the read pipeline when the path navigates. */
export async function locate(s: WriteSession, context: RequestContext, pos: EntityPosition): Promise<CurrentRow | undefined> {
  if (pos.key !== undefined && !pos.source) return loadRow(s, pos.set, pos.key);
  const plan = entityReadPlan(s.model, context, pos);
  const result = await executeRead(s.ex, plan.read, false);
  const row = result.nodes[0]?.row;
  if (!row) return undefined;
  return loadRow(s, pos.set, keyOfRow(pos.set.entityType, row));
}

export async function locateOrFail(s: WriteSession, context: RequestContext, pos: EntityPosition): Promise<CurrentRow> {
  const row = await locate(s, context, pos);
  if (!row) throw notFound(pos);
  return row;
}

function notFound(pos: EntityPosition): ODataError {
  return new ODataError('NOT_FOUND', `No entity exists at ${pos.canonical}`);
}

export function checkPreconditions(current: CurrentRow | undefined, pre: Preconditions): void {
  if (pre.ifMatch !== undefined) {
    if (!current) throw new ODataError('PRECONDITION_FAILED', 'If-Match was given but the entity does not exist', { target: 'If-Match' });
    if (!etagMatches(pre.ifMatch, current.etag)) {
      throw new ODataError('PRECONDITION_FAILED', `The entity has changed since it was read (current ETag ${current.etag ?? 'none'})`, { target: 'If-Match' });
    }
  }
  if (pre.ifNoneMatch !== undefined && current && etagMatches(pre.ifNoneMatch, current.etag)) {
    const message = pre.ifNoneMatch.trim() === '*' ? 'The entity exists already (If-None-Match: *)' : 'The entity still has this ETag (If-None-Match)';
    throw new ODataError('PRECONDITION_FAILED', message, { target: 'If-None-Match' });
  }
}

/**
 * The entity as the response shows it. Without `$expand`, the row the session wrote is the row the
 * database holds (values are stored as converted), so it is served without reading it back.
 */
async function readBack(
  s: WriteSession, context: RequestContext, address: EntityAddress, options: QueryOptions, written: Record<string, unknown> | undefined, singleton: string | undefined,
): Promise<{ plan: ReadOnlyPlan; result: ReadResult }> {
  const plan = entityReadPlan(s.model, context, { ...entityPosition(address.set, address.key), singleton }, { select: options.select, expand: options.expand });
  if (written && plan.read.expand.length === 0) return { plan, result: writtenResult(written) };
  return { plan, result: await executeRead(s.ex, plan.read, false) };
}

/** The whole entity as written (no $select, no $expand): its shape is the same for every entity of the set. */
function writtenEntity(
  s: WriteSession, context: RequestContext, address: EntityAddress, written: Record<string, unknown>, singleton: string | undefined,
): { plan: ReadOnlyPlan; result: ReadResult } {
  const plan = wholeEntityPlan(s.model, context, address.set);
  return { plan: singleton === undefined ? plan : { ...plan, contextUrl: `$metadata#${singleton}` }, result: writtenResult(written) };
}

function writtenResult(row: Record<string, unknown>): ReadResult {
  return { nodes: [{ row, children: NO_CHILDREN, counts: NO_COUNTS }] };
}

/** A written entity is answered without $expand: nothing is ever added to these. */
const NO_CHILDREN: RowNode['children'] = new Map();
const NO_COUNTS: RowNode['counts'] = new Map();
