/**
 * Builds the JSON body of a read from its plan and result: collections (with @odata.count and
 * @odata.nextLink), single entities, properties and references. The context URL comes from the plan.
 */
import type { Plan, ReadPlan } from '../plan/plan';
import type { ReadResult } from '../sql/execute';
import { buildEntityWriter, entityId, entityWriterFor, type WriterContext } from './entity-writer';
import { unmarkNumbers } from './json-text';

type ReadPlanOf = Plan & { kind: 'read' };

/** Text gathered before a piece of a collection's JSON is handed on. */
const CHUNK_CHARS = 64 * 1024;

/**
 * A collection's JSON text, piece by piece: each entity is built and written in turn, so neither
 * the array of entity objects nor the whole text is ever held at once.
 */
export function* collectionJson(ctx: WriterContext, plan: ReadPlanOf, result: ReadResult, nextLink: string | undefined): Generator<string> {
  const write = entityWriterFor(ctx, plan.read);
  let text = '{';
  if (ctx.format.metadata !== 'none') text += `${JSON.stringify(contextHead(ctx, plan)).slice(1, -1)},`;
  if (result.count !== undefined) text += `"@odata.count":${JSON.stringify(ctx.format.ieee754 ? String(result.count) : result.count)},`;
  text += '"value":[';
  for (let i = 0; i < result.nodes.length; i++) {
    text += (i === 0 ? '' : ',') + JSON.stringify(write(result.nodes[i]));
    if (text.length >= CHUNK_CHARS) {
      yield unmarkNumbers(text);
      text = '';
    }
  }
  text += ']';
  if (nextLink) text += `,"@odata.nextLink":${JSON.stringify(nextLink)}`;
  yield unmarkNumbers(text + '}');
}

/** `@odata.context`, and in full metadata `@odata.metadataEtag` (JSON Format §4.6), the first members of a payload. */
function contextHead(ctx: WriterContext, plan: ReadPlanOf): Record<string, unknown> {
  const head: Record<string, unknown> = { '@odata.context': `${ctx.serviceRoot}/${plan.contextUrl}` };
  if (ctx.format.metadata === 'full' && ctx.metadataEtag) head['@odata.metadataEtag'] = ctx.metadataEtag;
  return head;
}

export function entityBody(ctx: WriterContext, plan: ReadPlanOf, result: ReadResult): Record<string, unknown> | null {
  const node = result.nodes[0];
  if (!node) return null;
  const head = ctx.format.metadata !== 'none' ? contextHead(ctx, plan) : undefined;
  return entityWriterFor(ctx, plan.read)(node, head);
}

export function referencesBody(ctx: WriterContext, plan: ReadPlanOf, result: ReadResult, single: boolean, nextLink: string | undefined): Record<string, unknown> | null {
  const ref = (row: Record<string, unknown>) => ({ '@odata.id': `${ctx.serviceRoot}/${entityId(plan.read.entitySet, row)}` });
  const context = { '@odata.context': `${ctx.serviceRoot}/${plan.contextUrl}` };
  if (single) return result.nodes[0] ? Object.assign(context, ref(result.nodes[0].row)) : null;
  const out: Record<string, unknown> = { ...context };
  if (result.count !== undefined) out['@odata.count'] = result.count;
  out.value = result.nodes.map((n) => ref(n.row));
  if (nextLink) out['@odata.nextLink'] = nextLink;
  return out;
}

/** A property value: `undefined` when the entity does not exist, `null` when the value is null. */
export function propertyValue(ctx: WriterContext, read: ReadPlan, result: ReadResult, path: readonly { name: string }[]): unknown {
  const node = result.nodes[0];
  if (!node) return undefined;
  const entity = buildEntityWriter(Object.assign({}, ctx, { format: Object.assign({}, ctx.format, { metadata: 'minimal' as const }) }), read)(node);
  let value: unknown = entity;
  for (const step of path) value = value === null ? null : (value as Record<string, unknown>)[step.name];
  return value ?? null;
}

export function propertyBody(ctx: WriterContext, plan: ReadPlanOf, value: unknown, complex: boolean): Record<string, unknown> {
  const context = ctx.format.metadata !== 'none' ? contextHead(ctx, plan) : {};
  if (complex && value !== null && typeof value === 'object' && !Array.isArray(value)) return Object.assign(context, value as Record<string, unknown>);
  return Object.assign(context, { value });
}
