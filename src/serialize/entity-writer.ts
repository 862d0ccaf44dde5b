/**
 * Turns row trees into OData JSON entities. The writer for one read shape is built once per request
 * (SelectedProperty list × expands × format) and then applied to every row.
 */
import { keyPropertyOf } from '../edm/lookup';
import type { EdmEntitySet, EdmModel, EdmProperty, PrimitiveTypeName } from '../edm/model';
import { metadataEtagOf } from '../edm/schema-change';
import { keyPartsOf } from '../plan/keys';
import type { ExpandPlan, ReadPlan, SelectedProperty } from '../plan/plan';
import type { Dialect } from '../sql/dialect/dialect';
import type { RowNode } from '../sql/execute';
import { etagOf } from './etag';
import { writeDynamic } from './dynamic-properties';
import { canonicalDateTimeOffset, decimalJson, type JsonFormat } from './format';

/** Writes one entity; `into` holds members that come first (an entity answer's @odata.context). */
export type EntityWriter = (node: RowNode, into?: Record<string, unknown>) => Record<string, unknown>;

export interface WriterContext {
  readonly dialect: Dialect;
  readonly format: JsonFormat;
  readonly serviceRoot: string;
  readonly namespace: string;
  /** the `$metadata` ETag of the model the request runs on; full-metadata payloads carry it as @odata.metadataEtag */
  readonly metadataEtag?: string;
  /** `Prefer: omit-values=nulls`: null properties are left out (otherwise every selected property is written) */
  readonly omitNulls?: boolean;
}

/** How one request's answers about `model` are written: its negotiated format, its service root, its null preference. */
export function writerContextOf(dialect: Dialect, model: EdmModel, serviceRoot: string, format: JsonFormat, omitNulls: boolean): WriterContext {
  return { dialect, format, serviceRoot, namespace: model.namespace, metadataEtag: metadataEtagOf(model), omitNulls };
}

/** JSON Format §7.1: types that JSON cannot imply carry @odata.type in full metadata. */
const IMPLIED: ReadonlySet<PrimitiveTypeName> = new Set(['Edm.String', 'Edm.Boolean', 'Edm.Double', 'Edm.Int32']);

export function primitiveValue(ctx: WriterContext, property: SelectedProperty & { kind: 'primitive' }, value: unknown): unknown {
  const p = property.property;
  if (value === null || value === undefined) return p.collection ? [] : null;
  if (p.collection) {
    const list = typeof value === 'string' ? (JSON.parse(value) as unknown[]) : (value as unknown[]);
    return list;
  }
  switch (p.type.kind) {
    case 'enum': return p.type.type.memberByValue.get(Number(value)) ?? String(value);
    case 'primitive': {
      const v = ctx.dialect.read(value, p.type.name);
      switch (p.type.name) {
        case 'Edm.Decimal': case 'Edm.Int64': return typeof v === 'string' ? decimalJson(v, ctx.format) : v;
        case 'Edm.DateTimeOffset': return typeof v === 'string' ? canonicalDateTimeOffset(v) : v;
        // JSON Format §7.1; padded base64, as ODataLib (Power Query) writes and reads it
        case 'Edm.Binary': return Buffer.isBuffer(v) ? v.toString('base64') : v;
        default: return v;
      }
    }
    case 'complex': return value;
  }
}

function writeProperties(ctx: WriterContext, props: readonly SelectedProperty[], row: Record<string, unknown>, out: Record<string, unknown>): void {
  for (const p of props) {
    if (p.kind === 'primitive') {
      const value = primitiveValue(ctx, p, row[p.column]);
      if (value === null && ctx.omitNulls) continue;
      if (ctx.format.metadata === 'full') {
        const t = p.property.type;
        const name = t.kind === 'primitive' ? t.name : t.kind === 'enum' ? t.type.qualifiedName : '';
        if (p.property.collection) out[`${p.name}@odata.type`] = `#Collection(${name.replace(/^Edm\./, '')})`;
        else if (t.kind === 'enum' || (t.kind === 'primitive' && !IMPLIED.has(t.name))) out[`${p.name}@odata.type`] = `#${name.replace(/^Edm\./, '')}`;
      }
      out[p.name] = value;
    } else if (p.property.nullable && isNullComplex(p, row)) {
      if (!ctx.omitNulls) out[p.name] = null;
    } else {
      const inner: Record<string, unknown> = {};
      if (ctx.format.metadata === 'full' && p.property.type.kind === 'complex') inner['@odata.type'] = `#${p.property.type.type.qualifiedName}`;
      writeProperties(ctx, p.members, row, inner);
      out[p.name] = inner;
    }
  }
}

/** A stored complex value is null when all its indicator columns are (edm/complex-null). */
function isNullComplex(p: SelectedProperty & { kind: 'complex' }, row: Record<string, unknown>): boolean {
  for (const column of p.indicatorColumns) {
    const v = row[column];
    if (v !== null && v !== undefined) return false;
  }
  return true;
}

export function entityId(set: EdmEntitySet, row: Record<string, unknown>): string {
  const type = set.entityType;
  if (type.key.length > 1) return `${set.name}(${keyPartsOf(type).map((part) => `${part.property.name}=${keyText(part.property, row[part.column])}`).join(',')})`;
  return `${set.name}(${keyText(keyPropertyOf(set), row[type.key[0]])})`;
}

/** A key value as URL text: strings quoted, then percent-encoded except `,` and `'`. */
function keyText(key: EdmProperty, v: unknown): string {
  const text = key.type.kind === 'primitive' && key.type.name === 'Edm.String' ? `'${String(v).replace(/'/g, "''")}'` : String(v);
  return encodeURIComponent(text).replace(/%2C/g, ',').replace(/%27/g, "'");
}

const writers = new WeakMap<WriterContext, WeakMap<ReadPlan, EntityWriter>>();

/**
 * The writer for a context and a read plan, built once per pair: a read prepared once (http/prepared-reads.ts)
 * keeps its context and plan objects, so its requests reuse one writer; a context made for one request
 * takes its writers with it.
 */
export function entityWriterFor(ctx: WriterContext, plan: ReadPlan): EntityWriter {
  let byPlan = writers.get(ctx);
  if (byPlan === undefined) writers.set(ctx, (byPlan = new WeakMap()));
  let write = byPlan.get(plan);
  if (write === undefined) byPlan.set(plan, (write = buildEntityWriter(ctx, plan)));
  return write;
}

export function buildEntityWriter(ctx: WriterContext, plan: ReadPlan): EntityWriter {
  const dynamic = plan.dynamic ?? [];
  if (plan.aggregated) {
    // aggregated rows are not entities of the set: no id, no ETag, only their dynamic properties
    return (node, into) => {
      const out: Record<string, unknown> = into ?? {};
      if (ctx.format.metadata === 'full') out['@odata.id'] = null;
      writeDynamic(ctx, dynamic, node.row, out);
      return out;
    };
  }
  const expandWriters = plan.expand.map((e) => ({ e, write: e.refOnly ? refWriter(ctx, e) : buildEntityWriter(ctx, e.read) }));
  const full = ctx.format.metadata === 'full';
  const typeName = `#${plan.entityType.qualifiedName}`;
  const withEtag = ctx.format.metadata !== 'none' && plan.entitySet.concurrency.length > 0;
  return (node, into) => {
    const out: Record<string, unknown> = into ?? {};
    const idUrl = full ? entityId(plan.entitySet, node.row) : '';
    if (full) {
      out['@odata.type'] = typeName;
      out['@odata.id'] = `${ctx.serviceRoot}/${idUrl}`;
    }
    if (withEtag) out['@odata.etag'] = etagOf(plan.entitySet, node.row, ctx.dialect);
    if (full) out['@odata.editLink'] = idUrl;
    writeProperties(ctx, plan.select, node.row, out);
    if (dynamic.length) writeDynamic(ctx, dynamic, node.row, out);
    for (const { e, write } of expandWriters) {
      if (node.counts.has(e.navigation)) out[`${e.navigation}@odata.count`] = node.counts.get(e.navigation);
      if (e.countOnly) continue;
      const child = node.children.get(e.navigation);
      if (Array.isArray(child)) out[e.navigation] = child.map((c) => write(c));
      else out[e.navigation] = child ? write(child) : null;
    }
    if (full) {
      for (const nav of plan.entityType.navigations) out[`${nav.name}@odata.navigationLink`] = `${idUrl}/${nav.name}`;
    }
    return out;
  };
}

function refWriter(ctx: WriterContext, e: ExpandPlan): EntityWriter {
  return (node) => ({ '@odata.id': `${ctx.serviceRoot}/${entityId(e.read.entitySet, node.row)}` });
}
