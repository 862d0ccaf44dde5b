/**
 * Walks a resource path against the model: the entity set, keys and navigation steps, down to the
 * entity or collection it addresses, plus what follows (a property, `$count`, `$ref`, `$value` or
 * a bound operation). Reads and writes both start here, so a path means the same thing to both.
 */
import { NotImplementedError, ODataError, PlanError } from '../errors/odata-error';
import { keyPropertyOf, resolveEntitySet, resolveMember, targetEntitySet } from '../edm/lookup';
import type { EdmEntitySet, EdmModel, EdmNavigation, EdmProperty, PrimitiveTypeName } from '../edm/model';
import { navigationStorage, tableOf, type NavigationStorage } from '../edm/storage';
import type { KeyPredicate, PathSegment } from '../uri/ast';
import type { PathSource, PathStepPlan } from './plan';
import { formatEntityKey, keyFromPredicate, keyPartsOf, keyScalars, type KeyValue } from './keys';
import { matchKeyPredicate } from './alternate-key-match';
import type { RequestUser } from './request-context';

/** The singleton of the caller's own user. */
export const ME = 'Me';

export interface EntityPosition {
  readonly set: EdmEntitySet;
  /** how the current rows are reached: a key on the first set plus navigation steps */
  readonly source?: PathSource;
  /** key filter on the current set */
  readonly key?: KeyValue;
  readonly single: boolean;
  /** the canonical URL of the path so far, for @odata.context of property reads */
  readonly canonical: string;
  /** the singleton the path starts at (`Me`), for context URLs and what a write may change */
  readonly singleton?: string;
  /** the navigation that led here and the position it started from */
  readonly via?: { readonly parent: EntityPosition; readonly navigation: EdmNavigation; readonly storage: NavigationStorage };
}

export type PathTail =
  | { readonly kind: 'none' }
  | { readonly kind: 'count' }
  | { readonly kind: 'ref' }
  | { readonly kind: 'property'; readonly path: readonly EdmProperty[]; readonly raw: boolean }
  /** a namespace-qualified segment: a bound action or function, with its inline parameters */
  | { readonly kind: 'operation'; readonly name: string; readonly parameters?: KeyPredicate };

export interface ResolvedPath {
  readonly position: EntityPosition;
  readonly tail: PathTail;
}

/** Resolves a path whose first segment names an entity set or a singleton (`caller`: whom `Me` is). */
export function resolvePath(model: EdmModel, segs: readonly PathSegment[], caller?: RequestUser): ResolvedPath {
  const first = segs[0];
  if (first.kind !== 'name') throw new NotImplementedError(`the ${first.kind} resource`);
  let pos = singletonPosition(model, first, caller);
  if (pos === undefined) {
    const found = resolveEntitySet(model, first.name);
    if ('ambiguous' in found) throw new PlanError('AMBIGUOUS_NAME', `'${first.name}' matches ${found.ambiguous.join(', ')}`, { target: 'path' });
    if ('missing' in found) throw new ODataError('NOT_FOUND', `'${first.name}' is not an entity set`, { target: 'path' });
    pos = { set: found.found, single: false, canonical: found.found.name };
    if (first.key) pos = applyKey(pos, first.key);
  }
  for (let i = 1; i < segs.length; i++) {
    const seg = segs[i];
    const last = i === segs.length - 1;
    switch (seg.kind) {
      case '$count':
        if (!last) throw notFound('nothing is addressable below $count');
        if (pos.single) throw new PlanError('INVALID_QUERY_OPTION', '$count applies to collections', { target: 'path' });
        return { position: pos, tail: { kind: 'count' } };
      case '$ref':
        if (!last) throw notFound('nothing is addressable below $ref');
        return { position: pos, tail: { kind: 'ref' } };
      case '$value':
        throw new ODataError('NOT_FOUND', '$value applies to a primitive property; this entity type has no media stream', { target: 'path' });
      case 'name': {
        if (seg.name.includes('.')) {
          if (!last) throw new NotImplementedError(`composing after the operation '${seg.name}'`, { target: 'path' });
          return { position: pos, tail: { kind: 'operation', name: seg.name, parameters: seg.key } };
        }
        if (!pos.single) throw new PlanError('INVALID_KEY', `'${pos.set.name}' is a collection; address one entity by key before '${seg.name}'`, { target: 'path' });
        const member = resolveMember(pos.set.entityType, seg.name);
        if ('ambiguous' in member) throw new PlanError('AMBIGUOUS_NAME', `'${seg.name}' is ambiguous`, { target: 'path' });
        if ('missing' in member) throw notFound(`'${seg.name}' is not a property of ${pos.set.entityType.qualifiedName}`);
        if (member.found.kind === 'property') {
          return { position: pos, tail: propertyTail(member.found.property, segs.slice(i + 1)) };
        }
        const nav = member.found.navigation;
        const target = targetEntitySet(model, pos.set, nav);
        const storage = navigationStorage(model, pos.set.entityType, nav);
        const step: PathStepPlan = {
          storage, fromTable: tableOf(pos.set), fromKey: pos.set.entityType.key,
          toTable: tableOf(target), toKey: target.entityType.key, toKeyTypes: keyPartsOf(target.entityType).map((p) => p.type),
        };
        const source = extendSource(pos, step);
        pos = { set: target, source, single: !nav.collection, canonical: `${pos.canonical}/${nav.name}`, via: { parent: pos, navigation: nav, storage } };
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
  return { position: pos, tail: { kind: 'none' } };
}

/** The singleton `Me` is the caller's row of its entity set (Users). */
function singletonPosition(model: EdmModel, first: PathSegment & { kind: 'name' }, caller: RequestUser | undefined): EntityPosition | undefined {
  const singleton = model.singletons.get(first.name) ?? [...model.singletons.values()].find((x) => x.name.toLowerCase() === first.name.toLowerCase());
  if (singleton === undefined) return undefined;
  if (first.key) throw new PlanError('INVALID_KEY', `'${singleton.name}' is a singleton and takes no key`, { target: 'path' });
  if (singleton.name !== ME) throw new NotImplementedError(`the singleton '${singleton.name}'`, { target: 'path' });
  if (caller?.id == null) throw new ODataError('NOT_FOUND', `'${singleton.name}' is the signed-in user; sign in to address it`, { target: 'path' });
  return { set: singleton.entitySet, key: caller.id, single: true, canonical: singleton.name, singleton: singleton.name };
}

function notFound(message: string): ODataError {
  return new ODataError('NOT_FOUND', message, { target: 'path' });
}

function applyKey(pos: EntityPosition, key: KeyPredicate): EntityPosition {
  const type = pos.set.entityType;
  // alternate keys were made canonical before planning (http/canonical-keys.ts); one here is misplaced
  if (key.kind === 'named' && matchKeyPredicate(pos.set, key).kind === 'alternate') {
    throw new PlanError('INVALID_KEY', `${pos.set.name}: address the entity by its key (${type.key.join(',')}) here`, { target: 'path' });
  }
  const value = keyFromPredicate(pos.set.name, type, key);
  const canonical = `${pos.canonical}(${formatEntityKey(type, value)})`;
  if (pos.source) {
    const steps = [...pos.source.steps];
    steps[steps.length - 1] = Object.assign({}, steps[steps.length - 1], { keyValue: keyScalars(value) });
    return Object.assign({}, pos, { source: Object.assign({}, pos.source, { steps }), key: value, single: true, canonical });
  }
  return Object.assign({}, pos, { key: value, single: true, canonical });
}

function extendSource(pos: EntityPosition, step: PathStepPlan): PathSource {
  if (pos.source) return Object.assign({}, pos.source, { steps: [...pos.source.steps, step] });
  const values = keyScalars(pos.key!);
  return { table: tableOf(pos.set), key: keyPartsOf(pos.set.entityType).map((part, i) => ({ column: part.column, value: values[i], type: part.type })), steps: [step] };
}

function propertyTail(property: EdmProperty, rest: readonly PathSegment[]): PathTail {
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
  return { kind: 'property', path, raw };
}

/** The type of a single-property key (the first part of a composite one). */
export function keyTypeOf(set: EdmEntitySet): PrimitiveTypeName {
  const keyProp = keyPropertyOf(set);
  return keyProp.type.kind === 'primitive' ? keyProp.type.name : 'Edm.String';
}

/** The position of one entity addressed by key in its entity set, e.g. to read it back after a write. */
export function entityPosition(set: EdmEntitySet, key: KeyValue): EntityPosition {
  return { set, key, single: true, canonical: `${set.name}(${formatEntityKey(set.entityType, key)})` };
}
