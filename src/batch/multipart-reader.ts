/**
 * Reader for multipart/mixed `$batch` requests (OData 4.01 Protocol §11.7, RFC 2046), push-based:
 * bytes arrive in chunks of any size (a delimiter may be split across chunks). A BoundarySplitter
 * finds the delimiters of one multipart level and hands each part's bytes to its Level, which gives
 * them to a PartReader: MIME headers, then an HTTP request (kept up to the part size limit, parsed
 * when the part ends) or a change set (a nested splitter fed as bytes arrive). Limits are checked as
 * bytes arrive. Errors say where: `part 3`, or `part 2.1` for the first member of the change set in part 2.
 */
import { ODataError } from '../errors/odata-error';
import type { BatchItem, BatchLimits, BatchPart } from './batch-types';

const [LF, CR, SP, HT, DASH] = [0x0a, 0x0d, 0x20, 0x09, 0x2d];
/** RFC 7230 token: header names and methods */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) HTTP\/1\.1$/;
const ENCODINGS = new Set(['binary', '7bit', '8bit']);
const MAX_PADDING = 1024; // longest whitespace allowed after a delimiter, before its line break

const invalid = (message: string): ODataError => new ODataError('INVALID_BATCH', message);
const tooMany = (message: string): ODataError => new ODataError('LIMIT_EXCEEDED', message);
/** A line for an error message, cut when long. */
const clip = (text: string): string => (text.length > 80 ? `${text.slice(0, 80)}…` : text);

/** Text of one line without its line break (CRLF or LF). */
function lineText(bytes: Buffer): string {
  return textBetween(bytes, 0, bytes.length);
}

/** Text of bytes [start, end) of buf, a CR before `end` left out (decoded in place: no Buffer view is made). */
function textBetween(buf: Buffer, start: number, end: number): string {
  return buf.toString('utf8', start, end > start && buf[end - 1] === CR ? end - 1 : end);
}

/** `type/subtype; name=value; name="quoted value"`: lower-case type and parameter names. */
function parseMediaType(value: string): { type: string; params: Map<string, string> } {
  const semi = value.indexOf(';');
  const type = (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase();
  const params = new Map<string, string>();
  if (semi >= 0) {
    for (const m of value.slice(semi).matchAll(/;\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)/g)) {
      const raw = m[2].trim();
      params.set(m[1].toLowerCase(), raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw);
    }
  }
  return { type, params };
}

/** The boundary of a `multipart/mixed` Content-Type; `where` starts the error messages. */
function boundaryOf(contentType: string, where: string): string {
  const media = parseMediaType(contentType);
  if (media.type !== 'multipart/mixed') throw invalid(`${where}: Content-Type must be multipart/mixed, not '${clip(contentType)}'`);
  const boundary = media.params.get('boundary');
  if (!boundary) throw invalid(`${where}: Content-Type '${clip(contentType)}' has no boundary parameter`);
  return boundary;
}

/** Receives the parts of one multipart level, in order: start, data..., end for each. */
interface PartSink { start(): void; data(chunk: Buffer): void; end(): void }

/**
 * After `\n--boundary` at `pos`: the index after the delimiter line, `close` for `--boundary--`,
 * `incomplete` when more bytes are needed, `not` when the text only starts like a delimiter.
 */
function delimiterLineEnd(buf: Buffer, pos: number): number | 'close' | 'incomplete' | 'not' {
  if (buf[pos] === DASH) {
    if (pos + 1 >= buf.length) return 'incomplete';
    return buf[pos + 1] === DASH ? 'close' : 'not';
  }
  let i = pos;
  while (i < buf.length && (buf[i] === SP || buf[i] === HT)) i++;
  if (i >= buf.length) return 'incomplete';
  if (buf[i] === LF) return i + 1;
  if (buf[i] !== CR) return 'not';
  if (i + 1 >= buf.length) return 'incomplete';
  return buf[i + 1] === LF ? i + 2 : 'not';
}

/** Finds the delimiters of one multipart level; the preamble and the epilogue are dropped. */
class BoundarySplitter {
  private readonly pattern: Buffer;
  /** bytes not yet passed on: at most a possible start of a delimiter (a virtual line break at first) */
  private buf: Buffer = Buffer.from('\n');
  private state: 'preamble' | 'part' | 'closed' = 'preamble';
  /** `what` names the level in messages: `the batch body`, `part 2: the change set`. */
  constructor(private readonly boundary: string, private readonly sink: PartSink, private readonly what: string) {
    // the line break before a delimiter belongs to it; a CR before the LF is dropped in step()
    this.pattern = Buffer.from(`\n--${boundary}`, 'utf8');
  }

  write(chunk: Buffer): void {
    if (this.state === 'closed') return;
    this.buf = this.buf.length > 0 ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.step()); // one delimiter handled per step
  }

  end(): void {
    if (this.state === 'preamble') throw invalid(`${this.what} contains no delimiter '--${this.boundary}'`);
    if (this.state === 'part') throw invalid(`${this.what} ends without the close delimiter '--${this.boundary}--'`);
  }

  /** Handles the next delimiter in buf; false when more input is needed or the level is closed. */
  private step(): boolean {
    if (this.state === 'closed') return false;
    const buf = this.buf;
    const at = buf.indexOf(this.pattern);
    if (at < 0) {
      this.pass(buf.length - this.pattern.length);
      return false;
    }
    const dataEnd = at > 0 && buf[at - 1] === CR ? at - 1 : at;
    const after = at + this.pattern.length;
    const lineEnd = delimiterLineEnd(buf, after);
    if (lineEnd === 'not') {
      this.pass(after);
      return true;
    }
    if (lineEnd === 'incomplete') {
      if (buf.length - after > MAX_PADDING) throw invalid(`${this.what}: a delimiter line '--${this.boundary}' is too long`);
      this.pass(dataEnd);
      return false;
    }
    this.emit(buf.subarray(0, dataEnd));
    if (this.state === 'part') this.sink.end();
    this.state = lineEnd === 'close' ? 'closed' : 'part';
    this.buf = lineEnd === 'close' ? Buffer.alloc(0) : buf.subarray(lineEnd);
    if (this.state === 'part') this.sink.start();
    return this.state === 'part';
  }

  /** Passes the first n bytes on and keeps the rest. */
  private pass(n: number): void {
    if (n <= 0) return;
    this.emit(this.buf.subarray(0, n));
    this.buf = this.buf.subarray(n);
  }
  private emit(data: Buffer): void {
    if (this.state === 'part' && data.length > 0) this.sink.data(data);
  }
}

/** Header fields (MIME part headers or request headers), lower-case names; repeated ones are joined. */
class Fields {
  readonly map = new Map<string, string>();
  private last: string | undefined;
  constructor(private readonly where: string, private readonly kind: 'part' | 'request') {}

  add(line: string): void {
    if ((line.startsWith(' ') || line.startsWith('\t')) && this.last !== undefined) {
      this.map.set(this.last, `${this.map.get(this.last) ?? ''} ${line.trim()}`);
      return;
    }
    const colon = line.indexOf(':');
    if (colon <= 0 || !TOKEN.test(line.slice(0, colon))) {
      const [what, next] = this.kind === 'part' ? ['part header', 'part headers from the HTTP request'] : ['request header', 'request headers from the body'];
      throw invalid(`${this.where}: '${clip(line)}' is not a ${what}; a blank line must separate the ${next}`);
    }
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    const before = this.map.get(name);
    this.map.set(name, before === undefined ? value : `${before}, ${value}`);
    this.last = name;
  }
}

/** Reads MIME part headers as they arrive, up to the blank line. */
class HeaderReader {
  readonly fields: Fields;
  private pending: Buffer[] = [];
  constructor(private readonly where: string) {
    this.fields = new Fields(where, 'part');
  }

  /** Takes bytes; returns the bytes after the blank line once it has been seen. */
  push(chunk: Buffer): Buffer | undefined {
    let start = 0;
    for (let lf = chunk.indexOf(LF); lf >= 0; lf = chunk.indexOf(LF, start)) {
      const line = this.pending.length === 0 ? textBetween(chunk, start, lf) : lineText(Buffer.concat([...this.pending, chunk.subarray(start, lf)]));
      this.pending = [];
      start = lf + 1;
      if (line === '') return chunk.subarray(start);
      this.fields.add(line);
    }
    if (start < chunk.length) this.pending.push(chunk.subarray(start));
    return undefined;
  }

  /** The part ended before the blank line: always an error. */
  fail(): never {
    const last = lineText(Buffer.concat(this.pending));
    if (last !== '') this.fields.add(last);
    if (this.fields.map.size === 0) throw invalid(`${this.where}: the part is empty`);
    throw invalid(`${this.where}: the part headers are not followed by a blank line and an HTTP request`);
  }
}

/** The line starting at `pos` of a complete buffer, and where the next one starts. */
function lineAt(buf: Buffer, pos: number): [string, number] | undefined {
  if (pos >= buf.length) return undefined;
  const lf = buf.indexOf(LF, pos);
  return lf < 0 ? [textBetween(buf, pos, buf.length), buf.length] : [textBetween(buf, pos, lf), lf + 1];
}

/** The HTTP request of an application/http part: request line, headers, blank line, body. */
function parseRequest(message: Buffer, where: string, id: string | undefined): BatchPart {
  let line = lineAt(message, 0);
  if (line === undefined) throw invalid(`${where}: the part has no HTTP request`);
  const m = REQUEST_LINE.exec(line[0]);
  if (!m) throw invalid(`${where}: invalid request line '${clip(line[0])}', expected 'METHOD URL HTTP/1.1'`);
  const headers = new Fields(where, 'request');
  let body: Buffer | undefined;
  for (line = lineAt(message, line[1]); line !== undefined; line = lineAt(message, line[1])) {
    if (line[0] === '') {
      body = message.subarray(line[1]);
      break;
    }
    headers.add(line[0]);
  }
  const fields: Record<string, string> = {};
  for (const [name, value] of headers.map) fields[name] = value;
  const part: { id?: string; method: string; url: string; headers: Record<string, string>; body?: Buffer } = { method: m[1].toUpperCase(), url: m[2], headers: fields };
  if (id !== undefined) part.id = id;
  if (body !== undefined && body.length > 0) part.body = body;
  return part;
}

/** State shared by all levels of one batch: the limits and the requests seen so far. */
interface Context { readonly limits: BatchLimits; requests: number }

/** A change set part: a nested multipart level, read as its bytes arrive. */
interface ChangeSet { readonly boundary: string; readonly level: Level; readonly splitter: BoundarySplitter }

/** One part of a level: MIME headers, then an HTTP request (kept until the part ends) or a change set. */
class PartReader {
  private readonly head: HeaderReader;
  private opened = false;
  private id: string | undefined;
  private readonly request: Buffer[] = [];
  private changeSet: ChangeSet | undefined;
  /** bytes of the part so far (not counted for a change set: its members are) */
  private bytes = 0;
  constructor(private readonly ctx: Context, private readonly where: string, private readonly inChangeSet: boolean) {
    this.head = new HeaderReader(where);
  }

  data(chunk: Buffer): void {
    if (this.changeSet) return this.changeSet.splitter.write(chunk);
    if (this.opened) {
      this.count(chunk.length);
      this.request.push(chunk);
      return;
    }
    const rest = this.head.push(chunk);
    this.count(chunk.length - (rest?.length ?? 0));
    if (rest === undefined) return;
    this.open();
    if (rest.length > 0) this.data(rest);
  }

  finish(): BatchItem {
    if (!this.opened) return this.head.fail();
    if (!this.changeSet) return { kind: 'request', part: parseRequest(this.request.length === 1 ? this.request[0] : Buffer.concat(this.request), this.where, this.id) };
    const { boundary, level, splitter } = this.changeSet;
    splitter.end();
    const parts = level.items.flatMap((item) => (item.kind === 'request' ? [item.part] : []));
    if (parts.length === 0) throw invalid(`${this.where}: the change set has no parts`);
    return { kind: 'changeset', id: boundary, parts };
  }

  private count(n: number): void {
    this.bytes += n;
    const max = this.ctx.limits.maxPartBytes;
    if (this.bytes > max) throw tooMany(`${this.where}: the part is larger than ${max} bytes (ODATA_BATCH_MAX_PART_BYTES)`);
  }

  /** Decides from the MIME headers what the part holds. */
  private open(): void {
    this.opened = true;
    const fields = this.head.fields.map;
    const encoding = fields.get('content-transfer-encoding');
    if (encoding !== undefined && !ENCODINGS.has(encoding.toLowerCase())) {
      throw invalid(`${this.where}: Content-Transfer-Encoding '${clip(encoding)}' is not supported (use binary, 7bit or 8bit)`);
    }
    const contentType = fields.get('content-type');
    if (contentType === undefined) throw invalid(`${this.where}: the part has no Content-Type (expected application/http or multipart/mixed)`);
    const type = parseMediaType(contentType).type;
    if (type === 'application/http') {
      this.countRequest();
      this.id = fields.get('content-id') || undefined;
    } else if (type === 'multipart/mixed') {
      if (this.inChangeSet) throw invalid(`${this.where}: a change set cannot contain another change set`);
      const boundary = boundaryOf(contentType, this.where);
      const level = new Level(this.ctx, this.where);
      this.changeSet = { boundary, level, splitter: new BoundarySplitter(boundary, level, `${this.where}: the change set`) };
    } else {
      throw invalid(`${this.where}: part Content-Type '${clip(contentType)}' is not supported (expected application/http or multipart/mixed)`);
    }
  }

  private countRequest(): void {
    this.ctx.requests += 1;
    const max = this.ctx.limits.maxParts;
    if (this.ctx.requests > max) throw tooMany(`${this.where}: the batch has more than ${max} parts (ODATA_BATCH_MAX_PARTS)`);
  }
}

/** The parts of one level: the batch, or a change set (then `changeSet` names its part). */
class Level implements PartSink {
  readonly items: BatchItem[] = [];
  private readonly ids = new Set<string>();
  private current: PartReader | undefined;
  private where = '';
  constructor(private readonly ctx: Context, private readonly changeSet?: string) {}

  start(): void {
    const n = this.items.length + 1;
    this.where = this.changeSet === undefined ? `part ${n}` : `${this.changeSet}.${n}`;
    this.current = new PartReader(this.ctx, this.where, this.changeSet !== undefined);
  }

  data(chunk: Buffer): void {
    this.current?.data(chunk);
  }
  end(): void {
    const item = this.current?.finish();
    if (item === undefined) return;
    if (this.changeSet !== undefined && item.kind === 'request') this.checkMember(item.part);
    this.items.push(item);
    this.current = undefined;
  }

  private checkMember(part: BatchPart): void {
    if (part.method === 'GET' || part.method === 'HEAD') {
      throw invalid(`${this.where}: ${part.method} is not allowed in a change set (only changes and actions)`);
    }
    if (part.id === undefined) return;
    if (this.ids.has(part.id)) throw invalid(`${this.where}: Content-ID '${clip(part.id)}' is used twice in the change set`);
    this.ids.add(part.id);
  }
}

/** Streaming reader of a multipart/mixed batch: write() the body in chunks, then end(). */
export class MultipartBatchReader {
  private readonly level: Level;
  private readonly splitter: BoundarySplitter;
  private error: unknown;
  constructor(contentType: string, limits: BatchLimits) {
    const boundary = boundaryOf(contentType, 'the batch');
    this.level = new Level({ limits, requests: 0 });
    this.splitter = new BoundarySplitter(boundary, this.level, 'the batch body');
  }

  write(chunk: Buffer): void {
    this.guard(() => this.splitter.write(chunk));
  }
  end(): BatchItem[] {
    this.guard(() => this.splitter.end());
    return this.level.items;
  }

  /** Runs one step; after a failure every later call throws the same error. */
  private guard(step: () => void): void {
    if (this.error !== undefined) throw this.error;
    try {
      step();
    } catch (err) {
      this.error = err;
      throw err;
    }
  }
}

/** Reads a complete multipart/mixed batch body. */
export function parseMultipartBatch(contentType: string, body: Buffer, limits: BatchLimits): BatchItem[] {
  const reader = new MultipartBatchReader(contentType, limits);
  reader.write(body);
  return reader.end();
}
