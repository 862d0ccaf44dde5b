/**
 * The EDM (entity data model) as an immutable value. Everything downstream (routing, planning,
 * SQL mapping, $metadata) reads this; nothing mutates it. A model carries a `version` so that
 * caches keyed by it stay correct when custom fields or tables replace the model at run time.
 */

export type PrimitiveTypeName =
  | 'Edm.String' | 'Edm.Guid' | 'Edm.Boolean' | 'Edm.Byte' | 'Edm.SByte' | 'Edm.Int16' | 'Edm.Int32' | 'Edm.Int64'
  | 'Edm.Decimal' | 'Edm.Double' | 'Edm.Single' | 'Edm.Date' | 'Edm.DateTimeOffset' | 'Edm.TimeOfDay'
  | 'Edm.Duration' | 'Edm.Binary';

export const PRIMITIVE_TYPES: readonly PrimitiveTypeName[] = [
  'Edm.String', 'Edm.Guid', 'Edm.Boolean', 'Edm.Byte', 'Edm.SByte', 'Edm.Int16', 'Edm.Int32', 'Edm.Int64',
  'Edm.Decimal', 'Edm.Double', 'Edm.Single', 'Edm.Date', 'Edm.DateTimeOffset', 'Edm.TimeOfDay', 'Edm.Duration', 'Edm.Binary',
];

export interface EdmEnumType {
  readonly kind: 'enum';
  readonly name: string;
  readonly qualifiedName: string;
  readonly members: ReadonlyMap<string, number>;
  readonly memberByValue: ReadonlyMap<number, string>;
}

export interface EdmComplexType {
  readonly kind: 'complex';
  readonly name: string;
  readonly qualifiedName: string;
  readonly properties: readonly EdmProperty[];
}

export type EdmTypeRef =
  | { readonly kind: 'primitive'; readonly name: PrimitiveTypeName }
  | { readonly kind: 'enum'; readonly type: EdmEnumType }
  | { readonly kind: 'complex'; readonly type: EdmComplexType };

export interface EdmProperty {
  readonly name: string;
  readonly type: EdmTypeRef;
  readonly collection: boolean;
  readonly nullable: boolean;
  readonly maxLength?: number;
  readonly precision?: number;
  readonly scale?: number;
  readonly defaultValue?: string | number | boolean;
  /** Core.Computed: maintained by the server, never taken from a client. */
  readonly computed: boolean;
  /**
   * Core.Permissions Write or None: never serialized, selected, filtered or sorted on. A writable one
   * (User.Password) is stored as a one-way hash (src/auth/passwords.ts).
   */
  readonly hidden?: true;
}

export type OnDeleteAction = 'Cascade' | 'None' | 'SetNull' | 'SetDefault';

export interface EdmNavigation {
  readonly name: string;
  readonly targetTypeName: string;
  readonly collection: boolean;
  readonly nullable: boolean;
  readonly partner?: string;
  /** For a single-valued navigation backed by a foreign key on this type: the dependent property. */
  readonly foreignKey?: string;
  readonly onDelete?: OnDeleteAction;
}

export interface EdmEntityType {
  readonly kind: 'entity';
  readonly name: string;
  readonly qualifiedName: string;
  readonly key: readonly string[];
  readonly properties: readonly EdmProperty[];
  readonly navigations: readonly EdmNavigation[];
  /** Raw CSDL annotations on the type, e.g. '@Org.OData.Core.V1.Description'. */
  readonly annotations: Readonly<Record<string, unknown>>;
}

export interface EdmEntitySet {
  readonly name: string;
  readonly entityType: EdmEntityType;
  /** navigation name → target entity set name */
  readonly navigationBindings: ReadonlyMap<string, string>;
  /** Core.OptimisticConcurrency: the properties whose values make up the ETag (empty: no ETag) */
  readonly concurrency: readonly string[];
}

/** The type of an operation parameter or return value: a structural type or an entity type. */
export type EdmValueType = EdmTypeRef | { readonly kind: 'entity'; readonly type: EdmEntityType };

export interface EdmParameter {
  readonly name: string;
  readonly type: EdmValueType;
  readonly collection: boolean;
  readonly nullable: boolean;
}

/** One overload of an action or function (CSDL §12). */
export interface EdmOperation {
  readonly kind: 'action' | 'function';
  readonly name: string;
  readonly qualifiedName: string;
  readonly bound: boolean;
  /** for a bound operation the first parameter is the binding parameter */
  readonly parameters: readonly EdmParameter[];
  readonly returnType?: { readonly type: EdmValueType; readonly collection: boolean; readonly nullable: boolean };
  /** the entity set of returned entities: the binding parameter's (the only path form used here) */
  readonly entitySetPath?: string;
}

/** An action or function import: an unbound operation addressable at the service root. */
export interface EdmOperationImport {
  readonly name: string;
  readonly kind: 'action' | 'function';
  readonly operation: string;
  readonly includeInServiceDocument: boolean;
}

/**
 * A singleton of the container. Its entity lives in the entity set of its type (the first declared
 * with it); which row it is depends on the request (`Me`: the caller's user).
 */
export interface EdmSingleton {
  readonly name: string;
  readonly entitySet: EdmEntitySet;
}

export interface EdmModel {
  /** Changes whenever the model is replaced; every cache keys on it. */
  readonly version: string;
  readonly namespace: string;
  readonly containerName: string;
  readonly entitySets: ReadonlyMap<string, EdmEntitySet>;
  readonly singletons: ReadonlyMap<string, EdmSingleton>;
  readonly entityTypes: ReadonlyMap<string, EdmEntityType>;
  readonly complexTypes: ReadonlyMap<string, EdmComplexType>;
  readonly enumTypes: ReadonlyMap<string, EdmEnumType>;
  /** qualified name → its overloads */
  readonly operations: ReadonlyMap<string, readonly EdmOperation[]>;
  readonly operationImports: ReadonlyMap<string, EdmOperationImport>;
  /** The CSDL JSON document the model was loaded from (the source of truth for $metadata). */
  readonly csdl: Readonly<Record<string, unknown>>;
}

export function typeRefName(ref: EdmTypeRef): string {
  switch (ref.kind) {
    case 'primitive': return ref.name;
    case 'enum': return ref.type.qualifiedName;
    case 'complex': return ref.type.qualifiedName;
  }
}
