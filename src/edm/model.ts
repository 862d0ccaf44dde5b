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
  /**
   * The column, when it is not the property's name (storage mapping `entityTypes.<Type>.columns`:
   * custom fields' `cf_<Name>`, src/edm/custom-columns.ts). Top-level primitive, enum and collection
   * properties of entity types only; read it through src/edm/storage.ts `columnOf`/`propertyColumn`.
   */
  readonly column?: string;
}

export type OnDeleteAction = 'Cascade' | 'None' | 'SetNull' | 'SetDefault';

export interface EdmNavigation {
  readonly name: string;
  readonly targetTypeName: string;
  readonly collection: boolean;
  readonly nullable: boolean;
  readonly partner?: string;
  /**
   * For a single-valued navigation backed by a foreign key on this type: the dependent properties, one
   * per key part of the target, in the order of the target's key (edm/load-csdl.ts orders them).
   */
  readonly foreignKeys?: readonly string[];
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
  /** Server-maintained values of this type's properties (storage mapping; src/edm/storage-mapping.ts). */
  readonly derived?: readonly DerivedValueRule[];
  /** The sums over children of this type that parents carry (derived from the parents' `sum-of-children` rules). */
  readonly feedsSums?: readonly EdmSumRule[];
}

/**
 * How the server computes a property it maintains (Core.Computed), from the storage mapping
 * (metadata/crm.storage.json). The kinds are the computations the service knows; which property
 * gets which, from which inputs, is data.
 */
export type DerivedValueRule =
  /** the non-blank inputs joined by the separator (null when all are blank): Contact.FullName */
  | { readonly kind: 'join-text'; readonly property: string; readonly inputs: readonly string[]; readonly separator: string }
  /** quantity × price × (1 − discountPercent/100), exact, rounded half away from zero to `scale`: OpportunityProduct.Total */
  | { readonly kind: 'line-total'; readonly property: string; readonly quantity: string; readonly price: string; readonly discountPercent: string; readonly scale: number }
  /** the sum of `childProperty` over the rows of `childType` whose `foreignKey` names this row: Opportunity.Amount */
  | { readonly kind: 'sum-of-children'; readonly property: string; readonly childType: string; readonly foreignKey: string; readonly childProperty: string };

/** A `sum-of-children` rule seen from the child type. */
export interface EdmSumRule {
  readonly parentType: string;
  readonly column: string;
  readonly childType: string;
  /** the child's foreign key to the parent */
  readonly foreignKey: string;
  readonly childColumn: string;
}

export interface EdmEntitySet {
  readonly name: string;
  readonly entityType: EdmEntityType;
  /** navigation name → target entity set name */
  readonly navigationBindings: ReadonlyMap<string, string>;
  /** Core.OptimisticConcurrency: the properties whose values make up the ETag (empty: no ETag) */
  readonly concurrency: readonly string[];
  /** The table that holds the set (storage mapping; absent: the set's name). */
  readonly table?: string;
  /** Indexes beyond the foreign-key ones (storage mapping): each a list of column names. */
  readonly indexes?: readonly (readonly string[])[];
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
  /** The storage mapping the model was loaded with (never in $metadata; src/edm/storage-mapping.ts). */
  readonly storageMapping?: Readonly<Record<string, unknown>>;
  /** Link tables not named by convention (storage mapping `linkTables`): conventional name → table. */
  readonly linkTableNames?: ReadonlyMap<string, string>;
}

export function typeRefName(ref: EdmTypeRef): string {
  switch (ref.kind) {
    case 'primitive': return ref.name;
    case 'enum': return ref.type.qualifiedName;
    case 'complex': return ref.type.qualifiedName;
  }
}
