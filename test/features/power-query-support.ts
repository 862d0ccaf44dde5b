/**
 * A stand-in for Power Query's OData.Feed (Implementation 2.0) on the wire, and a payload checker as
 * strict as ODataLib's reader: the request headers it sends, query values escaped as .NET's
 * Uri.EscapeDataString does, gzip/deflate accepted, and every JSON answer checked for a context URL
 * first and absolute, declared properties only, nullability and the JSON form of each type.
 */
import http from 'node:http';
import zlib from 'node:zlib';
import { findAll, parseXml, type XmlNode } from '../helpers/csdl-validate';
import { checkContextUrl, type ContextModel } from '../helpers/context-url-grammar';

export const POWER_QUERY_ACCEPT = 'application/json;odata.metadata=minimal;q=1.0,application/json;odata=minimalmetadata;q=0.9,'
  + 'application/atomsvc+xml;q=0.8,application/atom+xml;q=0.8,application/xml;q=0.7,text/plain;q=0.7';

export const POWER_QUERY_HEADERS: Readonly<Record<string, string>> = {
  Accept: POWER_QUERY_ACCEPT, 'OData-MaxVersion': '4.0', MaxDataServiceVersion: '3.0', 'Accept-Encoding': 'gzip, deflate',
};

/** .NET's Uri.EscapeDataString: every character but the RFC 3986 unreserved ones percent-encoded (UTF-8). */
export function escapeDataString(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** `<root><path>?$a=<escaped>&…` as Power Query writes a folded query. */
export function feedUrl(root: string, path: string, options: Readonly<Record<string, string>> = {}): string {
  const query = Object.entries(options).map(([name, value]) => `${name}=${escapeDataString(value)}`).join('&');
  return query ? `${root}${path}?${query}` : `${root}${path}`;
}

export interface WireResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  /** the body, decompressed */
  readonly text: string;
  /** bytes on the wire */
  readonly wireBytes: number;
}

/** One request as Power Query sends it (its headers, Basic credentials), the body decompressed as it would. */
export function send(url: string, authorization: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<WireResponse> {
  return new Promise((resolve, reject) => {
    const headers = Object.assign({}, POWER_QUERY_HEADERS, { Authorization: authorization }, options.headers);
    const req = http.request(url, { method: options.method ?? 'GET', headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (b: Buffer) => parts.push(b));
      res.on('error', reject);
      res.on('end', () => {
        const bytes = Buffer.concat(parts);
        const coding = res.headers['content-encoding'];
        const body = coding === 'gzip' ? zlib.gunzipSync(bytes) : coding === 'deflate' ? zlib.inflateSync(bytes) : bytes;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text: body.toString('utf8'), wireBytes: bytes.length });
      });
    });
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

// ---- the model, read from $metadata (CSDL XML) as Power Query reads it -----------------------------

export interface Member {
  readonly kind: 'property' | 'navigation';
  readonly type: string;
  readonly collection: boolean;
  readonly nullable: boolean;
}

export interface FeedModel {
  readonly types: ReadonlyMap<string, ReadonlyMap<string, Member>>;
  readonly enums: ReadonlyMap<string, ReadonlySet<string>>;
  readonly entitySets: ReadonlyMap<string, string>;
  readonly singletons: ReadonlyMap<string, string>;
  readonly filterFunctions: readonly string[];
  readonly applySupported: boolean;
  readonly context: ContextModel;
}

export function feedModel(xml: string): FeedModel {
  const tree = parseXml(xml);
  const types = new Map<string, Map<string, Member>>();
  const enums = new Map<string, Set<string>>();
  for (const schema of findAll(tree, 'Schema')) {
    const ns = schema.attrs.Namespace;
    for (const t of schema.children.filter((c) => c.name === 'EntityType' || c.name === 'ComplexType')) {
      const members = new Map<string, Member>();
      for (const m of t.children.filter((c) => c.name === 'Property' || c.name === 'NavigationProperty')) {
        const collection = m.attrs.Type.startsWith('Collection(');
        members.set(m.attrs.Name, {
          kind: m.name === 'Property' ? 'property' : 'navigation',
          type: collection ? m.attrs.Type.slice('Collection('.length, -1) : m.attrs.Type,
          collection,
          // CSDL §7.2.1: Nullable absent means true (a collection navigation is never null)
          nullable: m.attrs.Nullable !== 'false',
        });
      }
      types.set(`${ns}.${t.attrs.Name}`, members);
    }
    for (const e of schema.children.filter((c) => c.name === 'EnumType')) {
      enums.set(`${ns}.${e.attrs.Name}`, new Set(e.children.filter((c) => c.name === 'Member').map((c) => c.attrs.Name)));
    }
  }
  const container = findAll(tree, 'EntityContainer')[0];
  const entitySets = new Map(container.children.filter((c) => c.name === 'EntitySet').map((s) => [s.attrs.Name, s.attrs.EntityType] as const));
  const singletons = new Map(container.children.filter((c) => c.name === 'Singleton').map((s) => [s.attrs.Name, s.attrs.Type] as const));
  const annotation = (node: XmlNode, term: string) => node.children.find((c) => c.name === 'Annotation' && c.attrs.Term === term);
  const functions = annotation(container, 'Org.OData.Capabilities.V1.FilterFunctions');
  const applyOn = (node: XmlNode) => annotation(node, 'Org.OData.Aggregation.V1.ApplySupported') !== undefined;
  const context: ContextModel = {
    entitySets: new Map([...entitySets, ...singletons]),
    types: new Map([...types].map(([name, members]) => [name, new Map([...members].map(([n, m]) => [n, { kind: m.kind, type: m.type, collection: m.collection }]))])),
  };
  return {
    types, enums, entitySets, singletons, context,
    filterFunctions: functions ? findAll(functions, 'String').map((s) => s.text) : [],
    applySupported: applyOn(container) || container.children.some((c) => c.name === 'EntitySet' && applyOn(c)),
  };
}

// ---- the payload checks ---------------------------------------------------------------------------

const FORMATS: Readonly<Record<string, (v: unknown) => boolean>> = {
  'Edm.String': (v) => typeof v === 'string',
  'Edm.Boolean': (v) => typeof v === 'boolean',
  'Edm.Guid': (v) => typeof v === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v),
  'Edm.Byte': (v) => Number.isInteger(v), 'Edm.SByte': (v) => Number.isInteger(v), 'Edm.Int16': (v) => Number.isInteger(v),
  'Edm.Int32': (v) => Number.isInteger(v), 'Edm.Int64': (v) => Number.isInteger(v),
  'Edm.Decimal': (v) => typeof v === 'number', 'Edm.Double': (v) => typeof v === 'number', 'Edm.Single': (v) => typeof v === 'number',
  'Edm.Date': (v) => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v),
  'Edm.DateTimeOffset': (v) => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?(Z|[+-]\d{2}:\d{2})$/.test(v),
  'Edm.TimeOfDay': (v) => typeof v === 'string' && /^\d{2}:\d{2}:\d{2}(\.\d{1,12})?$/.test(v),
  'Edm.Duration': (v) => typeof v === 'string' && /^-?P/.test(v),
  'Edm.Binary': (v) => typeof v === 'string' && /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(v),
};

/** Instance annotations a minimal-metadata entity may carry. */
const ENTITY_ANNOTATIONS: ReadonlySet<string> = new Set(['@odata.etag']);

export class PayloadChecker {
  readonly problems: string[] = [];
  constructor(private readonly model: FeedModel, private readonly root: string) {}

  private problem(where: string, what: string): void {
    if (this.problems.length < 50) this.problems.push(`${where}: ${what}`);
  }

  /**
   * A JSON answer: `@odata.context` is the first member and absolute, its fragment parses against the
   * model (unless `dynamic` names the properties an aggregation adds), `@odata.nextLink` is absolute.
   * Returns the parsed body.
   */
  document(where: string, text: string, options: { dynamic?: readonly string[]; serviceDocument?: boolean } = {}): Record<string, unknown> {
    const prefix = options.serviceDocument ? `{"@odata.context":"${this.root}/$metadata","value":[` : `{"@odata.context":"${this.root}/$metadata#`;
    if (!text.startsWith(prefix)) this.problem(where, `does not start with ${prefix}: ${text.slice(0, 80)}`);
    const body = JSON.parse(text) as Record<string, unknown>;
    const context = String(body['@odata.context']);
    if (options.dynamic === undefined && !options.serviceDocument) {
      const check = checkContextUrl(context, this.root, this.model.context);
      if (!check.ok) this.problem(where, `context ${context}: ${check.reason} at ${check.at}`);
    }
    const next = body['@odata.nextLink'];
    if (next !== undefined && !(typeof next === 'string' && next.startsWith(`${this.root}/`))) this.problem(where, `nextLink not absolute: ${String(next)}`);
    if ('@odata.count' in body) this.problem(where, '@odata.count without $count');
    return body;
  }

  /** One entity of `typeName`, every member declared (or one of `dynamic`), nulls only where nullable. */
  entity(where: string, entity: unknown, typeName: string, dynamic: readonly string[] = [], top = false): void {
    if (typeof entity !== 'object' || entity === null || Array.isArray(entity)) return this.problem(where, `not an object: ${JSON.stringify(entity)}`);
    const members = this.model.types.get(typeName);
    if (!members) return this.problem(where, `unknown type ${typeName}`);
    for (const [name, value] of Object.entries(entity as Record<string, unknown>)) {
      if (name.startsWith('@')) {
        if (!ENTITY_ANNOTATIONS.has(name) && !(top && name === '@odata.context')) this.problem(where, `annotation ${name}`);
        continue;
      }
      if (name.includes('@')) {
        this.problem(where, `property annotation ${name}`);
        continue;
      }
      const member = members.get(name);
      if (!member) {
        if (!dynamic.includes(name)) this.problem(where, `${name} is not declared on ${typeName}`);
        continue;
      }
      this.value(`${where}/${name}`, value, member);
    }
  }

  private value(where: string, value: unknown, member: Member): void {
    if (member.collection) {
      if (!Array.isArray(value)) return this.problem(where, `expected an array, got ${JSON.stringify(value)}`);
      for (const [i, item] of value.entries()) this.single(`${where}[${i}]`, item, member);
      return;
    }
    this.single(where, value, member);
  }

  private single(where: string, value: unknown, member: Member): void {
    if (value === null) {
      if (!member.nullable || member.collection) this.problem(where, 'null in a non-nullable property');
      return;
    }
    if (this.model.types.has(member.type)) return this.entity(where, value, member.type);
    const members = this.model.enums.get(member.type);
    if (members) {
      if (!(typeof value === 'string' && members.has(value))) this.problem(where, `${JSON.stringify(value)} is not a member of ${member.type}`);
      return;
    }
    const format = FORMATS[member.type];
    if (!format) return this.problem(where, `no check for ${member.type}`);
    if (!format(value)) this.problem(where, `${JSON.stringify(value)} is not an ${member.type} value`);
  }
}

/**
 * JSON text with every number turned into a string of its digits, so aggregates can be compared
 * exactly. Only for answers whose string values hold no `:`/`,`/`[` followed by digits and a closer.
 */
export function parseLossless(text: string): unknown {
  return JSON.parse(text.replace(/([:,[])(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)(?=[,\]}])/g, '$1"$2"'));
}
