/** Request bytes as they arrive, never more than a limit: the one place the body size is enforced. */
import { ODataError } from '../errors/odata-error';

export async function* boundedChunks(source: AsyncIterable<Buffer> | Iterable<Buffer>, limit: number): AsyncGenerator<Buffer> {
  let size = 0;
  for await (const chunk of source) {
    size += chunk.length;
    if (size > limit) throw new ODataError('PAYLOAD_TOO_LARGE', `The body is larger than ${limit} bytes (ODATA_MAX_BODY_BYTES)`);
    yield chunk;
  }
}

export async function collectBounded(source: AsyncIterable<Buffer> | Iterable<Buffer>, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of boundedChunks(source, limit)) chunks.push(chunk);
  return Buffer.concat(chunks);
}
