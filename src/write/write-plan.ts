/**
 * The typed plan of a write: which entity (or collection, or link) a request changes and with what,
 * resolved against the model and validated before any statement runs.
 */
import type { EdmNavigation } from '../edm/model';
import type { ErrorDetail } from '../errors/odata-error';
import type { EntityPosition } from '../plan/resolve-path';
import type { RequestContext } from '../plan/request-context';
import type { QueryOptions } from '../uri/ast';
import type { KeyValue } from './entity-reference';
import type { ColumnValue, EntityInput, EntityRefInput } from './entity-input';
import type { OwnUserGrant } from '../auth/write-rules';

/** A request body as the HTTP layer read it. */
export type RequestBody =
  | { readonly kind: 'none' }
  | { readonly kind: 'json'; readonly value: unknown }
  | { readonly kind: 'text'; readonly text: string };

export interface Preconditions {
  /** `If-Match`: the entity must exist and carry one of these ETags (or any, for `*`) */
  readonly ifMatch?: string;
  /** `If-None-Match`: `*` means create only; an ETag means the entity must have changed */
  readonly ifNoneMatch?: string;
}

export interface WriteCommon {
  readonly context: RequestContext;
  readonly preconditions: Preconditions;
  /** `Prefer: return=minimal|representation`, when sent */
  readonly returnPreference?: 'minimal' | 'representation';
  /** `$select`/`$expand` shaping an entity returned by the write */
  readonly options: QueryOptions;
}

export type WritePlan = WriteCommon & (
  /** POST to an entity set or a collection navigation (which also links the new entity) */
  | { readonly kind: 'create'; readonly target: EntityPosition; readonly input: EntityInput }
  /**
   * PATCH (merge) or PUT (replace) an entity. Addressed by a key that does not exist, it is created
   * from `upsert` (the body read as a create), whose problems count only then.
   */
  | {
      readonly kind: 'update'; readonly target: EntityPosition; readonly input: EntityInput; readonly mode: 'merge' | 'replace';
      readonly upsert: { readonly input: EntityInput; readonly errors: readonly ErrorDetail[] };
      /** PATCH /Me: the caller changes these columns of their own user, which their role alone could not */
      readonly grant?: OwnUserGrant;
    }
  /** PUT/PATCH/DELETE of one property (or its /$value): an update of those columns only */
  | { readonly kind: 'property'; readonly target: EntityPosition; readonly changes: ReadonlyMap<string, ColumnValue> }
  | { readonly kind: 'delete'; readonly target: EntityPosition }
  /** POST …/Nav/$ref (collection) or PUT …/Nav/$ref (single-valued) */
  | { readonly kind: 'link'; readonly parent: EntityPosition; readonly navigation: EdmNavigation; readonly ref: EntityRefInput }
  /** DELETE …/Nav/$ref, …/Nav(key)/$ref or …/Nav/$ref?$id=… */
  | { readonly kind: 'unlink'; readonly parent: EntityPosition; readonly navigation: EdmNavigation; readonly key?: KeyValue }
);
