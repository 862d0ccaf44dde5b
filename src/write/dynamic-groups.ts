/**
 * Keeps dynamic groups' matches up to date in the transaction of the write that changes them, so a
 * group's contacts (static links ∪ criteria matches, see DYNAMIC_MEMBERSHIP) are always current and
 * `Groups/any(…)` reads an indexed table instead of evaluating every criteria per request:
 * - contacts inserted or updated are re-evaluated against every dynamic group's criteria;
 * - a group whose Criteria is written is recomputed (an invalid criteria fails the write);
 * - a write to a table a criteria reads through navigation recomputes the groups that read it.
 * Deleted contacts and groups lose their matches through the foreign keys' ON DELETE CASCADE.
 */
import type { EdmEntitySet, EdmModel, PrimitiveTypeName } from '../edm/model';
import { DYNAMIC_MEMBERSHIP, dynamicMembershipSets, tableOf } from '../edm/storage';
import { ODataError, type ErrorDetail } from '../errors/odata-error';
import { invalidCriteriaError, planCriteria, CRITERIA_SCOPE, type CriteriaOutcome } from '../plan/criteria';
import { keyTypeOf } from '../plan/resolve-path';
import {
  compileDeleteContactMatches, compileDeleteGroupMatches, compileDynamicGroups, compileInsertMatches, type MembershipTarget,
} from '../sql/compile-membership';
import { raw, id, type Fragment } from '../sql/fragment';
import { run, runWrite, type Executor, type Row } from '../sql/execute';
import type { KeyValue } from './entity-reference';
import type { WriteSession } from './session';
import { memoizedByObject } from '../memo';

/** Statements in bound lists stay well under SQLite's limit on bound parameters. */
const KEYS_PER_STATEMENT = 500;

interface Statements {
  readonly ex: Executor;
  read(f: Fragment): Promise<Row[]>;
  write(f: Fragment): Promise<number>;
}

interface DynamicGroup {
  readonly key: string | number;
  readonly name: string;
  readonly outcome: CriteriaOutcome;
}

interface Membership {
  readonly model: EdmModel;
  readonly groups: EdmEntitySet;
  readonly contacts: EdmEntitySet;
  readonly groupKeyType: PrimitiveTypeName;
  readonly target: MembershipTarget;
}

/** per model (version): computed once, not per write */
const membershipOf = memoizedByObject(membershipOfModel);

function membershipOfModel(model: EdmModel): Membership | undefined {
  const sets = dynamicMembershipSets(model);
  if (!sets) return undefined;
  const target: MembershipTarget = {
    contactsTable: tableOf(sets.contacts), contactKey: sets.contacts.entityType.key[0], keyType: keyTypeOf(sets.contacts), scope: CRITERIA_SCOPE,
  };
  return { model, groups: sets.groups, contacts: sets.contacts, groupKeyType: keyTypeOf(sets.groups), target };
}

/**
 * The dynamic groups as this transaction sees them, read once per transaction: a change set of 1 000
 * inserts would otherwise read and plan every group's criteria 1 000 times. A session that wrote the
 * groups' table reads them again (and keeps that for the rest of the transaction).
 */
const groupsOfTransaction = new WeakMap<object, DynamicGroup[]>();

async function dynamicGroups(m: Membership, st: Statements, groupsWritten: boolean): Promise<DynamicGroup[]> {
  const transaction = st.ex.knex.isTransaction ? st.ex.knex : undefined;
  const known = transaction && !groupsWritten ? groupsOfTransaction.get(transaction) : undefined;
  if (known) return known;
  const hasName = m.groups.entityType.properties.some((p) => p.name === 'Name');
  const rows = await st.read(compileDynamicGroups(tableOf(m.groups), m.groups.entityType.key[0], DYNAMIC_MEMBERSHIP.criteria, hasName ? 'Name' : undefined));
  const out: DynamicGroup[] = [];
  for (const row of rows) {
    const text = typeof row.criteria === 'string' ? row.criteria : '';
    if (text.trim() === '') continue;
    const key = row.key as string | number;
    out.push({ key, name: String(row.name ?? key), outcome: planCriteria(m.model, m.contacts, text) });
  }
  if (transaction) groupsOfTransaction.set(transaction, out);
  return out;
}

/** every table some group's criteria reads (per list of groups, so per transaction) */
const tablesReadBy = memoizedByObject((groups: readonly DynamicGroup[]): ReadonlySet<string> => {
  const tables = new Set<string>();
  for (const g of groups) if ('ok' in g.outcome) for (const t of g.outcome.ok.reads) tables.add(t);
  return tables;
});

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += KEYS_PER_STATEMENT) out.push(items.slice(i, i + KEYS_PER_STATEMENT));
  return out;
}

async function recomputeGroup(m: Membership, st: Statements, key: string | number, outcome: CriteriaOutcome | undefined): Promise<void> {
  await st.write(compileDeleteGroupMatches(st.ex.dialect, key, m.groupKeyType));
  if (outcome && 'ok' in outcome) await st.write(compileInsertMatches(m.target, st.ex.dialect, key, m.groupKeyType, outcome.ok.predicate));
}

/** A group whose stored criteria no longer plans (the model changed under it) cannot follow a write. */
function staleCriteria(m: Membership, group: DynamicGroup, problem: ErrorDetail): ODataError {
  const target = `${m.groups.name}(${String(group.key)})/${DYNAMIC_MEMBERSHIP.criteria}`;
  return new ODataError('CONFLICT',
    `Group '${group.name}' (${m.groups.name}(${String(group.key)})) has a Criteria that no longer fits the model, so its members cannot follow this change: ${problem.message}. Correct or clear its Criteria.`,
    { target, details: [{ code: 'INVALID_CRITERIA', target, message: problem.message }] });
}

function sessionStatements(s: WriteSession): Statements {
  return {
    ex: s.ex,
    read: (f) => s.read(f),
    write: (f) => s.write(f, { table: DYNAMIC_MEMBERSHIP.matchTable, statement: 'insert' }),
  };
}

/**
 * Brings the matches of dynamic groups up to date with what this session wrote. Not an async function:
 * the common write in a change set (a Note, once the transaction has read the groups) touches nothing a
 * group depends on, and is done without a promise.
 */
export function flushDynamicGroups(s: WriteSession): Promise<void> | undefined {
  const m = membershipOf(s.model);
  if (!m || touchesNoGroup(m, s)) return undefined;
  return flushFor(m, s);
}

/** Nothing to do, known without reading: no contact or group written, and the transaction's groups (read before) read none of the tables written. */
function touchesNoGroup(m: Membership, s: WriteSession): boolean {
  if (s.written.has(m.groups) || s.written.has(m.contacts) || s.writtenTables.has(tableOf(m.groups))) return false;
  const transaction = s.ex.knex.isTransaction ? s.ex.knex : undefined;
  const groups = transaction && groupsOfTransaction.get(transaction);
  if (!groups) return false;
  const read = tablesReadBy(groups);
  for (const table of s.writtenTables) if (table !== DYNAMIC_MEMBERSHIP.matchTable && read.has(table)) return false;
  return true;
}

async function flushFor(m: Membership, s: WriteSession): Promise<void> {
  const writtenGroups = s.written.get(m.groups);
  const criteriaWritten = writtenGroups === undefined ? [] : [...writtenGroups].filter(([, cols]) => cols === 'inserted' || cols.has(DYNAMIC_MEMBERSHIP.criteria)).map(([k]) => k);
  const writtenContacts = s.written.get(m.contacts);
  const otherTables = [...s.writtenTables].filter((t) => t !== DYNAMIC_MEMBERSHIP.matchTable);
  if (criteriaWritten.length === 0 && !writtenContacts && otherTables.length === 0) return;

  const st = sessionStatements(s);
  const groupsWritten = s.writtenTables.has(tableOf(m.groups));
  const groups = await dynamicGroups(m, st, groupsWritten);
  // the common write in a change set (a Note): no criteria reads its table, nothing to bring up to date
  if (criteriaWritten.length === 0 && !writtenContacts && !otherTables.some((t) => tablesReadBy(groups).has(t))) return;
  const recomputed = new Set<KeyValue>(criteriaWritten);
  for (const group of groups) {
    if (recomputed.has(group.key) && 'problem' in group.outcome) throw invalidCriteriaError(group.outcome.problem);
    if ('ok' in group.outcome && otherTables.some((t) => 'ok' in group.outcome && group.outcome.ok.reads.has(t))) recomputed.add(group.key);
  }

  if (writtenContacts) {
    const keys = [...writtenContacts.keys()].filter((k): k is string | number => typeof k === 'string' || typeof k === 'number');
    const onlyInserted = [...writtenContacts.values()].every((cols) => cols === 'inserted');
    const evaluated = groups.filter((g) => !recomputed.has(g.key));
    for (const group of evaluated) if ('problem' in group.outcome) throw staleCriteria(m, group, group.outcome.problem);
    for (const part of chunks(keys)) {
      if (!onlyInserted) await st.write(compileDeleteContactMatches(s.ex.dialect, part, m.target.keyType));
      for (const group of evaluated) {
        if ('ok' in group.outcome) await st.write(compileInsertMatches(m.target, s.ex.dialect, group.key, m.groupKeyType, group.outcome.ok.predicate, part));
      }
    }
  }

  const byKey = new Map(groups.map((g) => [g.key, g]));
  for (const key of recomputed) {
    if (typeof key !== 'string' && typeof key !== 'number') continue;
    const group = byKey.get(key);
    if (group && 'problem' in group.outcome) throw staleCriteria(m, group, group.outcome.problem);
    await recomputeGroup(m, st, key, group?.outcome);
  }
}

export interface RecomputeReport {
  readonly groups: number;
  /** groups whose criteria does not plan against the model: their matches are left empty */
  readonly problems: readonly { readonly group: string | number; readonly name: string; readonly problem: ErrorDetail }[];
}

/** Recomputes every dynamic group's matches from scratch (after seeding, and when migrating existing data). */
export async function recomputeAllDynamicGroups(ex: Executor, model: EdmModel): Promise<RecomputeReport> {
  const m = membershipOf(model);
  if (!m) return { groups: 0, problems: [] };
  const st: Statements = { ex, read: (f) => run(ex, f), write: (f) => runWrite(ex, f) };
  await st.write(raw(`DELETE FROM ${id(DYNAMIC_MEMBERSHIP.matchTable).sql}`));
  const groups = await dynamicGroups(m, st, true);
  const problems: RecomputeReport['problems'][number][] = [];
  for (const group of groups) {
    if ('problem' in group.outcome) problems.push({ group: group.key, name: group.name, problem: group.outcome.problem });
    else await st.write(compileInsertMatches(m.target, ex.dialect, group.key, m.groupKeyType, group.outcome.ok.predicate));
  }
  return { groups: groups.length, problems };
}
