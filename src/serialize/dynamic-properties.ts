/**
 * Writes dynamic properties (`$compute`, `$apply` group keys and aggregates) into an entity: each value
 * read by its static type (exact decimals, enum member names, Int64 per IEEE754Compatible), nested
 * under its path (`"Stage":{"Name":…}`), or in a one-element collection for an aggregate over a
 * collection navigation (`"Products":[{"Sum":…}]`).
 */
import type { DynamicProperty, ValueType } from '../plan/plan';
import type { Row } from '../sql/execute';
import { decimalJson } from './format';
import type { WriterContext } from './entity-writer';

export function dynamicValue(ctx: WriterContext, type: ValueType, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (type.kind) {
    case 'null': return value;
    case 'enum': return type.type.memberByValue.get(Number(value)) ?? String(value);
    case 'primitive': {
      const v = ctx.dialect.read(typeof value === 'bigint' ? value.toString() : value, type.name);
      // Int64 as Decimal: exact digits (a count or a sum read as text stays exact)
      if ((type.name === 'Edm.Decimal' || type.name === 'Edm.Int64') && typeof v === 'string') return decimalJson(v, ctx.format);
      if (type.name === 'Edm.Int64' && typeof v === 'number') return ctx.format.ieee754 ? String(v) : v;
      return v;
    }
  }
}

/** JSON Format §7.1: the types JSON implies; others carry `@odata.type` in full metadata. */
const IMPLIED = new Set(['Edm.String', 'Edm.Boolean', 'Edm.Double', 'Edm.Int32']);

export function writeDynamic(ctx: WriterContext, props: readonly DynamicProperty[], row: Row, out: Record<string, unknown>): void {
  for (const p of props) {
    const value = dynamicValue(ctx, p.type, row[p.column]);
    // Prefer: omit-values=nulls leaves null dynamic properties out too
    if (value === null && ctx.omitNulls) continue;
    let target = out;
    for (let i = 0; i < p.path.length - 1; i++) {
      const name = p.path[i];
      if (p.inCollection && i === 0) {
        const list = (out[name] ??= [{}]) as Record<string, unknown>[];
        target = list[0];
        continue;
      }
      const next = target[name];
      target = (next !== null && typeof next === 'object' ? next : (target[name] = {})) as Record<string, unknown>;
    }
    const leaf = p.path[p.path.length - 1];
    if (ctx.format.metadata === 'full' && p.type.kind !== 'null') {
      const name = p.type.kind === 'enum' ? p.type.type.qualifiedName : p.type.name;
      if (p.type.kind === 'enum' || !IMPLIED.has(name)) target[`${leaf}@odata.type`] = `#${name.replace(/^Edm\./, '')}`;
    }
    target[leaf] = value;
  }
}
