/**
 * A batch answer's bytes as they are made, in 64 KB chunks outside the JavaScript heap, reused from
 * one answer to the next. A change set's thousand answers were a thousand objects and strings that
 * outlived several young-generation collections and were promoted (about 2 MB per 1000-part change
 * set; 0.9 MB since); held in fresh buffers instead, they piled up as 27-40 MB of dead array buffers
 * between full collections (ten concurrent 1000-part change sets). Can be cut back to an earlier
 * length: a change set that rolls back drops its members' answers.
 */

const CHUNK_BYTES = 64 * 1024;
/** the most UTF-8 bytes one UTF-16 code unit can take */
const MAX_BYTES_PER_UNIT = 3;
/** chunks kept for the next answer: a 1000-part change set's answers take about twelve */
const MAX_SPARE_CHUNKS = 32;
const spareChunks: Buffer[] = [];

function takeChunk(atLeast: number): Buffer {
  if (atLeast <= CHUNK_BYTES) return spareChunks.pop() ?? Buffer.allocUnsafe(CHUNK_BYTES);
  return Buffer.allocUnsafe(atLeast);
}

function giveBack(chunk: Buffer): void {
  if (chunk.length === CHUNK_BYTES && spareChunks.length < MAX_SPARE_CHUNKS) spareChunks.push(chunk);
}

export class ByteChunks {
  /** filled chunks, and how many bytes of each are used */
  private readonly full: Buffer[] = [];
  private readonly fullUsed: number[] = [];
  private fullBytes = 0;
  private current: Buffer | undefined;
  private used = 0;

  /** bytes written so far */
  get length(): number {
    return this.fullBytes + this.used;
  }

  add(piece: string | Buffer): void {
    if (typeof piece === 'string') this.addText(piece);
    else this.addBytes(piece);
  }

  private room(): number {
    return this.current === undefined ? 0 : this.current.length - this.used;
  }

  private addText(text: string): void {
    if (text.length * MAX_BYTES_PER_UNIT > this.room()) {
      const bytes = Buffer.byteLength(text, 'utf8');
      if (bytes > this.room()) this.nextChunk(bytes);
    }
    this.used += this.current!.write(text, this.used, 'utf8');
  }

  private addBytes(bytes: Buffer): void {
    if (bytes.length > this.room()) this.nextChunk(bytes.length);
    this.used += bytes.copy(this.current!, this.used);
  }

  private nextChunk(atLeast: number): void {
    if (this.current !== undefined) {
      this.full.push(this.current);
      this.fullUsed.push(this.used);
      this.fullBytes += this.used;
    }
    this.current = takeChunk(atLeast);
    this.used = 0;
  }

  /** Drops everything written after the first `length` bytes. */
  truncate(length: number): void {
    if (length >= this.length) return;
    while (length < this.fullBytes) {
      if (this.current !== undefined) giveBack(this.current);
      this.current = this.full.pop()!;
      this.used = this.fullUsed.pop()!;
      this.fullBytes -= this.used;
    }
    this.used = length - this.fullBytes;
  }

  /**
   * The bytes as UTF-8 text, a chunk at a time, each chunk given to the next answer once it is
   * decoded: a thousand answers leave as a dozen short-lived 64 KB strings, no buffer of the whole
   * answer is made. Only for text (a piece never straddles two chunks, so no character is split);
   * nothing may be added after.
   */
  *texts(): Generator<string> {
    const { full, fullUsed } = this;
    if (this.current !== undefined) {
      full.push(this.current);
      fullUsed.push(this.used);
      this.current = undefined;
    }
    for (let i = 0; i < full.length; i++) {
      const text = full[i].toString('utf8', 0, fullUsed[i]);
      giveBack(full[i]);
      yield text;
    }
    full.length = 0;
    fullUsed.length = 0;
  }

  /** All the bytes, in one buffer of their own; the chunks go to the next answer (nothing may be added after). */
  bytes(): Buffer {
    const pieces = this.full.map((chunk, i) => chunk.subarray(0, this.fullUsed[i]));
    if (this.current !== undefined) pieces.push(this.current.subarray(0, this.used));
    const out = Buffer.concat(pieces, this.length);
    for (const chunk of this.full) giveBack(chunk);
    if (this.current !== undefined) giveBack(this.current);
    this.full.length = 0;
    this.fullUsed.length = 0;
    this.fullBytes = 0;
    this.current = undefined;
    this.used = 0;
    return out;
  }
}
