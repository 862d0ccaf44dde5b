/** What an operation handler receives and returns. Handlers are typed functions registered by qualified name. */
import type { EdmEntitySet } from '../edm/model';
import type { KeyValue } from '../write/entity-reference';
import type { WriteSession } from '../write/session';
import type { OperationPlan } from './operation-plan';

export interface OperationCall {
  readonly plan: OperationPlan;
  /** the transaction the operation runs in (read-only use for functions) */
  readonly session: WriteSession;
}

export type OperationResult =
  | { readonly kind: 'none' }
  | { readonly kind: 'entity'; readonly set: EdmEntitySet; readonly key: KeyValue }
  | { readonly kind: 'entities'; readonly set: EdmEntitySet; readonly keys: readonly KeyValue[] }
  /** a primitive, enumeration or complex value (a JSON-ready object for complex), or a collection of them */
  | { readonly kind: 'value'; readonly value: unknown };

export type OperationHandler = (call: OperationCall) => Promise<OperationResult>;
