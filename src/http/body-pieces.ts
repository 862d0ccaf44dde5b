/**
 * Reads a body in pieces one piece ahead, whether its pieces are made on the spot (a collection's
 * JSON) or come in over time (an export's pages): the writer learns whether a body is a single piece
 * (sent whole, with a Content-Length) before it writes the head.
 */
import type { ChunkedBody, StreamedBody } from './api-request';

export class BodyPieces {
  private readonly source: Iterator<string> | AsyncIterator<string>;
  private following: IteratorResult<string> | undefined;

  private constructor(source: Iterator<string> | AsyncIterator<string>) {
    this.source = source;
  }

  /** Starts reading a body: its first piece is made (and can fail) here. */
  static async open(body: ChunkedBody | StreamedBody): Promise<{ pieces: BodyPieces; first: IteratorResult<string> }> {
    const pieces = new BodyPieces('stream' in body ? body.stream[Symbol.asyncIterator]() : body.chunks[Symbol.iterator]());
    const first = await pieces.source.next();
    if (!first.done) pieces.following = await pieces.source.next();
    return { pieces, first };
  }

  /** Whether the piece read before is the last one. */
  get atLastPiece(): boolean {
    return this.following === undefined || this.following.done === true;
  }

  /** The next piece (one was already read ahead of it), reading the one after. */
  async next(): Promise<IteratorResult<string>> {
    const piece = this.following ?? { done: true, value: undefined };
    this.following = piece.done ? piece : await this.source.next();
    return piece;
  }

  /** Stops the source early (a client that went away: an export stops reading pages). */
  async stop(): Promise<void> {
    await this.source.return?.();
  }
}
