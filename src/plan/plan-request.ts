/**
 * Resolves a parsed URL against the model into a Plan: which resource (path), what shape the
 * answer has, which query options apply to it, and the @odata.context it carries.
 */
import { NotImplementedError, ODataError, PlanError } from '../errors/odata-error';
import { resolveEntitySet, resolveMember, targetEntitySet } from '../edm/lookup';
import type { EdmEntitySet, EdmModel, EdmProperty, PrimitiveTypeName } from '../edm/model';
import { navigationStorage, tableOf } from '../edm/storage';
import type { KeyPredicate, Literal, PathSegment, QueryOptions, UriRequest } from '../uri/ast';
import { ALLOWED_OPTIONS, type ResourceKind } from '../uri/allowed-options';
import type { PathSource, PathStepPlan, Plan, PlanExpr, ResultShape } from './plan';
import { planRead } from './plan-read';
import type { RequestContext } from './request-context';
import { formatKey, keyValue } from './keys';

interface EntityPosition {
  readonly set: EdmEntitySet;
  /** how the current rows are reached: a key on the first set plus navigation steps */
  readonly source?: PathSource;
  /** key filter on the current set */
  readonly key?: string | number | boolean;
  readonly single: boolean;
  /** the canonical URL of the path so far, for @odata.context of property reads */
  readonly canonical: string;
}

export function planRequest(model: EdmModel, uri: UriRequest, context: RequestContext): Plan {
  if (uri.unsupportedOptions.length) throw new NotImplementedError(uri.unsupportedOptions.join(', '), { target: uri.unsupportedOptions[0] });
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
  if (first.kind !== 'name') throw new NotImplementedError(`the ${first.kind} resource`);
  const found = resolveEntitySet(model, first.name);
  if ('ambiguous' in found) throw new PlanError('AMBIGUOUS_NAME', `'${first.name}' matches ${found.ambiguous.join(', ')}`, { target: 'path' });
  if ('missing' in found) throw new ODataError('NOT_FOUND', `'${first.name}' is not an entity set`, { target: 'path' });

  let pos: EntityPosition = { set: found.found, single: false, canonical: found.found.name };
  if (first.key) pos = applyKey(pos, first.key);
  for (let i = 1; i < segs.length; i++) {
    const seg = segs[i];
    const last = i === segs.length - 1;
    switch (seg.kind) {
      case '$count':
        if (!last) throw notFound('nothing is addressable below $count');
        if (pos.single) throw new PlanError('INVALID_QUERY_OPTION', '$count applies to collections', { target: 'path' });
        checkOptions(uri.options, 'count');
        return readPlan(model, context, pos, uri.options, { kind: 'count' }, '');
      case '$ref':
        if (!last) throw notFound('nothing is addressable below $ref');
        checkOptions(uri.options, pos.single ? 'reference' : 'references');
        return readPlan(model, context, pos, { ...uri.options, select: [], expand: undefined }, { kind: 'references', single: pos.single },
          pos.single ? '$metadata#$ref' : '$metadata#Collection($ref)');
      case '$value':
        throw new ODataError('NOT_FOUND', '$value applies to a primitive property; this entity type has no media stream', { target: 'path' });
      case 'name': {
        if (!pos.single) throw new PlanError('INVALID_KEY', `'${pos.set.name}' is a collection; address one entity by key before '${seg.name}'`, { target: 'path' });
        const member = resolveMember(pos.set.entityType, seg.name);
        if ('ambiguous' in member) throw new PlanError('AMBIGUOUS_NAME', `'${seg.name}' is ambiguous`, { target: 'path' });
        if ('missing' in member) {
          if (seg.name.includes('.')) throw new NotImplementedError(`the operation or type cast '${seg.name}'`, { target: 'path' });
          throw notFound(`'${seg.name}' is not a property of ${pos.set.entityType.qualifiedName}`);
        }
        if (member.found.kind === 'property') {
          return propertyPlan(model, context, pos, member.found.property, segs.slice(i + 1), uri.options);
        }
        const nav = member.found.navigation;
        const target = targetEntitySet(model, pos.set, nav);
        const step: PathStepPlan = {
          storage: navigationStorage(model, pos.set.entityType, nav), fromTable: tableOf(pos.set), fromKey: pos.set.entityType.key[0],
          toTable: tableOf(target), toKey: target.entityType.key[0], toKeyType: keyTypeOf(target),
        };
        const source = extendSource(pos, step);
        pos = { set: target, source, single: !nav.collection, canonical: `${pos.canonical}/${nav.name}` };
        if (seg.key) {
          if (!nav.collection) throw new PlanError('INVALID_KEY', `'${nav.name}' is single-valued and takes no key`, { target: 'path' });
          pos = applyKey(pos, seg.key);
        }
        break;
      }
      default:
        throw notFound(`'${seg.kind}' is not valid here`);
    }
  }
  checkOptions(uri.options, pos.single ? 'entity' : 'collection');
  const context$ = contextFor(pos.set.name, pos.single);
  return readPlan(model, context, pos, uri.options, pos.single ? { kind: 'entity' } : { kind: 'collection' }, context$);
}

function notFound(message: string): ODataError {
  return new ODataError('NOT_FOUND', message, { target: 'path' });
}

function contextFor(setName: string, single: boolean): string {
  return `$metadata#${setName}${single ? '/$entity' : ''}`;
}

function applyKey(pos: EntityPosition, key: KeyPredicate): EntityPosition {
  const type = pos.set.entityType;
  let literal: Literal;
  if (key.kind === 'single') literal = key.value;
  else {
    if (key.pairs.length !== 1 || key.pairs[0].name.toLowerCase() !== type.key[0].toLowerCase()) {
      throw new PlanError('INVALID_KEY', `The key of ${type.qualifiedName} is (${type.key.join(',')})`, { target: 'path' });
    }
    literal = key.pairs[0].value;
  }
  const keyProp = type.properties.find((p) => p.name === type.key[0])!;
  const value = keyValue(keyProp, literal);
  const canonical = `${pos.canonical}(${formatKey(keyProp, value)})`;
  if (pos.source) {
    const steps = [...pos.source.steps];
    steps[steps.length - 1] = { ...steps[steps.length - 1], keyValue: value };
    return { ...pos, source: { ...pos.source, steps }, single: true, canonical };
  }
  return { ...pos, key: value, single: true, canonical };
}

function extendSource(pos: EntityPosition, step: PathStepPlan): PathSource {
  if (pos.source) return { ...pos.source, steps: [...pos.source.steps, step] };
  return { table: tableOf(pos.set), key: [{ column: pos.set.entityType.key[0], value: pos.key!, type: keyTypeOf(pos.set) }], steps: [step] };
}

function checkOptions(options: QueryOptions, kind: ResourceKind): void {
  const allowed = ALLOWED_OPTIONS[kind];
  for (const [name, value] of Object.entries(options)) {
    if (value === undefined) continue;
    if (!allowed.includes(name)) {
      throw new PlanError('QUERY_OPTION_NOT_ALLOWED', `$${name} is not allowed on a ${kind.replace('-', ' ')} resource`, { target: `$${name}` });
    }
  }
}

function readPlan(model: EdmModel, context: RequestContext, pos: EntityPosition, options: QueryOptions, shape: ResultShape, contextUrl: string): Plan {
  let scopeCounter = 0;
  const nextScope = () => scopeCounter++;
  const scope = nextScope();
  const where: PlanExpr[] = [];
  const keyColumn = pos.set.entityType.key[0];
  const keyProp = pos.set.entityType.properties.find((p) => p.name === keyColumn)!;
  const keyType = { kind: 'primitive' as const, name: keyProp.type.kind === 'primitive' ? keyProp.type.name : 'Edm.String' as const };
  if (pos.key !== undefined) {
    where.push({ kind: 'compare', op: 'eq', left: { kind: 'column', scope, joins: [], column: keyColumn, type: keyType }, right: { kind: 'literal', value: pos.key, type: keyType } });
  }
  if (pos.source) where.push({ kind: 'path-restriction', scope, column: keyColumn, path: pos.source });
  const read = planRead({ model, request: context, nextScope }, pos.set, options, { where, scope, nested: false, depth: 0 });
  let url = contextUrl;
  if (shape.kind === 'collection' || shape.kind === 'entity') {
    const select = read.contextSelect.length ? `(${read.contextSelect.join(',')})` : '';
    url = `$metadata#${pos.set.name}${select}${shape.kind === 'entity' ? '/$entity' : ''}`;
  }
  return { kind: 'read', read, shape, context, contextUrl: url, parentSource: parentToCheck(pos.source) };
}

/**
 * The parent chain to check when a navigation yields nothing (204 vs 404). When the last step is
 * addressed by key (`Companies(1)/Contacts(2)`), an empty result means that entity is not there: 404.
 */
function parentToCheck(source: PathSource | undefined): PathSource | undefined {
  const last = source?.steps[source.steps.length - 1];
  return last?.keyValue !== undefined ? undefined : source;
}

function propertyPlan(model: EdmModel, context: RequestContext, pos: EntityPosition, property: EdmProperty, rest: readonly PathSegment[], options: QueryOptions): Plan {
  const path: EdmProperty[] = [property];
  let raw = false;
  for (const seg of rest) {
    if (seg.kind === '$value') {
      const leaf = path[path.length - 1];
      if (leaf.type.kind === 'complex' || leaf.collection) throw new PlanError('INVALID_QUERY_OPTION', '$value applies to a primitive property', { target: 'path' });
      if (seg !== rest[rest.length - 1]) throw notFound('nothing is addressable below $value');
      raw = true;
      continue;
    }
    const leaf = path[path.length - 1];
    if (seg.kind !== 'name' || leaf.type.kind !== 'complex' || seg.key) throw notFound(`'${seg.kind === 'name' ? seg.name : seg.kind}' is not addressable below ${leaf.name}`);
    const m = resolveMember(leaf.type.type, seg.name);
    if (!('found' in m) || m.found.kind !== 'property') throw notFound(`'${seg.name}' is not a property of ${leaf.type.type.qualifiedName}`);
    path.push(m.found.property);
  }
  checkOptions(options, raw ? 'property-value' : 'property');
  const head = path[0];
  const contextUrl = `$metadata#${pos.canonical}/${path.map((p) => p.name).join('/')}`;
  return readPlan(model, context, pos, { select: [{ kind: 'path', segments: [{ name: head.name, position: 0 }] }] }, { kind: 'property', path, raw }, contextUrl);
}

function keyTypeOf(set: EdmEntitySet): PrimitiveTypeName {
  const keyProp = set.entityType.properties.find((p) => p.name === set.entityType.key[0]);
  return keyProp?.type.kind === 'primitive' ? keyProp.type.name : 'Edm.String';
}
