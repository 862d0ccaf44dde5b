/**
 * The JSON batch format (OData JSON Format 4.01 §19): `{"requests":[…]}` in, `{"responses":[…]}`
 * out. Requests of one atomicity group must be adjacent and become one change set; ids are unique
 * across requests and groups; `dependsOn` names earlier requests or groups only.
 */
import { isJsonObject, type JsonObject } from '../json';
import { ODataError } from '../errors/odata-error';
import type { BatchAnswers, BatchItem, BatchLimits, BatchPart, PartResponse } from './batch-types';
import { ByteChunks } from './byte-chunks';
import type { ChunkedBody } from '../http/api-request';

type Json = JsonObject;

const METHODS = new Set(['GET', 'POST', 'PATCH', 'PUT', 'DELETE']);

function invalid(message: string): ODataError {
  return new ODataError('INVALID_BATCH', message, { target: 'requests' });
}


export function parseJsonBatch(body: unknown, limits: BatchLimits): BatchItem[] {
  if (!isJsonObject(body) || !Array.isArray(body.requests)) throw invalid('A JSON batch is an object with a "requests" array');
  const requests = body.requests as unknown[];
  if (requests.length > limits.maxParts) throw new ODataError('LIMIT_EXCEEDED', `A batch may hold at most ${limits.maxParts} requests (ODATA_BATCH_MAX_PARTS); this one has ${requests.length}`, { target: 'requests' });
  const items: BatchItem[] = [];
  const seen = new Set<string>();
  /** every request id so far, in groups or not: ids are unique across the batch */
  const usedIds = new Set<string>();
  const closedGroups = new Set<string>();
  let open: { id: string; parts: BatchPart[]; partIds: Set<string> } | undefined;
  const closeGroup = () => {
    if (!open) return;
    items.push({ kind: 'changeset', id: open.id, parts: open.parts });
    closedGroups.add(open.id);
    seen.add(open.id);
    open = undefined;
  };
  requests.forEach((raw, index) => {
    const at = `request ${index + 1}`;
    if (!isJsonObject(raw)) throw invalid(`${at}: not an object`);
    const id = raw.id;
    if (typeof id !== 'string' || id === '') throw invalid(`${at}: "id" must be a non-empty string`);
    if (usedIds.has(id) || seen.has(id) || open?.id === id) throw invalid(`${at}: the id "${id}" is used twice`);
    usedIds.add(id);
    const method = typeof raw.method === 'string' ? raw.method.toUpperCase() : '';
    if (!METHODS.has(method)) throw invalid(`${at}: "method" must be one of get, post, patch, put, delete`);
    if (typeof raw.url !== 'string' || raw.url === '') throw invalid(`${at}: "url" must be a non-empty string`);
    const dependsOn = raw.dependsOn;
    if (dependsOn !== undefined && (!Array.isArray(dependsOn) || dependsOn.some((d) => typeof d !== 'string'))) throw invalid(`${at}: "dependsOn" must be an array of ids`);
    const group = raw.atomicityGroup;
    if (group !== undefined && (typeof group !== 'string' || group === '')) throw invalid(`${at}: "atomicityGroup" must be a non-empty string`);
    for (const d of (dependsOn as string[] | undefined) ?? []) {
      const known = seen.has(d) || (open !== undefined && (open.id === d || open.partIds.has(d)));
      if (!known) throw invalid(`${at}: dependsOn "${d}" names no earlier request or atomicity group`);
    }
    const headers = headersOf(raw.headers, at);
    const body = bodyOf(raw, headers);
    // JSON Format §19.1: a body without a content-type header is JSON.
    if (body !== undefined && headers['content-type'] === undefined) headers['content-type'] = 'application/json';
    // spelled out: `{ …, ...body, more }` takes V8's slow path, per part of a thousand-part batch
    const part: BatchPart = { id, method, url: raw.url, headers, body: body?.body, json: body?.json, dependsOn: dependsOn as string[] | undefined };
    if (group === undefined) {
      closeGroup();
      items.push({ kind: 'request', part });
      seen.add(id);
      return;
    }
    if (open && open.id !== group) closeGroup();
    if (!open) {
      if (closedGroups.has(group) || seen.has(group)) throw invalid(`${at}: the requests of atomicity group "${group}" must be adjacent (and a group id may not repeat a request id)`);
      open = { id: group, parts: [], partIds: new Set() };
    }
    if (method === 'GET') throw invalid(`${at}: a GET cannot be part of atomicity group "${group}"`);
    open.parts.push(part);
    open.partIds.add(id);
  });
  closeGroup();
  return items;
}

function headersOf(raw: unknown, at: string): Record<string, string> {
  if (raw === undefined) return {};
  if (!isJsonObject(raw)) throw invalid(`${at}: "headers" must be an object`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== 'string') throw invalid(`${at}: header ${k} must be a string`);
    out[k.toLowerCase()] = v;
  }
  return out;
}

/**
 * A JSON body stays the value parsed with the batch (for a JSON content type); a string body for
 * another type (e.g. text/plain) is its text; any other value is sent as its JSON text.
 */
function bodyOf(raw: Json, headers: Readonly<Record<string, string>>): Pick<BatchPart, 'body' | 'json'> | undefined {
  if (!('body' in raw) || raw.body === undefined) return undefined;
  const type = headers['content-type'] ?? 'application/json';
  if (/json/i.test(type)) return { json: { value: raw.body } };
  if (typeof raw.body === 'string') return { body: Buffer.from(raw.body, 'utf8') };
  return { body: Buffer.from(JSON.stringify(raw.body), 'utf8') };
}

/** One response object; a JSON body (written by this service) is spliced in as it is, not parsed again. */
function addResponseJson(out: ByteChunks, r: PartResponse, atomicityGroup = r.atomicityGroup): void {
  let head = r.id === undefined ? `{"status":${r.status}` : `{"id":${JSON.stringify(r.id)},"status":${r.status}`;
  if (atomicityGroup !== undefined) head += `,"atomicityGroup":${JSON.stringify(atomicityGroup)}`;
  let headers = '';
  let type = '';
  for (const name in r.headers) {
    const value = r.headers[name];
    const header = headerMember(name, value);
    if (header.lowerName === 'content-type') type = value;
    headers += headers === '' ? header.text : `,${header.text}`;
  }
  head += `,"headers":{${headers}}`;
  if (r.body === undefined || r.body.length === 0) {
    out.add(`${head}}`);
    return;
  }
  const text = typeof r.body === 'string' ? r.body : r.body.toString('utf8');
  // one piece: each piece added is a native UTF-8 write
  out.add(`${head},"body":${/json/i.test(type) ? text : JSON.stringify(text)}}`);
}

interface HeaderMember {
  readonly lowerName: string;
  readonly quotedName: string;
  /** the value last written under this name, and the member's text with it */
  value: string;
  text: string;
}

/**
 * A header as a JSON member (`"name":"value"`, the name in lower case). Names come from a small set; most
 * values repeat from one answer to the next (OData-Version, Content-Type), so the last one is kept per name.
 */
function headerMember(name: string, value: string): HeaderMember {
  let member = headerMembers.get(name);
  if (member === undefined) {
    const lowerName = name.toLowerCase();
    const quotedName = JSON.stringify(lowerName);
    member = { lowerName, quotedName, value, text: `${quotedName}:${JSON.stringify(value)}` };
    if (headerMembers.size < 1000) headerMembers.set(name, member);
    return member;
  }
  if (member.value !== value) {
    member.value = value;
    member.text = `${member.quotedName}:${JSON.stringify(value)}`;
  }
  return member;
}

const headerMembers = new Map<string, HeaderMember>();

/** Writes a JSON batch answer (`{"responses":[…]}`) as the answers come; `finish` gives its bytes. */
export class JsonBatchWriter implements BatchAnswers {
  private readonly out = new ByteChunks();
  private written = 0;
  private group: { id: string; start: number; written: number } | undefined;

  constructor() {
    this.out.add('{"responses":[');
  }

  response(response: PartResponse): void {
    this.add(response, response.atomicityGroup);
  }

  openChangeSet(id: string): void {
    this.group = { id, start: this.out.length, written: this.written };
  }

  member(response: PartResponse): void {
    this.add(response, this.group?.id);
  }

  closeChangeSet(): void {
    this.group = undefined;
  }

  dropChangeSet(): void {
    if (this.group) {
      this.out.truncate(this.group.start);
      this.written = this.group.written;
    }
    this.group = undefined;
  }

  /** The answer's text, made a chunk at a time as it is written. */
  finish(): ChunkedBody {
    this.out.add(']}');
    return { chunks: this.out.texts() };
  }

  private add(response: PartResponse, atomicityGroup: string | undefined): void {
    if (this.written++ > 0) this.out.add(',');
    addResponseJson(this.out, response, atomicityGroup);
  }
}
