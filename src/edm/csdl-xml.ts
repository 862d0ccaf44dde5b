/** Renders a CSDL JSON document as CSDL XML (edmx:Edmx), walking the JSON generically; it does not validate the model. */
import { isJsonObject, type JsonObject } from '../json';

type Json = JsonObject;
type Attr = readonly [string, string | number | boolean | undefined];

/**
 * Annotation value types whose XML form differs from what the JSON value alone says: enumeration
 * members ("Intermediate" → EnumMember="Ns.Type/Intermediate"), paths, dates, decimals. Keys are a
 * term ("Ns.Term") or a complex type's property ("Ns.Type/Property"); values are qualified type
 * names: an Edm primitive, or an enumeration or complex type (complex types let records descend).
 */
export type CsdlValueTypes = Readonly<Record<string, string>>;

export interface CsdlXmlOptions {
  /** Value types of terms defined outside the document (the document's own terms are derived). */
  readonly valueTypes?: CsdlValueTypes;
  /** Maps a `$Reference` URI for the XML document; defaults to xmlReferenceUri. */
  readonly referenceUri?: (uri: string) => string;
}

const EDMX_NS = 'http://docs.oasis-open.org/odata/ns/edmx';
const EDM_NS = 'http://docs.oasis-open.org/odata/ns/edm';
const OASIS_VOCABULARIES = 'https://oasis-tcs.github.io/odata-vocabularies/vocabularies/';

/** JSON string values of these types are written with a typed XML constant or path attribute. */
const STRING_AS: Readonly<Record<string, string>> = {
  'Edm.Binary': 'Binary', 'Edm.Date': 'Date', 'Edm.DateTimeOffset': 'DateTimeOffset', 'Edm.Decimal': 'Decimal',
  'Edm.Duration': 'Duration', 'Edm.Guid': 'Guid', 'Edm.TimeOfDay': 'TimeOfDay', 'Edm.Int64': 'Int',
  'Edm.Double': 'Float', 'Edm.Single': 'Float', 'Edm.PropertyPath': 'PropertyPath', 'Edm.AnyPropertyPath': 'PropertyPath',
  'Edm.NavigationPropertyPath': 'NavigationPropertyPath', 'Edm.AnnotationPath': 'AnnotationPath',
  'Edm.ModelElementPath': 'ModelElementPath',
};
const PATHS = ['$Path', '$PropertyPath', '$NavigationPropertyPath', '$AnnotationPath', '$ModelElementPath'];
const TWO_CHILDREN: Readonly<Record<string, string>> = {
  $And: 'And', $Or: 'Or', $Eq: 'Eq', $Ne: 'Ne', $Gt: 'Gt', $Ge: 'Ge', $Lt: 'Lt', $Le: 'Le', $Has: 'Has', $In: 'In',
  $Add: 'Add', $Sub: 'Sub', $Mul: 'Mul', $Div: 'Div', $DivBy: 'DivBy', $Mod: 'Mod',
};
const ONE_CHILD: Readonly<Record<string, string>> = { $Not: 'Not', $Neg: 'Neg' };

interface Ctx {
  readonly aliases: ReadonlyMap<string, string>;
  readonly types: CsdlValueTypes;
}
/** An expression either fits in one attribute of its parent or needs child elements. */
interface Expr { readonly attr?: readonly [string, string]; readonly elements: string[] }

// ---- XML text ----------------------------------------------------------------------------------

// Characters XML 1.0 cannot carry even as references; user-supplied descriptions must not break $metadata.
const ILLEGAL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;
function escText(s: string): string {
  return s.replace(ILLEGAL, '\uFFFD').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
function escAttr(s: string): string {
  return escText(s).replace(/"/g, '&quot;').replace(/\t/g, '&#x9;').replace(/\n/g, '&#xA;').replace(/\r/g, '&#xD;');
}
function tag(name: string, attrs: readonly Attr[], children: readonly string[] = []): string[] {
  const a = attrs.filter(([, v]) => v !== undefined).map(([k, v]) => ` ${k}="${escAttr(String(v))}"`).join('');
  if (children.length === 0) return [`<${name}${a}/>`];
  return [`<${name}${a}>`, ...children.map((c) => `  ${c}`), `</${name}>`];
}
function textTag(name: string, attrs: readonly Attr[], text: string): string[] {
  const a = attrs.filter(([, v]) => v !== undefined).map(([k, v]) => ` ${k}="${escAttr(String(v))}"`).join('');
  return [`<${name}${a}>${escText(text)}</${name}>`];
}

// ---- JSON helpers ------------------------------------------------------------------------------

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
/** Members of a CSDL JSON object that are model elements: not `$` keywords and not annotations. */
function members(o: Json): [string, unknown][] {
  return Object.entries(o).filter(([k]) => !k.startsWith('$') && !k.includes('@'));
}
function qualify(aliases: ReadonlyMap<string, string>, name: string): string {
  const dot = name.lastIndexOf('.');
  const ns = dot < 0 ? undefined : aliases.get(name.slice(0, dot));
  return ns ? `${ns}${name.slice(dot)}` : name;
}
function literal(v: unknown): string | undefined {
  return v === undefined || v === null ? undefined : String(v);
}

/** Aliases declared by `$Reference` includes and by the schemas themselves: alias → namespace. */
function aliasesOf(docs: readonly Readonly<Json>[]): Map<string, string> {
  const aliases = new Map<string, string>();
  for (const doc of docs) {
    for (const ref of Object.values(isJsonObject(doc.$Reference) ? doc.$Reference : {})) {
      const includes = isJsonObject(ref) && Array.isArray(ref.$Include) ? ref.$Include : [];
      for (const inc of includes) {
        if (isJsonObject(inc) && typeof inc.$Alias === 'string' && typeof inc.$Namespace === 'string') aliases.set(inc.$Alias, inc.$Namespace);
      }
    }
    for (const [ns, schema] of members(doc as Json)) if (isJsonObject(schema) && typeof schema.$Alias === 'string') aliases.set(schema.$Alias, ns);
  }
  return aliases;
}

/**
 * Derives CsdlValueTypes from CSDL JSON documents that define terms (the document itself, or the
 * OASIS vocabulary files): every term and complex type property whose type changes the XML form.
 */
export function valueTypesOf(...docs: readonly Readonly<Json>[]): Record<string, string> {
  const aliases = aliasesOf(docs);
  const defs = new Map<string, Json>();
  for (const doc of docs) {
    for (const [ns, schema] of members(doc as Json)) {
      if (!isJsonObject(schema)) continue;
      for (const [name, el] of members(schema)) if (isJsonObject(el)) defs.set(`${ns}.${name}`, el);
    }
  }
  const resolve = (type: unknown): string => {
    let t = qualify(aliases, str(type) ?? 'Edm.String');
    for (let d = defs.get(t); d?.$Kind === 'TypeDefinition'; d = defs.get(t)) t = qualify(aliases, str(d.$UnderlyingType) ?? 'Edm.String');
    return t;
  };
  const keep = (t: string): boolean => t in STRING_AS || defs.get(t)?.$Kind === 'EnumType' || defs.get(t)?.$Kind === 'ComplexType';
  const properties = (t: string, depth = 0): [string, unknown][] => {
    const d = defs.get(t);
    if (!d || depth > 32) return [];
    const base = typeof d.$BaseType === 'string' ? properties(qualify(aliases, d.$BaseType), depth + 1) : [];
    return [...base, ...members(d).filter(([, p]) => isJsonObject(p) && p.$Kind !== 'NavigationProperty').map(([n, p]): [string, unknown] => [n, (p as Json).$Type])];
  };
  const out: Record<string, string> = {};
  for (const [name, d] of defs) {
    if (d.$Kind === 'Term' && keep(resolve(d.$Type))) out[name] = resolve(d.$Type);
    if (d.$Kind !== 'ComplexType') continue;
    for (const [p, type] of properties(name)) if (keep(resolve(type))) out[`${name}/${p}`] = resolve(type);
  }
  return out;
}

/** Refers an XML document to the XML edition of an OASIS vocabulary (both are published side by side). */
export function xmlReferenceUri(uri: string): string {
  return uri.startsWith(OASIS_VOCABULARIES) && uri.endsWith('.json') ? `${uri.slice(0, -'.json'.length)}.xml` : uri;
}

// ---- annotations and expressions ---------------------------------------------------------------

/** `<Annotation>` elements for the members `${prefix}@Term[#Qualifier]` of `o` (CSDL JSON §Annotation). */
function annotations(ctx: Ctx, o: Json, prefix = ''): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(o)) {
    if (!key.startsWith(`${prefix}@`)) continue;
    const rest = key.slice(prefix.length + 1);
    // Nested annotations (`@A@B`) belong to their annotation; `@type`, `@odata.*` are control information.
    if (rest.includes('@') || !rest.includes('.') || rest.startsWith('odata.')) continue;
    const [term, qualifier] = rest.split('#', 2);
    const x = expression(ctx, value, ctx.types[qualify(ctx.aliases, term)]);
    const nested = annotations(ctx, o, key);
    out.push(...tag('Annotation', [['Term', term], ['Qualifier', qualifier], ...(x.attr ? [x.attr] : [])], [...x.elements, ...nested]));
  }
  return out;
}

function asElements(x: Expr): string[] {
  return x.attr ? textTag(x.attr[0], [], x.attr[1]) : x.elements;
}

function constant(ctx: Ctx, value: string | number | boolean, type: string | undefined): Expr {
  if (typeof value === 'boolean') return { attr: ['Bool', String(value)], elements: [] };
  if (typeof value === 'number') {
    const kind = type === 'Edm.Decimal' ? 'Decimal' : type === 'Edm.Double' || type === 'Edm.Single' || !Number.isInteger(value) ? 'Float' : 'Int';
    return { attr: [kind, String(value)], elements: [] };
  }
  if (type && STRING_AS[type]) return { attr: [STRING_AS[type], value], elements: [] };
  if (type && !type.startsWith('Edm.')) {
    // Enumeration member: JSON "A,B" (symbolic, comma-separated) → XML "Ns.Type/A Ns.Type/B".
    const enumType = qualify(ctx.aliases, type);
    return { attr: ['EnumMember', value.split(',').map((m) => `${enumType}/${m.trim()}`).join(' ')], elements: [] };
  }
  return { attr: ['String', value], elements: [] };
}

function expression(ctx: Ctx, value: unknown, type: string | undefined): Expr {
  if (value === null) return { elements: ['<Null/>'] };
  if (typeof value === 'boolean' || typeof value === 'number' || typeof value === 'string') return constant(ctx, value, type);
  if (Array.isArray(value)) return { elements: tag('Collection', [], value.flatMap((v) => asElements(expression(ctx, v, type)))) };
  if (!isJsonObject(value)) throw new Error(`unsupported annotation value ${String(value)}`);
  const dynamic = dynamicExpression(ctx, value);
  return dynamic ?? { elements: record(ctx, value, type) };
}

function record(ctx: Ctx, value: Json, type: string | undefined): string[] {
  // CSDL JSON gives an explicit record type as control information `@type` (a URI ending in #Ns.Type).
  const explicit = str(value['@type']) ?? str(value['@odata.type']);
  const explicitType = explicit ? explicit.slice(explicit.lastIndexOf('#') + 1) : undefined;
  const recordType = explicitType ?? (type && !type.startsWith('Edm.') ? qualify(ctx.aliases, type) : undefined);
  const values = members(value).flatMap(([prop, v]) => {
    const x = expression(ctx, v, recordType ? ctx.types[`${qualify(ctx.aliases, recordType)}/${prop}`] : undefined);
    return tag('PropertyValue', [['Property', prop], ...(x.attr ? [x.attr] : [])], [...x.elements, ...annotations(ctx, value, prop)]);
  });
  return tag('Record', [['Type', explicitType]], [...annotations(ctx, value), ...values]);
}

function dynamicExpression(ctx: Ctx, v: Json): Expr | undefined {
  const inner = (x: unknown): string[] => asElements(expression(ctx, x, undefined));
  const list = (x: unknown): string[] => (Array.isArray(x) ? x.flatMap(inner) : inner(x));
  const notes = annotations(ctx, v);
  const path = PATHS.find((p) => p in v);
  if (path) return { attr: [path.slice(1), String(v[path])], elements: [] };
  if ('$UrlRef' in v) {
    return typeof v.$UrlRef === 'string' ? { attr: ['UrlRef', v.$UrlRef], elements: [] } : { elements: tag('UrlRef', [], [...notes, ...inner(v.$UrlRef)]) };
  }
  for (const k of ['$Cast', '$IsOf']) {
    if (k in v) return { elements: tag(k.slice(1), [['Type', typeAttr(v)], ...facets(v)], [...notes, ...inner(v[k])]) };
  }
  if ('$If' in v) return { elements: tag('If', [], [...notes, ...list(v.$If)]) };
  if ('$Apply' in v) return { elements: tag('Apply', [['Function', str(v.$Function)]], [...notes, ...list(v.$Apply)]) };
  if ('$LabeledElement' in v) return { elements: tag('LabeledElement', [['Name', str(v.$Name)]], [...notes, ...inner(v.$LabeledElement)]) };
  if ('$LabeledElementReference' in v) return { elements: textTag('LabeledElementReference', [], String(v.$LabeledElementReference)) };
  for (const [k, name] of [...Object.entries(TWO_CHILDREN), ...Object.entries(ONE_CHILD)]) {
    if (k in v) return { elements: tag(name, [], [...notes, ...list(v[k])]) };
  }
  const unknown = Object.keys(v).find((k) => k.startsWith('$'));
  if (unknown) throw new Error(`unsupported CSDL JSON expression ${unknown}`);
  return undefined;
}

// ---- model elements ----------------------------------------------------------------------------

function typeAttr(el: Json): string {
  const t = str(el.$Type) ?? 'Edm.String';
  return el.$Collection === true ? `Collection(${t})` : t;
}
function facets(el: Json): Attr[] {
  return [['MaxLength', literal(el.$MaxLength)], ['Precision', literal(el.$Precision)], ['Scale', literal(el.$Scale)],
    ['SRID', literal(el.$SRID)], ['Unicode', literal(el.$Unicode)]];
}
/** CSDL JSON: an absent $Nullable means false; CSDL XML: an absent Nullable means true. */
function nullable(el: Json): Attr {
  return ['Nullable', el.$Nullable === true ? undefined : 'false'];
}

function property(ctx: Ctx, name: string, p: Json): string[] {
  return tag('Property', [['Name', name], ['Type', typeAttr(p)], nullable(p), ...facets(p), ['DefaultValue', literal(p.$DefaultValue)]],
    annotations(ctx, p));
}

function navigationProperty(ctx: Ctx, name: string, p: Json): string[] {
  const constraints = isJsonObject(p.$ReferentialConstraint) ? p.$ReferentialConstraint : {};
  const children = members(constraints).flatMap(([dependent, principal]) =>
    tag('ReferentialConstraint', [['Property', dependent], ['ReferencedProperty', String(principal)]], annotations(ctx, constraints, dependent)));
  if (typeof p.$OnDelete === 'string') children.push(...tag('OnDelete', [['Action', p.$OnDelete]], annotations(ctx, p, '$OnDelete')));
  // Nullable applies to single-valued navigation properties only.
  const nullability: Attr = p.$Collection === true ? ['Nullable', undefined] : nullable(p);
  return tag('NavigationProperty', [['Name', name], ['Type', typeAttr(p)], nullability, ['Partner', str(p.$Partner)],
    ['ContainsTarget', literal(p.$ContainsTarget)]], [...children, ...annotations(ctx, p)]);
}

function structuredType(ctx: Ctx, kind: string, name: string, t: Json): string[] {
  const children: string[] = [];
  if (Array.isArray(t.$Key)) {
    const refs = t.$Key.flatMap((k: unknown) => (typeof k === 'string'
      ? tag('PropertyRef', [['Name', k]])
      : Object.entries(isJsonObject(k) ? k : {}).flatMap(([alias, path]) => tag('PropertyRef', [['Name', String(path)], ['Alias', alias]]))));
    children.push(...tag('Key', [], refs));
  }
  for (const [member, m] of members(t)) {
    if (!isJsonObject(m)) continue;
    children.push(...(m.$Kind === 'NavigationProperty' ? navigationProperty(ctx, member, m) : property(ctx, member, m)));
  }
  return tag(kind, [['Name', name], ['BaseType', str(t.$BaseType)], ['Abstract', literal(t.$Abstract)], ['OpenType', literal(t.$OpenType)],
    ['HasStream', literal(t.$HasStream)]], [...children, ...annotations(ctx, t)]);
}

function enumType(ctx: Ctx, name: string, e: Json): string[] {
  const values = members(e).flatMap(([member, value]) => tag('Member', [['Name', member], ['Value', literal(value)]], annotations(ctx, e, member)));
  return tag('EnumType', [['Name', name], ['UnderlyingType', str(e.$UnderlyingType)], ['IsFlags', literal(e.$IsFlags)]],
    [...annotations(ctx, e), ...values]);
}

function operation(ctx: Ctx, kind: string, name: string, o: Json): string[] {
  const params = (Array.isArray(o.$Parameter) ? o.$Parameter : []).filter(isJsonObject).flatMap((p) =>
    tag('Parameter', [['Name', str(p.$Name)], ['Type', typeAttr(p)], nullable(p), ...facets(p)], annotations(ctx, p)));
  const r = isJsonObject(o.$ReturnType) ? o.$ReturnType : undefined;
  const returns = r ? tag('ReturnType', [['Type', typeAttr(r)], nullable(r), ...facets(r)], annotations(ctx, r)) : [];
  return tag(kind, [['Name', name], ['IsBound', literal(o.$IsBound)], ['IsComposable', literal(o.$IsComposable)],
    ['EntitySetPath', str(o.$EntitySetPath)]], [...params, ...returns, ...annotations(ctx, o)]);
}

function bindings(s: Json): string[] {
  const b = isJsonObject(s.$NavigationPropertyBinding) ? s.$NavigationPropertyBinding : {};
  return Object.entries(b).flatMap(([path, target]) => tag('NavigationPropertyBinding', [['Path', path], ['Target', String(target)]]));
}

function entityContainer(ctx: Ctx, name: string, c: Json): string[] {
  const children = members(c).flatMap(([member, m]): string[] => {
    if (!isJsonObject(m)) return [];
    if (typeof m.$Action === 'string') return tag('ActionImport', [['Name', member], ['Action', m.$Action], ['EntitySet', str(m.$EntitySet)]], annotations(ctx, m));
    if (typeof m.$Function === 'string') {
      return tag('FunctionImport', [['Name', member], ['Function', m.$Function], ['EntitySet', str(m.$EntitySet)],
        ['IncludeInServiceDocument', literal(m.$IncludeInServiceDocument)]], annotations(ctx, m));
    }
    if (m.$Collection === true) {
      return tag('EntitySet', [['Name', member], ['EntityType', str(m.$Type)], ['IncludeInServiceDocument', literal(m.$IncludeInServiceDocument)]],
        [...bindings(m), ...annotations(ctx, m)]);
    }
    return tag('Singleton', [['Name', member], ['Type', str(m.$Type)], ['Nullable', m.$Nullable === true ? 'true' : undefined]],
      [...bindings(m), ...annotations(ctx, m)]);
  });
  // The container's own annotations must precede its children (edm.xsd TEntityContainer).
  return tag('EntityContainer', [['Name', name], ['Extends', str(c.$Extends)]], [...annotations(ctx, c), ...children]);
}

function schemaElement(ctx: Ctx, name: string, el: unknown): string[] {
  if (Array.isArray(el)) return el.filter(isJsonObject).flatMap((o) => operation(ctx, String(o.$Kind), name, o));
  if (!isJsonObject(el)) return [];
  switch (el.$Kind) {
    case 'EntityType': case 'ComplexType': return structuredType(ctx, el.$Kind, name, el);
    case 'EnumType': return enumType(ctx, name, el);
    case 'EntityContainer': return entityContainer(ctx, name, el);
    case 'TypeDefinition':
      return tag('TypeDefinition', [['Name', name], ['UnderlyingType', str(el.$UnderlyingType)], ...facets(el)], annotations(ctx, el));
    case 'Term':
      return tag('Term', [['Name', name], ['Type', typeAttr(el)], ['BaseTerm', str(el.$BaseTerm)], nullable(el), ...facets(el),
        ['DefaultValue', literal(el.$DefaultValue)], ['AppliesTo', Array.isArray(el.$AppliesTo) ? el.$AppliesTo.join(' ') : undefined]],
      annotations(ctx, el));
    default: throw new Error(`${name}: unsupported CSDL element kind ${String(el.$Kind)}`);
  }
}

function schema(ctx: Ctx, namespace: string, s: Json): string[] {
  const external = Object.entries(isJsonObject(s.$Annotations) ? s.$Annotations : {}).flatMap(([target, a]) =>
    (isJsonObject(a) ? tag('Annotations', [['Target', target]], annotations(ctx, a)) : []));
  const elements = members(s).flatMap(([name, el]) => schemaElement(ctx, name, el));
  return tag('Schema', [['xmlns', EDM_NS], ['Namespace', namespace], ['Alias', str(s.$Alias)]], [...annotations(ctx, s), ...elements, ...external]);
}

function reference(ctx: Ctx, uri: string, ref: Json): string[] {
  const includes = (Array.isArray(ref.$Include) ? ref.$Include : []).filter(isJsonObject).flatMap((inc) =>
    tag('edmx:Include', [['Namespace', str(inc.$Namespace)], ['Alias', str(inc.$Alias)]], annotations(ctx, inc)));
  const includeAnnotations = (Array.isArray(ref.$IncludeAnnotations) ? ref.$IncludeAnnotations : []).filter(isJsonObject).flatMap((inc) =>
    tag('edmx:IncludeAnnotations', [['TermNamespace', str(inc.$TermNamespace)], ['Qualifier', str(inc.$Qualifier)],
      ['TargetNamespace', str(inc.$TargetNamespace)]]));
  return tag('edmx:Reference', [['Uri', uri]], [...annotations(ctx, ref), ...includes, ...includeAnnotations]);
}

/**
 * Renders a CSDL JSON document (OData CSDL JSON 4.01) as a CSDL XML document (OData CSDL XML 4.01):
 * edmx:Edmx with edmx:Reference/edmx:Include, edmx:DataServices and one edm Schema per namespace.
 * Annotations keep the term names as written (alias or namespace); the references come along.
 */
export function renderCsdlXml(csdl: Readonly<Json>, options: CsdlXmlOptions = {}): string {
  const ctx: Ctx = { aliases: aliasesOf([csdl]), types: { ...valueTypesOf(csdl), ...options.valueTypes } };
  const mapUri = options.referenceUri ?? xmlReferenceUri;
  const refs = Object.entries(isJsonObject(csdl.$Reference) ? csdl.$Reference : {}).flatMap(([uri, ref]) => (isJsonObject(ref) ? reference(ctx, mapUri(uri), ref) : []));
  const schemas = members(csdl as Json).flatMap(([ns, s]) => (isJsonObject(s) ? schema(ctx, ns, s) : []));
  const version = csdl.$Version === '4.01' ? '4.01' : '4.0';
  const root = tag('edmx:Edmx', [['xmlns:edmx', EDMX_NS], ['Version', version]], [...refs, ...tag('edmx:DataServices', [], schemas)]);
  return ['<?xml version="1.0" encoding="utf-8"?>', ...root].join('\n') + '\n';
}
