/**
 * Values the server maintains, recomputed inside the transaction of every write that changes their
 * inputs: per-row rules (a contact's FullName, a product line's Total) and sums over children (an
 * opportunity's Amount). Which property gets which rule is data: the model's storage mapping
 * (metadata/crm.storage.json, `EdmEntityType.derived`); the kinds of computation are here.
 */
import type { DerivedValueRule, EdmEntityType, EdmSumRule } from '../edm/model';
import type { StoredValue } from './json-values';
import { memoizedByObject } from '../memo';
import { columnOfName } from '../edm/storage';
import { decimalOf, divideDecimal, formatDecimal, multiplyDecimal, roundDecimal, subtractDecimal, type Decimal } from '../decimal';

export type RowValues = ReadonlyMap<string, StoredValue>;

export interface RowRule {
  readonly column: string;
  compute(row: RowValues): StoredValue;
}

export type SumRule = EdmSumRule;

/** The server-set timestamps every entity carries (crm-model: Created, Edited). */
export const CREATED = 'Created';
export const EDITED = 'Edited';
/** who created and who last changed a record: the caller of the request that wrote it */
export const CREATED_BY = 'CreatedById';
export const EDITED_BY = 'EditedById';

const text = (v: StoredValue | undefined): string | null => (typeof v === 'string' && v.trim() !== '' ? v : null);
const decimal = (v: StoredValue | undefined): Decimal => (typeof v === 'number' || typeof v === 'string' ? decimalOf(v) ?? ZERO : ZERO);
const ZERO: Decimal = { units: 0n, scale: 0 };
const HUNDRED: Decimal = { units: 100n, scale: 0 };

/** quantity × price × (1 − discount/100), exact, rounded to `scale` as numeric(p, scale) would round it. */
function lineTotal(row: RowValues, rule: DerivedValueRule & { kind: 'line-total' }): string {
  const gross = multiplyDecimal(decimal(row.get(rule.quantity)), decimal(row.get(rule.price)));
  const net = multiplyDecimal(gross, subtractDecimal(HUNDRED, decimal(row.get(rule.discountPercent))));
  // ÷ 100 is a shift of two decimal places: exact at two more digits than the operands carry.
  const exact = divideDecimal(net, HUNDRED, net.scale + 2);
  return formatDecimal(roundDecimal(exact, rule.scale, 'half-away-from-zero'));
}

/** A rule names properties; the row holds columns (a property's column may be mapped: src/edm/storage.ts). */
function rowRule(rule: DerivedValueRule, type: EdmEntityType): RowRule | undefined {
  const column = (name: string) => columnOfName(type, name);
  switch (rule.kind) {
    case 'join-text': {
      const inputs = rule.inputs.map(column);
      return {
        column: column(rule.property),
        compute: (row) => inputs.map((i) => text(row.get(i))).filter((s) => s !== null).join(rule.separator) || null,
      };
    }
    case 'line-total': {
      const columns = { ...rule, quantity: column(rule.quantity), price: column(rule.price), discountPercent: column(rule.discountPercent) };
      return { column: column(rule.property), compute: (row) => lineTotal(row, columns) };
    }
    // kept up to date from the children's side (sums.ts)
    case 'sum-of-children': return undefined;
  }
}

/** The row rules of a type (built once per type object, i.e. per model version; the model checked their properties). */
export const rowRulesFor: (type: EdmEntityType) => readonly RowRule[] = memoizedByObject((type: EdmEntityType) =>
  (type.derived ?? []).map((rule) => rowRule(rule, type)).filter((r): r is RowRule => r !== undefined));

/** Sum rules in which rows of `type` are the children. */
export function sumRulesOverChildren(type: EdmEntityType): readonly SumRule[] {
  return type.feedsSums ?? [];
}

/** Applies the row rules to a full row (current values merged with the changes); returns the derived columns. */
export function deriveRow(type: EdmEntityType, row: RowValues): ReadonlyMap<string, StoredValue> {
  const rules = rowRulesFor(type);
  if (rules.length === 0) return NOTHING_DERIVED;
  const out = new Map<string, StoredValue>();
  for (const rule of rules) out.set(rule.column, rule.compute(row));
  return out;
}

const NOTHING_DERIVED: ReadonlyMap<string, StoredValue> = new Map();
