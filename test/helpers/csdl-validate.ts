/** Checks $metadata against the OASIS CSDL schemas and vocabularies kept in conformance/oasis (see its SOURCES.md). */
import fs from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import type { ValidateFunction } from 'ajv';
import { validateXML } from 'xmllint-wasm';

type Json = Record<string, unknown>;

export const OASIS_CONFORMANCE = path.resolve(__dirname, '../../conformance/oasis');
const SCHEMAS = path.join(OASIS_CONFORMANCE, 'csdl-schemas');
const VOCABULARIES = path.join(OASIS_CONFORMANCE, 'vocabularies');

export function readConformance(relative: string): string {
  return fs.readFileSync(path.join(OASIS_CONFORMANCE, relative), 'utf8');
}

/** Validates a CSDL XML document against edmx.xsd (which imports edm.xsd by that file name). */
export async function validateCsdlXml(xml: string): Promise<{ valid: boolean; errors: string[] }> {
  const result = await validateXML({
    xml: [{ fileName: 'metadata.xml', contents: xml }],
    schema: [{ fileName: 'edmx.xsd', contents: fs.readFileSync(path.join(SCHEMAS, 'edmx.xsd'), 'utf8') }],
    preload: [{ fileName: 'edm.xsd', contents: fs.readFileSync(path.join(SCHEMAS, 'edm.xsd'), 'utf8') }],
  });
  return { valid: result.valid, errors: result.errors.map((e) => e.rawMessage) };
}

let jsonValidator: ValidateFunction | undefined;

/** Validates a CSDL JSON document against csdl.schema.json (a draft-07 schema, run by ajv's 2020 build). */
export function validateCsdlJson(json: string | Json): { valid: boolean; errors: string[] } {
  if (!jsonValidator) {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const draft07 = require.resolve('ajv/dist/refs/json-schema-draft-07.json');
    ajv.addMetaSchema(JSON.parse(fs.readFileSync(draft07, 'utf8')) as Json);
    jsonValidator = ajv.compile(JSON.parse(fs.readFileSync(path.join(SCHEMAS, 'csdl.schema.json'), 'utf8')) as Json);
  }
  const doc: unknown = typeof json === 'string' ? JSON.parse(json) : json;
  const valid = jsonValidator(doc);
  return { valid, errors: (jsonValidator.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`) };
}

// ---- vocabularies ------------------------------------------------------------------------------

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The OASIS vocabulary files in CSDL JSON, keyed by namespace (Org.OData.Core.V1, ...). */
export function loadVocabularies(): Map<string, Json> {
  const out = new Map<string, Json>();
  for (const file of fs.readdirSync(VOCABULARIES).filter((f) => f.endsWith('.json'))) {
    const doc = JSON.parse(fs.readFileSync(path.join(VOCABULARIES, file), 'utf8')) as Json;
    for (const ns of Object.keys(doc).filter((k) => !k.startsWith('$'))) out.set(ns, doc);
  }
  return out;
}

function aliasMap(docs: Iterable<Json>): Map<string, string> {
  const aliases = new Map<string, string>();
  for (const doc of docs) {
    for (const ref of Object.values(isObject(doc.$Reference) ? doc.$Reference : {})) {
      for (const inc of isObject(ref) && Array.isArray(ref.$Include) ? ref.$Include : []) {
        if (isObject(inc) && typeof inc.$Alias === 'string') aliases.set(inc.$Alias, String(inc.$Namespace));
      }
    }
    for (const [ns, s] of Object.entries(doc)) if (isObject(s) && typeof s.$Alias === 'string') aliases.set(s.$Alias, ns);
  }
  return aliases;
}

/**
 * Checks every annotation in `doc`: its term is in a namespace the document references, exists in
 * that vocabulary, applies to the annotated element's kind, and its value has the term's shape.
 * Returns one message per problem (empty when all is well).
 */
export function checkAnnotations(doc: Json, referencedVocabularies: Map<string, Json>): string[] {
  const errors: string[] = [];
  // terms the document declares itself (Crm.PicklistId, Crm.IsEmailAddress) are checked like referenced ones
  const ownNamespaces = Object.keys(doc).filter((k) => !k.startsWith('$') && isObject(doc[k]));
  const vocabularies = new Map(referencedVocabularies);
  for (const ns of ownNamespaces) vocabularies.set(ns, doc);
  const docAliases = aliasMap([doc]);
  const vocabAliases = aliasMap(vocabularies.values());
  const referenced = new Set([...docAliases.values(), ...ownNamespaces]);
  const qualify = (aliases: Map<string, string>, name: string): string => {
    const dot = name.lastIndexOf('.');
    return dot > 0 && aliases.has(name.slice(0, dot)) ? `${aliases.get(name.slice(0, dot))}${name.slice(dot)}` : name;
  };
  const definition = (qualified: string): Json | undefined => {
    const dot = qualified.lastIndexOf('.');
    const schema = vocabularies.get(qualified.slice(0, dot))?.[qualified.slice(0, dot)];
    const d = isObject(schema) ? schema[qualified.slice(dot + 1)] : undefined;
    return isObject(d) ? d : undefined;
  };
  const properties = (type: string): Map<string, Json> => {
    const d = definition(type);
    const base = d && typeof d.$BaseType === 'string' ? properties(qualify(vocabAliases, d.$BaseType)) : new Map<string, Json>();
    for (const [k, v] of Object.entries(d ?? {})) if (!k.startsWith('$') && !k.includes('@') && isObject(v)) base.set(k, v);
    return base;
  };
  const checkValue = (where: string, value: unknown, typeName: string, collection: boolean): void => {
    if (isObject(value) && Object.keys(value).some((k) => k.startsWith('$'))) return; // a dynamic expression
    if (collection) {
      if (!Array.isArray(value)) errors.push(`${where}: expected a collection`);
      else value.forEach((v, i) => checkValue(`${where}[${i}]`, v, typeName, false));
      return;
    }
    let type = qualify(vocabAliases, typeName);
    for (let d = definition(type); d?.$Kind === 'TypeDefinition'; d = definition(type)) type = qualify(vocabAliases, String(d.$UnderlyingType));
    const d = definition(type);
    const ok = (cond: boolean, what: string): void => { if (!cond) errors.push(`${where}: expected ${what}, got ${JSON.stringify(value)}`); };
    if (type === 'Edm.Boolean') ok(typeof value === 'boolean', 'a boolean');
    else if (['Edm.Int16', 'Edm.Int32', 'Edm.Int64', 'Edm.Byte', 'Edm.SByte'].includes(type)) ok(Number.isInteger(value), 'an integer');
    else if (['Edm.Decimal', 'Edm.Double', 'Edm.Single'].includes(type)) ok(typeof value === 'number' || typeof value === 'string', 'a number');
    else if (type.startsWith('Edm.') && !['Edm.PrimitiveType', 'Edm.Untyped'].includes(type)) ok(typeof value === 'string', `a string (${type})`);
    else if (d?.$Kind === 'EnumType') {
      ok(typeof value === 'string' && value.split(',').every((m) => m.trim() in d && !m.trim().startsWith('$')), `members of ${type}`);
    } else if (d?.$Kind === 'ComplexType') {
      if (!isObject(value)) return ok(false, `a record of ${type}`);
      const props = properties(type);
      for (const [k, v] of Object.entries(value)) {
        if (k.includes('@')) continue;
        const p = props.get(k);
        if (!p) errors.push(`${where}: ${type} has no property ${k}`);
        else checkValue(`${where}/${k}`, v, String(p.$Type ?? 'Edm.String'), p.$Collection === true);
      }
      for (const [k, p] of props) {
        const optional = p.$Nullable === true || p.$Collection === true || '$DefaultValue' in p;
        if (!optional && !(k in value)) errors.push(`${where}: ${type}/${k} is required`);
      }
    } else if (!['Edm.PrimitiveType', 'Edm.Untyped'].includes(type)) errors.push(`${where}: unknown type ${type}`);
  };
  const annotationsOn = (where: string, kind: string, o: Json, prefix = ''): void => {
    for (const [key, value] of Object.entries(o)) {
      if (!key.startsWith(`${prefix}@`)) continue;
      const rest = key.slice(prefix.length + 1);
      if (rest.includes('@')) continue;
      const term = qualify(docAliases, rest.split('#')[0]);
      const ns = term.slice(0, term.lastIndexOf('.'));
      const t = definition(term);
      if (!referenced.has(ns)) errors.push(`${where}: ${term} is not in a referenced vocabulary`);
      if (!t || t.$Kind !== 'Term') { errors.push(`${where}: ${term} is not a term of ${ns}`); continue; }
      const appliesTo = Array.isArray(t.$AppliesTo) ? t.$AppliesTo : undefined;
      if (appliesTo && !appliesTo.includes(kind)) errors.push(`${where}: ${term} does not apply to ${kind}`);
      checkValue(`${where}@${term}`, value, String(t.$Type ?? 'Edm.String'), t.$Collection === true);
    }
  };
  for (const [ns, schema] of Object.entries(doc)) {
    if (ns.startsWith('$') || !isObject(schema)) continue;
    annotationsOn(ns, 'Schema', schema);
    for (const [name, el] of Object.entries(schema)) {
      if (name.startsWith('$') || name.includes('@') || !isObject(el)) continue;
      const kind = String(el.$Kind);
      annotationsOn(`${ns}.${name}`, kind, el);
      for (const [member, m] of Object.entries(el)) {
        if (member.startsWith('$') || member.includes('@')) continue;
        const where = `${ns}.${name}/${member}`;
        if (kind === 'EnumType') annotationsOn(where, 'Member', el, member);
        if (!isObject(m)) continue;
        if (kind === 'EntityType' || kind === 'ComplexType') annotationsOn(where, m.$Kind === 'NavigationProperty' ? 'NavigationProperty' : 'Property', m);
        if (kind === 'EntityContainer') {
          const childKind = m.$Collection === true ? 'EntitySet' : m.$Action ? 'ActionImport' : m.$Function ? 'FunctionImport' : 'Singleton';
          annotationsOn(where, childKind, m);
        }
      }
    }
  }
  return errors;
}

// ---- a minimal XML reader for the renderer's own output ------------------------------------------

export interface XmlNode { name: string; attrs: Record<string, string>; children: XmlNode[]; text: string }

function unescape(s: string): string {
  return s.replace(/&#x([0-9A-Fa-f]+);/g, (_, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** Parses well-formed XML without DTDs, comments or CDATA (what renderCsdlXml writes) into a tree. */
export function parseXml(xml: string): XmlNode {
  const root: XmlNode = { name: '#document', attrs: {}, children: [], text: '' };
  const stack = [root];
  const re = /<\?[^>]*\?>|<(\/?)([\w:.]+)((?:\s+[\w:.]+="[^"]*")*)\s*(\/?)>|([^<]+)/g;
  for (let m = re.exec(xml); m; m = re.exec(xml)) {
    const [, close, name, attrText, selfClose, text] = m;
    const top = stack[stack.length - 1];
    if (text !== undefined) { top.text += unescape(text); continue; }
    if (!name) continue;
    if (close) { if (stack.pop()?.name !== name) throw new Error(`mismatched </${name}>`); continue; }
    const attrs: Record<string, string> = {};
    for (const a of (attrText ?? '').matchAll(/([\w:.]+)="([^"]*)"/g)) attrs[a[1]] = unescape(a[2]);
    const node: XmlNode = { name, attrs, children: [], text: '' };
    top.children.push(node);
    if (!selfClose) stack.push(node);
  }
  if (stack.length !== 1) throw new Error('unclosed elements');
  return root;
}

/** All descendants named `name`, in document order. */
export function findAll(node: XmlNode, name: string): XmlNode[] {
  return node.children.flatMap((c) => [...(c.name === name ? [c] : []), ...findAll(c, name)]);
}
