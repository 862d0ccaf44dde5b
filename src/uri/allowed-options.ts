/**
 * Which system query options are legal on which kind of resource: one table (OData URL Conventions §5).
 */
export type ResourceKind = 'collection' | 'entity' | 'count' | 'property' | 'property-value' | 'references' | 'reference' | 'metadata' | 'service-document'
  /** a write that returns no entity (DELETE, property and link writes); `unlink` also takes `$id` */
  | 'write' | 'unlink';

const ALL_READ = ['filter', 'select', 'expand', 'orderby', 'top', 'skip', 'count', 'search', 'skiptoken', 'format', 'apply', 'compute'];

export const ALLOWED_OPTIONS: Readonly<Record<ResourceKind, readonly string[]>> = {
  'collection': ALL_READ,
  'entity': ['select', 'expand', 'format', 'compute'],
  'count': ['filter', 'search'],
  'property': ['format', 'select'],
  'property-value': ['format'],
  'references': ['filter', 'search', 'orderby', 'top', 'skip', 'count', 'skiptoken', 'format', 'id'],
  'reference': ['format', 'id'],
  'metadata': ['format'],
  'service-document': ['format'],
  'write': ['format'],
  'unlink': ['format', 'id'],
};
