/**
 * export_1m: reads the whole Contacts set through @odata.nextLink with one client, as an export job
 * would, and reports rows/s and the server's peak resident memory (sampled every 100 ms, and VmHWM; also with
 * pages shared between its processes counted once, as the change sets' memory check counts them).
 */
import { sampleRss, sampleShares } from './load';
import type { ChildServer } from './processes';
import type { ExportResult } from './report';

export async function runExport(server: ChildServer, firstPath: string): Promise<ExportResult> {
  const sampler = sampleRss(server);
  const shares = sampleShares(server);
  const started = process.hrtime.bigint();
  let url: string | undefined = `${server.root}/${firstPath}`;
  let rows = 0;
  let pages = 0;
  try {
    while (url) {
      // fetch asks for gzip by default; the floor never compresses, so both are asked for the same bytes
      const res = await fetch(url, { headers: { 'Accept-Encoding': 'identity' } });
      if (!res.ok) throw new Error(`${server.name}: GET ${url} answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
      const body = (await res.json()) as { value?: unknown[]; '@odata.nextLink'?: string };
      rows += body.value?.length ?? 0;
      pages += 1;
      url = body['@odata.nextLink'];
    }
  } finally {
    sampler.stop();
  }
  const { own: peakOwnBytes, mainRss: peakMainRssBytes } = shares.stop();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const peakRssBytes = Math.max(sampler.stop(), server.peakRss());
  return { server: server.name, rows, pages, seconds, rowsPerSecond: rows / seconds, peakRssBytes, peakOwnBytes, peakMainRssBytes };
}
