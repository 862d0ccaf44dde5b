/**
 * A bound (`Contacts/Crm.MassUpdate`) or imported (`SystemInfo()`) operation segment → an
 * OperationPlan: the overload chosen by what it is bound to, the method checked (POST invokes an
 * action, GET a function), and every parameter read like an entity property, all errors at once.
 */
import { entitySetOfType, resolveName } from '../edm/lookup';
import type { EdmComplexType, EdmModel, EdmOperation, EdmParameter } from '../edm/model';
import { isJsonObject } from '../json';
import { ODataError, type ErrorDetail } from '../errors/odata-error';
import type { RequestContext } from '../plan/request-context';
import { resolvePath, type EntityPosition } from '../plan/resolve-path';
import { checkOptions } from '../plan/plan-request';
import type { KeyPredicate, Literal, UriRequest } from '../uri/ast';
import { readEntity, type InputContext } from '../write/entity-input';
import { convertEnum, convertPrimitive, convertValue, type Conversion, type StoredValue } from '../write/json-values';
import { failOnDetails } from '../write/plan-write';
import type { Preconditions, RequestBody } from '../write/write-plan';
import type { OperationArgument, OperationPlan } from './operation-plan';

export interface OperationRequest {
  readonly method: string;
  readonly body: RequestBody;
  readonly preconditions: Preconditions;
}

/** Whether a URL addresses an operation (bound segment or import), so the caller routes it here. */
export function isOperationCall(model: EdmModel, uri: UriRequest): boolean {
  const first = uri.segments[0];
  if (first?.kind !== 'name') return false;
  if (uri.segments.length === 1 && model.operationImports.has(first.name) && !model.entitySets.has(first.name)) return true;
  const last = uri.segments[uri.segments.length - 1];
  return uri.segments.length > 1 && last.kind === 'name' && last.name.includes('.');
}

export function planOperation(model: EdmModel, uri: UriRequest, request: OperationRequest, context: RequestContext): OperationPlan {
  const first = uri.segments[0];
  let operation: EdmOperation;
  let binding: EntityPosition | undefined;
  let inline: KeyPredicate | undefined;
  if (uri.segments.length === 1 && first.kind === 'name' && model.operationImports.has(first.name)) {
    const imported = model.operationImports.get(first.name)!;
    operation = (model.operations.get(imported.operation) ?? []).find((o) => !o.bound) ?? notFound(first.name);
    inline = first.key;
  } else {
    const { position, tail } = resolvePath(model, uri.segments, context.user);
    if (tail.kind !== 'operation') throw new Error('not an operation call');
    binding = position;
    operation = overloadFor(model, tail.name, position);
    inline = tail.parameters;
  }
  checkMethod(operation, request.method);
  checkOptions(uri.options, returnsEntities(operation) ? (operation.returnType?.collection ? 'collection' : 'entity') : 'write');
  const errors: ErrorDetail[] = [];
  const parameters = operation.bound ? operation.parameters.slice(1) : operation.parameters;
  const args = operation.kind === 'function'
    ? functionArguments(parameters, inline, errors)
    : actionArguments(model, context, parameters, request.body, errors);
  failOnDetails(errors);
  return { operation, binding, args, context, options: uri.options, preconditions: request.preconditions };
}

function notFound(name: string): never {
  throw new ODataError('NOT_FOUND', `'${name}' is not an operation of this service`, { target: 'path' });
}

function returnsEntities(operation: EdmOperation): boolean {
  return operation.returnType?.type.kind === 'entity';
}

function overloadFor(model: EdmModel, name: string, position: EntityPosition): EdmOperation {
  const found = resolveName([...model.operations.keys()].map((n) => ({ name: n })), name);
  if (!('found' in found)) notFound(name);
  const overloads = model.operations.get(found.found.name)!;
  const match = overloads.find((o) => {
    const b = o.bound ? o.parameters[0] : undefined;
    return b !== undefined && b.type.kind === 'entity' && b.type.type === position.set.entityType && b.collection === !position.single;
  });
  if (!match) {
    const what = position.single ? position.set.entityType.qualifiedName : `Collection(${position.set.entityType.qualifiedName})`;
    throw new ODataError('NOT_FOUND', `${found.found.name} is not bound to ${what}`, { target: 'path' });
  }
  return match;
}

function checkMethod(operation: EdmOperation, method: string): void {
  if (operation.kind === 'action' && method !== 'POST') {
    throw new ODataError('METHOD_NOT_ALLOWED', `${operation.qualifiedName} is an action: invoke it with POST`);
  }
  if (operation.kind === 'function' && method !== 'GET' && method !== 'HEAD') {
    throw new ODataError('METHOD_NOT_ALLOWED', `${operation.qualifiedName} is a function: invoke it with GET`);
  }
}

/** Function parameters from the URL: `Fn(P=literal)` or `Fn(P=@alias)?@alias=literal` (aliases resolved by the parser). */
function functionArguments(parameters: readonly EdmParameter[], inline: KeyPredicate | undefined, errors: ErrorDetail[]): Map<string, OperationArgument> {
  const args = new Map<string, OperationArgument>();
  if (inline?.kind === 'single') {
    errors.push({ code: 'INVALID_ARGUMENTS', target: 'path', message: 'Function parameters are named: Fn(Name=value)' });
    return args;
  }
  const given = new Map((inline?.pairs ?? []).map((p) => [p.name, p.value]));
  for (const [name, literal] of given) {
    const parameter = resolveName(parameters, name);
    if (!('found' in parameter)) {
      errors.push({ code: 'UNKNOWN_PROPERTY', target: name, message: `${name}: not a parameter of this function` });
      continue;
    }
    const p = parameter.found;
    const converted = literalArgument(p, literal);
    if (converted.ok) args.set(p.name, { kind: 'value', value: converted.value });
    else errors.push({ code: converted.code, target: p.name, message: `${p.name}: ${converted.message}` });
  }
  requireAll(parameters, args, errors);
  return args;
}

function literalArgument(p: EdmParameter, literal: Literal): Conversion {
  if (literal.type === 'null') {
    return p.nullable ? { ok: true, value: null } : { ok: false, code: 'TYPE_MISMATCH', message: 'cannot be null' };
  }
  if (p.collection || p.type.kind === 'entity' || p.type.kind === 'complex') {
    return { ok: false, code: 'TYPE_MISMATCH', message: 'only primitive and enumeration parameters can be given in the URL' };
  }
  if (p.type.kind === 'enum') {
    if (literal.type === 'enum') {
      if (literal.typeName.toLowerCase() !== p.type.type.qualifiedName.toLowerCase() || literal.members.length !== 1) {
        return { ok: false, code: 'TYPE_MISMATCH', message: `expected one member of ${p.type.type.qualifiedName}` };
      }
      return convertEnum(p.type.type, literal.members[0]);
    }
    return literal.type === 'Edm.String' ? convertEnum(p.type.type, literal.value) : { ok: false, code: 'TYPE_MISMATCH', message: `expected ${p.type.type.qualifiedName}` };
  }
  const value = literal.type === 'Edm.Boolean' ? literal.value
    : ['Edm.Int32', 'Edm.Int64', 'Edm.Decimal', 'Edm.Double'].includes(literal.type) ? Number((literal as { value: string }).value)
      : 'value' in literal ? literal.value : undefined;
  if (literal.type === 'Edm.String' && p.type.name !== 'Edm.String') return { ok: false, code: 'TYPE_MISMATCH', message: `expected ${p.type.name}, got a string` };
  return convertPrimitive(p.type.name, value);
}

/** Action parameters from the JSON body: each read like a property of its type. */
function actionArguments(model: EdmModel, context: RequestContext, parameters: readonly EdmParameter[], body: RequestBody, errors: ErrorDetail[]): Map<string, OperationArgument> {
  if (body.kind === 'text') throw new ODataError('UNSUPPORTED_MEDIA_TYPE', 'Action parameters are a JSON object (Content-Type: application/json)');
  const value = body.kind === 'json' ? body.value : {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ODataError('INVALID_PAYLOAD', 'Action parameters are a JSON object');
  const args = new Map<string, OperationArgument>();
  const cx: InputContext = { model, serviceRoot: context.serviceRoot, errors };
  for (const [name, raw] of Object.entries(value as Record<string, unknown>)) {
    if (name.includes('@')) continue;
    const parameter = resolveName(parameters, name);
    if (!('found' in parameter)) {
      errors.push({ code: 'UNKNOWN_PROPERTY', target: name, message: `${name}: not a parameter of this action` });
      continue;
    }
    const p = parameter.found;
    const arg = jsonArgument(cx, p, raw);
    if (arg) args.set(p.name, arg);
  }
  requireAll(parameters, args, errors);
  return args;
}

function jsonArgument(cx: InputContext, p: EdmParameter, raw: unknown): OperationArgument | undefined {
  const fail = (code: string, message: string) => { cx.errors.push({ code, target: p.name, message: `${p.name}: ${message}` }); return undefined; };
  if (raw === null) return p.nullable ? { kind: 'value', value: null } : fail('NULL_NOT_ALLOWED', 'cannot be null');
  if (p.type.kind === 'entity') {
    if (p.collection || typeof raw !== 'object' || Array.isArray(raw)) return fail('TYPE_MISMATCH', `expected an object of ${p.type.type.qualifiedName}`);
    return { kind: 'entity', input: readEntity(cx, entitySetOfType(cx.model, p.type.type), raw as Record<string, unknown>, 'merge', `${p.name}/`) };
  }
  if (p.type.kind === 'complex') {
    const complex = p.type.type;
    const items = p.collection ? raw : [raw];
    if (!Array.isArray(items)) return fail('TYPE_MISMATCH', 'expected an array');
    const records = items.map((item, i) => complexRecord(cx, complex, item, p.collection ? `${p.name}/${i}` : p.name));
    return { kind: 'records', records };
  }
  const property = { name: p.name, type: p.type, collection: false, nullable: p.nullable, computed: false };
  if (!p.collection) {
    const converted = convertValue(property, raw);
    return converted.ok ? { kind: 'value', value: converted.value } : fail(converted.code, converted.message);
  }
  if (!Array.isArray(raw)) return fail('TYPE_MISMATCH', 'expected an array');
  const values = [];
  for (const [i, item] of raw.entries()) {
    const converted = item === null ? undefined : convertValue(property, item);
    if (!converted?.ok) {
      cx.errors.push({ code: converted?.ok === false ? converted.code : 'NULL_NOT_ALLOWED', target: `${p.name}/${i}`, message: `${p.name}/${i}: ${converted?.ok === false ? converted.message : 'cannot be null'}` });
      continue;
    }
    values.push(converted.value);
  }
  return { kind: 'values', values };
}

/** One value of a flat complex type: each member converted like a property; nested complex members are not supported. */
function complexRecord(cx: InputContext, complex: EdmComplexType, raw: unknown, at: string): Map<string, StoredValue> {
  const record = new Map<string, StoredValue>();
  const fail = (code: string, target: string, message: string) => cx.errors.push({ code, target, message: `${target}: ${message}` });
  if (!isJsonObject(raw)) {
    fail('TYPE_MISMATCH', at, `expected an object of ${complex.qualifiedName}`);
    return record;
  }
  for (const name of Object.keys(raw)) {
    if (!name.includes('@') && !complex.properties.some((m) => m.name === name)) fail('UNKNOWN_PROPERTY', `${at}/${name}`, `${complex.qualifiedName} has no property '${name}'`);
  }
  for (const member of complex.properties) {
    const target = `${at}/${member.name}`;
    const value = raw[member.name];
    if (member.type.kind === 'complex') {
      fail('NOT_IMPLEMENTED', target, 'complex members of complex parameters are not supported');
      continue;
    }
    if (value === undefined || value === null) {
      if (member.nullable || member.defaultValue !== undefined) record.set(member.name, member.defaultValue ?? null);
      else fail('NULL_NOT_ALLOWED', target, `${member.name} is required`);
      continue;
    }
    const converted = convertValue(member, value);
    if (converted.ok) record.set(member.name, converted.value);
    else fail(converted.code, target, converted.message);
  }
  return record;
}

function requireAll(parameters: readonly EdmParameter[], args: ReadonlyMap<string, OperationArgument>, errors: ErrorDetail[]): void {
  for (const p of parameters) {
    if (!args.has(p.name) && !p.nullable && !errors.some((e) => e.target === p.name || e.target?.startsWith(`${p.name}/`))) {
      errors.push({ code: 'NULL_NOT_ALLOWED', target: p.name, message: `${p.name}: this parameter is required` });
    }
  }
}
