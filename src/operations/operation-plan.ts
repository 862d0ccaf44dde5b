/**
 * A call of an action or function resolved against the model: which overload, what it is bound to,
 * and its arguments, each already converted and validated like an entity property.
 */
import type { EdmOperation } from '../edm/model';
import type { EntityPosition } from '../plan/resolve-path';
import type { RequestContext } from '../plan/request-context';
import type { QueryOptions } from '../uri/ast';
import type { EntityInput } from '../write/entity-input';
import type { StoredValue } from '../write/json-values';
import type { Preconditions } from '../write/write-plan';

export type OperationArgument =
  | { readonly kind: 'value'; readonly value: StoredValue }
  | { readonly kind: 'values'; readonly values: readonly StoredValue[] }
  | { readonly kind: 'entity'; readonly input: EntityInput }
  /** values of a complex type (members → values converted as properties are), one or a collection */
  | { readonly kind: 'records'; readonly records: readonly ReadonlyMap<string, StoredValue>[] };

export interface OperationPlan {
  readonly operation: EdmOperation;
  /** what a bound operation is bound to (an entity, or a collection of them) */
  readonly binding?: EntityPosition;
  readonly args: ReadonlyMap<string, OperationArgument>;
  readonly context: RequestContext;
  readonly options: QueryOptions;
  readonly preconditions: Preconditions;
}
