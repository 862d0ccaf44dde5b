/**
 * Which key a key predicate names: the canonical `$Key` (`Tags(<guid>)`, `Tags(Id=<guid>)`) or one
 * of the type's alternate keys (`Tags(Name='VIP')`, composite ones with every part named). A named
 * predicate that matches no key is a 400 listing the keys there are.
 */
import { alternateKeysOf, type AlternateKey, type AlternateKeyPart } from '../edm/alternate-keys';
import type { EdmEntitySet, EdmEnumType } from '../edm/model';
import { PlanError } from '../errors/odata-error';
import type { KeyPredicate, Literal } from '../uri/ast';
import { keyValue } from './keys';

export interface AlternateKeyValue {
  readonly part: AlternateKeyPart;
  /** the value the column stores (an enum as its integer) */
  readonly value: string | number | boolean;
}

export type KeyMatch =
  | { readonly kind: 'canonical' }
  | { readonly kind: 'alternate'; readonly key: AlternateKey; readonly values: readonly AlternateKeyValue[] };

const CANONICAL: KeyMatch = { kind: 'canonical' };

export function matchKeyPredicate(set: EdmEntitySet, predicate: KeyPredicate): KeyMatch {
  if (predicate.kind === 'single') return CANONICAL;
  const type = set.entityType;
  const names = predicate.pairs.map((p) => p.name.toLowerCase());
  if (new Set(names).size !== names.length) throw invalidKey(set, `a key property is named twice in (${predicate.pairs.map((p) => p.name).join(',')})`);
  const sameNames = (aliases: readonly string[]) => aliases.length === names.length && aliases.every((a) => names.includes(a.toLowerCase()));
  if (sameNames(type.key)) return CANONICAL;
  const key = alternateKeysOf(type).find((k) => sameNames(k.parts.map((p) => p.alias)));
  if (!key) throw invalidKey(set, `no key of ${type.qualifiedName} is (${predicate.pairs.map((p) => p.name).join(',')}); its keys are ${keysOf(set)}`);
  const values = key.parts.map((part): AlternateKeyValue => {
    const pair = predicate.pairs.find((p) => p.name.toLowerCase() === part.alias.toLowerCase())!;
    return { part, value: partValue(set, part, pair.value) };
  });
  return { kind: 'alternate', key, values };
}

/** `(Id)`, `(Name)`, `(EntityType,Name)`: every key of a set, for messages. */
export function keysOf(set: EdmEntitySet): string {
  const type = set.entityType;
  return [type.key, ...alternateKeysOf(type).map((k) => k.parts.map((p) => p.alias))].map((k) => `(${k.join(',')})`).join(', ');
}

function partValue(set: EdmEntitySet, part: AlternateKeyPart, literal: Literal): string | number | boolean {
  const { property } = part;
  if (literal.type === 'null') throw invalidKey(set, `${part.alias} is part of a key and cannot be null`);
  if (property.type.kind === 'enum') return enumValue(set, part.alias, property.type.type, literal);
  return keyValue(property, literal);
}

/** An enum key part: `Role=Crm.Role'Manager'`, or (4.01) the member name as a string, or its integer value. */
function enumValue(set: EdmEntitySet, alias: string, type: EdmEnumType, literal: Literal): number {
  let member: number | undefined;
  if (literal.type === 'enum' && literal.members.length === 1) member = type.members.get(literal.members[0]);
  else if (literal.type === 'Edm.String') member = type.members.get(literal.value);
  else if (literal.type === 'Edm.Int32' || literal.type === 'Edm.Int64') member = type.memberByValue.has(Number(literal.value)) ? Number(literal.value) : undefined;
  if (literal.type === 'enum' && literal.typeName !== type.qualifiedName && literal.typeName.toLowerCase() !== type.qualifiedName.toLowerCase()) member = undefined;
  if (member === undefined) throw invalidKey(set, `${alias} is a ${type.qualifiedName}: one of ${[...type.members.keys()].join(', ')}`);
  return member;
}

function invalidKey(set: EdmEntitySet, message: string): PlanError {
  return new PlanError('INVALID_KEY', `${set.name}: ${message}`, { target: 'path' });
}
