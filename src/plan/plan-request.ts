/**
 * Resolves a parsed URL for a read against the model into a Plan: which resource (path), what shape
 * the answer has, which query options apply to it, and the @odata.context it carries.
 */
import { NotImplementedError, ODataError, PlanError } from '../errors/odata-error';
import type { EdmEntitySet, EdmModel, EdmProperty } from '../edm/model';
import type { QueryOptions, UriRequest } from '../uri/ast';
import { ALLOWED_OPTIONS, type ResourceKind } from '../uri/allowed-options';
import type { PathSource, Plan, PlanExpr, ResultShape } from './plan';
import { planRead } from './plan-read';
import type { RequestContext } from './request-context';
import { keyEquals, keysRestriction } from './key-predicates';
import type { KeyValue } from './keys';
import { resolvePath, type EntityPosition } from './resolve-path';

export type ReadOnlyPlan = Plan & { kind: 'read' };

/** Valid OData the service does not implement yet (`$apply`, `$compute`, …) answers 501, on every kind of request. */
export function checkSupportedOptions(uri: UriRequest): void {
  if (uri.unsupportedOptions.length) throw new NotImplementedError(uri.unsupportedOptions.join(', '), { target: uri.unsupportedOptions[0] });
}

export function planRequest(model: EdmModel, uri: UriRequest, context: RequestContext): Plan {
  checkSupportedOptions(uri);
  const segs = uri.segments;
  if (segs.length === 0) {
    checkOptions(uri.options, 'service-document');
    return { kind: 'service-document' };
  }
  const first = segs[0];
  if (first.kind === '$metadata') {
    if (segs.length > 1) throw new ODataError('NOT_FOUND', 'Nothing is addressable below $metadata');
    checkOptions(uri.options, 'metadata');
    return { kind: 'metadata', format: 'xml' };
  }
  if (first.kind === '$batch') throw new NotImplementedError('$batch');
  const { position: pos, tail } = resolvePath(model, segs, context.user);
  switch (tail.kind) {
    case 'count':
      checkOptions(uri.options, 'count');
      return readPlan(model, context, pos, uri.options, { kind: 'count' }, '');
    case 'ref':
      checkOptions(uri.options, pos.single ? 'reference' : 'references');
      return readPlan(model, context, pos, Object.assign({}, uri.options, { select: [], expand: undefined }), { kind: 'references', single: pos.single },
        pos.single ? '$metadata#$ref' : '$metadata#Collection($ref)');
    case 'property':
      return propertyPlan(model, context, pos, tail.path, tail.raw, uri.options);
    case 'operation':
      throw new NotImplementedError(`the operation or type cast '${tail.name}'`, { target: 'path' });
    case 'none':
      checkOptions(uri.options, pos.single ? 'entity' : 'collection');
      return readPlan(model, context, pos, uri.options, pos.single ? { kind: 'entity' } : { kind: 'collection' }, '');
  }
}

/** The plan that reads the entity (or entities) at a position, e.g. to return it after a write. */
export function entityReadPlan(model: EdmModel, context: RequestContext, pos: EntityPosition, options: QueryOptions = {}): ReadOnlyPlan {
  checkOptions(options, pos.single ? 'entity' : 'collection');
  return readPlan(model, context, pos, options, pos.single ? { kind: 'entity' } : { kind: 'collection' }, '');
}

/**
 * How a whole entity of `set` is shown (every structural property, no $expand), with no row
 * restriction: the shape of a just-written entity served from the row the transaction wrote.
 * Memoised per entity-set object, i.e. per model version; it depends on nothing in the request.
 */
export function wholeEntityPlan(model: EdmModel, context: RequestContext, set: EdmEntitySet): ReadOnlyPlan {
  let shape = wholeEntityShapes.get(set);
  if (shape === undefined) {
    const plan = readPlan(model, context, { set, single: true, canonical: set.name }, {}, { kind: 'entity' }, '');
    shape = { read: Object.assign({}, plan.read, { pageSize: undefined }), contextUrl: plan.contextUrl };
    wholeEntityShapes.set(set, shape);
  }
  return { kind: 'read', read: shape.read, shape: { kind: 'entity' }, context, contextUrl: shape.contextUrl };
}

const wholeEntityShapes = new WeakMap<EdmEntitySet, { readonly read: ReadOnlyPlan['read']; readonly contextUrl: string }>();

/**
 * The entities of a set with the given keys, unpaged (the answer of an action that returns the
 * entities it changed), shaped by `$select`/`$expand`.
 */
export function entitiesByKeyPlan(
  model: EdmModel, context: RequestContext, set: EdmEntitySet, keys: readonly KeyValue[], options: QueryOptions = {},
  within: EntityPosition = { set, single: false, canonical: set.name },
): ReadOnlyPlan {
  const restriction = keysRestriction(set, 0, keys);
  const plan = readPlan(model, context, within, options, { kind: 'collection' }, '', [restriction]);
  return Object.assign({}, plan, { read: Object.assign({}, plan.read, { pageSize: undefined }) });
}

export function checkOptions(options: QueryOptions, kind: ResourceKind): void {
  const allowed = ALLOWED_OPTIONS[kind];
  for (const [name, value] of Object.entries(options)) {
    if (value === undefined) continue;
    if (!allowed.includes(name)) {
      throw new PlanError('QUERY_OPTION_NOT_ALLOWED', `$${name} is not allowed on a ${kind.replace('-', ' ')} resource`, { target: `$${name}` });
    }
  }
}

function readPlan(model: EdmModel, context: RequestContext, pos: EntityPosition, options: QueryOptions, shape: ResultShape, contextUrl: string, extra: readonly PlanExpr[] = []): ReadOnlyPlan {
  let scopeCounter = 0;
  const nextScope = () => scopeCounter++;
  const scope = nextScope();
  const where: PlanExpr[] = [...extra];
  if (pos.source) where.push(...pathRestriction(pos, pos.source, scope));
  else if (pos.key !== undefined) where.push(...keyEquals(pos.set, scope, pos.key));
  const read = planRead({ model, request: context, nextScope }, pos.set, options, { where, scope, nested: false, depth: 0 });
  let url = contextUrl;
  if (shape.kind === 'collection' || shape.kind === 'entity') {
    const select = read.contextSelect.length ? `(${read.contextSelect.join(',')})` : '';
    // a singleton's context URL is its name (JSON Format §10.4), below it the entity set's
    url = pos.singleton !== undefined && shape.kind === 'entity' ? `$metadata#${pos.singleton}${select}` : `$metadata#${pos.set.name}${select}${shape.kind === 'entity' ? '/$entity' : ''}`;
  }
  return { kind: 'read', read, shape, context, contextUrl: url, parentSource: pos.key === undefined ? parentToCheck(pos.source) : undefined };
}

/**
 * The rows a resource path reaches: those whose key (every part of it) is among the keys the path's
 * last hop selects; a key predicate after the navigation is part of that hop (PathStepPlan.keyValue).
 */
function pathRestriction(pos: EntityPosition, source: PathSource, scope: number): PlanExpr[] {
  return [{ kind: 'path-restriction', scope, columns: pos.set.entityType.key, path: source }];
}

/**
 * The parent chain to check when a navigation yields nothing (204 vs 404). When the last step is
 * addressed by key (`Companies(1)/Contacts(2)`), an empty result means that entity is not there: 404.
 */
function parentToCheck(source: PathSource | undefined): PathSource | undefined {
  const last = source?.steps[source.steps.length - 1];
  return last?.keyValue !== undefined ? undefined : source;
}

function propertyPlan(model: EdmModel, context: RequestContext, pos: EntityPosition, path: readonly EdmProperty[], raw: boolean, options: QueryOptions): Plan {
  checkOptions(options, raw ? 'property-value' : 'property');
  const contextUrl = `$metadata#${pos.canonical}/${path.map((p) => p.name).join('/')}`;
  return readPlan(model, context, pos, { select: [{ kind: 'path', segments: [{ name: path[0].name, position: 0 }] }] }, { kind: 'property', path, raw }, contextUrl);
}
