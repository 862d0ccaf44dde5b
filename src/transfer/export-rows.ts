/**
 * Streams an entity set out as CSV, JSON or NDJSON: pages are read one after another through the
 * service's own handler (same URL parser, planner, record access and `$filter`/`$select` syntax),
 * following `@odata.nextLink`, so no more than one page is ever held in memory.
 */
import { stringify } from 'csv-stringify/sync';
import type { EdmEntitySet } from '../edm/model';
import { entityCells, exportHeaders, headerPaths } from './columns';
import { getJson, splitLink, type ServiceCaller } from './service-calls';

export type ExportFormat = 'csv' | 'json' | 'ndjson';

export const EXPORT_FORMATS: readonly ExportFormat[] = ['csv', 'json', 'ndjson'];

export interface ExportOptions {
  readonly set: string;
  readonly format: ExportFormat;
  /** `$filter` expression, as in a URL (not percent-encoded) */
  readonly filter?: string;
  /** `$select` property names */
  readonly select?: readonly string[];
  /** rows per page read from the service */
  readonly pageSize?: number;
}

export const CONTENT_TYPES: Readonly<Record<ExportFormat, string>> = {
  csv: 'text/csv; charset=utf-8', json: 'application/json', ndjson: 'application/x-ndjson',
};

/** The entity set named (exactly, or else ignoring case), or undefined. */
export function findEntitySet(target: ServiceCaller, name: string): EdmEntitySet | undefined {
  const sets = target.services.model().entitySets;
  return sets.get(name) ?? [...sets.values()].find((s) => s.name.toLowerCase() === name.toLowerCase());
}

/** The export's text, piece by piece; the first request is made (and can fail) before the first piece. */
export async function* exportText(target: ServiceCaller, options: ExportOptions): AsyncGenerator<string> {
  const set = findEntitySet(target, options.set);
  if (!set) throw new Error(`'${options.set}' is no entity set of this service`);
  const headers = exportHeaders(set.entityType, options.select);
  const paths = headerPaths(headers);
  const topLevel = [...new Set(paths.map((p) => p[0]))];
  const query = [`$select=${topLevel.join(',')}`];
  if (options.filter !== undefined && options.filter !== '') query.push(`$filter=${encodeURIComponent(options.filter)}`);
  const prefer = `odata.maxpagesize=${options.pageSize ?? 2000}`;
  let page = await getJson(target, set.name, query.join('&'), prefer);
  let first = true;
  if (options.format === 'csv') yield stringify([headers]);
  if (options.format === 'json') yield '[';
  for (;;) {
    if (options.format === 'csv') {
      if (page.value.length > 0) yield stringify(page.value.map((e) => entityCells(paths, e)));
    } else {
      const lines = page.value.map((e) => JSON.stringify(withoutAnnotations(e)));
      if (options.format === 'ndjson') {
        if (lines.length > 0) yield lines.join('\n') + '\n';
      } else if (lines.length > 0) {
        yield (first ? '\n' : ',\n') + lines.join(',\n');
        first = false;
      }
    }
    if (!page.nextLink) break;
    const next = splitLink(page.nextLink, target.serviceRoot);
    page = await getJson(target, next.path, next.query, prefer);
  }
  if (options.format === 'json') yield '\n]\n';
}

function withoutAnnotations(entity: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(entity)) if (!k.includes('@')) out[k] = v;
  return out;
}
