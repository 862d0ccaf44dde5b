/**
 * Definition sets: entity sets whose writes are schema changes (FieldDefinitions; TableDefinitions
 * uses the same mechanism). Reads of them go through the normal read engine; a POST, PATCH, PUT or
 * DELETE comes here instead of the write engine. The set turns the request into a SchemaChange and
 * applies it through the model lifecycle, writing its definition row inside the change's own
 * transaction (`SchemaChangeHooks.inTransaction`): the DDL, the row and the model record commit
 * together or not at all, and the next model is served once they have.
 *
 * To add a definition set: implement `DefinitionSet` and list it in src/schema/registry.ts.
 */
import type { Knex } from 'knex';
import type { ServedModel, SchemaChangeHooks } from '../db/model-lifecycle';
import { ModelMigrationError } from '../db/model-migrator';
import type { EdmModel } from '../edm/model';
import { SchemaChangeError, type SchemaChange } from '../edm/schema-change';
import { ODataError } from '../errors/odata-error';
import { isJsonObject, type JsonObject } from '../json';
import type { RequestUser } from '../plan/request-context';
import type { KeyPredicate, UriRequest } from '../uri/ast';
import type { RequestBody } from '../write/write-plan';

/** What applies schema changes: the model lifecycle (src/db/model-lifecycle.ts). */
export interface SchemaChanger {
  applySchemaChange(change: SchemaChange, hooks?: SchemaChangeHooks): Promise<ServedModel>;
}

export type DefinitionMethod = 'POST' | 'PATCH' | 'PUT' | 'DELETE';

/** One write to a definition set, resolved from the request. */
export interface DefinitionWrite {
  readonly method: DefinitionMethod;
  /** the canonical key (PATCH, PUT, DELETE) */
  readonly key?: string;
  /** the JSON body (POST, PATCH, PUT) */
  readonly body?: JsonObject;
  readonly user: RequestUser;
  /** the model the request started on */
  readonly model: EdmModel;
  readonly knex: Knex;
  readonly schema: SchemaChanger;
}

export type DefinitionOutcome =
  | { readonly kind: 'created'; readonly key: string }
  | { readonly kind: 'updated'; readonly key: string }
  | { readonly kind: 'deleted' };

export interface DefinitionSet {
  readonly setName: string;
  write(write: DefinitionWrite): Promise<DefinitionOutcome>;
}

/** The resolved write when `uri` addresses a definition set or one of its entities directly; otherwise undefined. */
export function definitionTarget(sets: ReadonlyMap<string, DefinitionSet>, uri: UriRequest): { readonly set: DefinitionSet; readonly key?: string } | undefined {
  if (uri.segments.length !== 1) return undefined;
  const segment = uri.segments[0];
  if (segment.kind !== 'name') return undefined;
  const set = sets.get(segment.name);
  if (!set) return undefined;
  return { set, key: segment.key === undefined ? undefined : canonicalKey(segment.key) };
}

function canonicalKey(key: KeyPredicate): string {
  const literal = key.kind === 'single' ? key.value : key.pairs.length === 1 ? key.pairs[0].value : undefined;
  if (!literal || literal.type !== 'Edm.Guid') throw new ODataError('INVALID_KEY', 'Address the definition by its Id or by its alternate key');
  return literal.value.toLowerCase();
}

export function requireAdministrator(user: RequestUser, setName: string): void {
  if (user.role !== 'Administrator') throw new ODataError('FORBIDDEN', `Only Administrators write ${setName} (a write changes the model)`, { target: setName });
}

/** The JSON object body of a POST, PATCH or PUT (400 otherwise). */
export function objectBody(body: RequestBody): JsonObject {
  if (body.kind !== 'json' || !isJsonObject(body.value)) throw new ODataError('INVALID_PAYLOAD', 'Send the definition as a JSON object');
  return body.value;
}

/** Applies a change; the lifecycle's refusals become OData errors (400: does not fit the model; 409: its DDL would lose data). */
export async function applyChange(schema: SchemaChanger, change: SchemaChange, hooks: SchemaChangeHooks): Promise<ServedModel> {
  try {
    return await schema.applySchemaChange(change, hooks);
  } catch (err) {
    if (err instanceof SchemaChangeError) throw new ODataError('VALIDATION_FAILED', err.message, { target: err.target });
    if (err instanceof ModelMigrationError) throw new ODataError('CONFLICT', err.problems.join('; '));
    throw err;
  }
}
