/**
 * When a complex value, stored flattened into its members' columns (see storage.ts), is null: when
 * every single-valued member column is null (nested complex members included). Collection members
 * are left out of the test: they are JSON text where null and `[]` both read as an empty collection,
 * and a computed collection (Recurrence/ClearedDates) starts as `[]` when the value is created. A
 * type with no single-valued member falls back to all its columns. Reads (serializer, `$filter`
 * `eq null`) and writes (which keep non-null values complete) share this one rule.
 */
import type { EdmComplexType, EdmProperty } from './model';
import { columnOf } from './storage';

export interface IndicatorColumn {
  readonly column: string;
  readonly property: EdmProperty;
}

export function nullIndicators(type: EdmComplexType, path: readonly string[]): readonly IndicatorColumn[] {
  const scalar = memberColumns(type, path, false);
  return scalar.length > 0 ? scalar : memberColumns(type, path, true);
}

export function nullIndicatorColumns(type: EdmComplexType, path: readonly string[]): readonly string[] {
  return nullIndicators(type, path).map((c) => c.column);
}

function memberColumns(type: EdmComplexType, path: readonly string[], withCollections: boolean): IndicatorColumn[] {
  const out: IndicatorColumn[] = [];
  for (const p of type.properties) {
    const inner = [...path, p.name];
    if (isSingleComplex(p)) out.push(...memberColumns(p.type.type, inner, withCollections));
    else if (withCollections || !p.collection) out.push({ column: columnOf(inner, p), property: p });
  }
  return out;
}

export function isSingleComplex(p: EdmProperty): p is EdmProperty & { readonly type: { readonly kind: 'complex'; readonly type: EdmComplexType } } {
  return p.type.kind === 'complex' && !p.collection;
}
