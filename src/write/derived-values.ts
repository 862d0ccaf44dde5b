/**
 * Values the server maintains, recomputed inside the transaction of every write that changes their
 * inputs: per-row rules (a contact's FullName, a product line's Total) and sums over children (an
 * opportunity's Amount). Rules name entity types and properties; they apply only where the model has them.
 */
import type { EdmEntityType } from '../edm/model';
import type { StoredValue } from './json-values';
import { memoizedByObject } from '../memo';

export type RowValues = ReadonlyMap<string, StoredValue>;

export interface RowRule {
  readonly entityType: string;
  readonly column: string;
  readonly inputs: readonly string[];
  compute(row: RowValues): StoredValue;
}

export interface SumRule {
  readonly parentType: string;
  readonly column: string;
  readonly childType: string;
  /** the child's foreign key to the parent */
  readonly foreignKey: string;
  readonly childColumn: string;
}

/** The server-set timestamps every entity carries (crm-model: Created, Edited). */
export const CREATED = 'Created';
export const EDITED = 'Edited';

const text = (v: StoredValue | undefined): string | null => (typeof v === 'string' && v.trim() !== '' ? v : null);
const num = (v: StoredValue | undefined): number => (typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : 0);
/** Decimal(19,4) arithmetic in JS doubles: round to the column's scale so both engines store the same value. */
const scale4 = (x: number): number => Math.round(x * 10_000) / 10_000;

export const ROW_RULES: readonly RowRule[] = [
  {
    entityType: 'Crm.Contact', column: 'FullName', inputs: ['FirstName', 'LastName'],
    compute: (row) => [text(row.get('FirstName')), text(row.get('LastName'))].filter((s) => s !== null).join(' ') || null,
  },
  {
    entityType: 'Crm.OpportunityProduct', column: 'Total', inputs: ['Quantity', 'Price', 'Discount'],
    compute: (row) => scale4(num(row.get('Quantity')) * num(row.get('Price')) * (1 - num(row.get('Discount')) / 100)),
  },
];

export const SUM_RULES: readonly SumRule[] = [
  { parentType: 'Crm.Opportunity', column: 'Amount', childType: 'Crm.OpportunityProduct', foreignKey: 'OpportunityId', childColumn: 'Total' },
];

const hasColumn = (type: EdmEntityType, column: string) => type.properties.some((p) => p.name === column);

/** The row rules that apply to a type (found once per type object, i.e. per model version). */
export const rowRulesFor: (type: EdmEntityType) => readonly RowRule[] = memoizedByObject((type: EdmEntityType) =>
  ROW_RULES.filter((r) => r.entityType === type.qualifiedName && hasColumn(type, r.column) && r.inputs.every((i) => hasColumn(type, i))));

/** Sum rules in which rows of `type` are the children. */
export const sumRulesOverChildren: (type: EdmEntityType) => readonly SumRule[] = memoizedByObject((type: EdmEntityType) =>
  SUM_RULES.filter((r) => r.childType === type.qualifiedName && hasColumn(type, r.foreignKey) && hasColumn(type, r.childColumn)));

/** Applies the row rules to a full row (current values merged with the changes); returns the derived columns. */
export function deriveRow(type: EdmEntityType, row: RowValues): Map<string, StoredValue> {
  const out = new Map<string, StoredValue>();
  for (const rule of rowRulesFor(type)) out.set(rule.column, rule.compute(row));
  return out;
}
