/**
 * Builds the JSON body of a read from its plan and result: collections (with @odata.count and
 * @odata.nextLink), single entities, properties and references. The context URL comes from the plan.
 */
import type { Plan, ReadPlan } from '../plan/plan';
import type { ReadResult } from '../sql/execute';
import { buildEntityWriter, entityId, type WriterContext } from './entity-writer';

type ReadPlanOf = Plan & { kind: 'read' };

export function collectionBody(ctx: WriterContext, plan: ReadPlanOf, result: ReadResult, nextLink: string | undefined): Record<string, unknown> {
  const write = buildEntityWriter(ctx, plan.read);
  const out: Record<string, unknown> = {};
  if (ctx.format.metadata !== 'none') out['@odata.context'] = `${ctx.serviceRoot}/${plan.contextUrl}`;
  if (result.count !== undefined) out['@odata.count'] = ctx.format.ieee754 ? String(result.count) : result.count;
  out.value = result.nodes.map(write);
  if (nextLink) out['@odata.nextLink'] = nextLink;
  return out;
}

export function entityBody(ctx: WriterContext, plan: ReadPlanOf, result: ReadResult): Record<string, unknown> | null {
  const node = result.nodes[0];
  if (!node) return null;
  const entity = buildEntityWriter(ctx, plan.read)(node);
  return ctx.format.metadata !== 'none' ? { '@odata.context': `${ctx.serviceRoot}/${plan.contextUrl}`, ...entity } : entity;
}

export function referencesBody(ctx: WriterContext, plan: ReadPlanOf, result: ReadResult, single: boolean, nextLink: string | undefined): Record<string, unknown> | null {
  const ref = (row: Record<string, unknown>) => ({ '@odata.id': `${ctx.serviceRoot}/${entityId(plan.read.entitySet, row)}` });
  const context = { '@odata.context': `${ctx.serviceRoot}/${plan.contextUrl}` };
  if (single) return result.nodes[0] ? { ...context, ...ref(result.nodes[0].row) } : null;
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
  const entity = buildEntityWriter({ ...ctx, format: { ...ctx.format, metadata: 'minimal' } }, read)(node);
  let value: unknown = entity;
  for (const step of path) value = value === null ? null : (value as Record<string, unknown>)[step.name];
  return value ?? null;
}

export function propertyBody(ctx: WriterContext, plan: ReadPlanOf, value: unknown, complex: boolean): Record<string, unknown> {
  const context = ctx.format.metadata !== 'none' ? { '@odata.context': `${ctx.serviceRoot}/${plan.contextUrl}` } : {};
  if (complex && value !== null && typeof value === 'object' && !Array.isArray(value)) return { ...context, ...(value as Record<string, unknown>) };
  return { ...context, value };
}
