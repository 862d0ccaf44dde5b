/**
 * Values the server maintains, recomputed inside the transaction of every write that changes their
 * inputs: per-row rules (a contact's FullName, a product line's Total) and sums over children (an
 * opportunity's Amount). Rules name entity types and properties; they apply only where the model has them.
 */
import type { EdmEntityType } from '../edm/model';
import type { StoredValue } from './json-values';
import { memoizedByObject } from '../memo';
import { decimalOf, divideDecimal, formatDecimal, multiplyDecimal, roundDecimal, subtractDecimal, type Decimal } from '../decimal';

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
/** who created and who last changed a record: the caller of the request that wrote it */
export const CREATED_BY = 'CreatedById';
export const EDITED_BY = 'EditedById';

const text = (v: StoredValue | undefined): string | null => (typeof v === 'string' && v.trim() !== '' ? v : null);
const decimal = (v: StoredValue | undefined): Decimal => (typeof v === 'number' || typeof v === 'string' ? decimalOf(v) ?? ZERO : ZERO);
const ZERO: Decimal = { units: 0n, scale: 0 };
const HUNDRED: Decimal = { units: 100n, scale: 0 };

/** Quantity × Price × (1 − Discount/100), exact, rounded to Total's scale (4) as numeric(19,4) would round it. */
function lineTotal(row: RowValues): string {
  const gross = multiplyDecimal(decimal(row.get('Quantity')), decimal(row.get('Price')));
  const net = multiplyDecimal(gross, subtractDecimal(HUNDRED, decimal(row.get('Discount'))));
  // ÷ 100 is a shift of two decimal places: exact at two more digits than the operands carry.
  const exact = divideDecimal(net, HUNDRED, net.scale + 2);
  return formatDecimal(roundDecimal(exact, 4, 'half-away-from-zero'));
}

export const ROW_RULES: readonly RowRule[] = [
  {
    entityType: 'Crm.Contact', column: 'FullName', inputs: ['FirstName', 'LastName'],
    compute: (row) => [text(row.get('FirstName')), text(row.get('LastName'))].filter((s) => s !== null).join(' ') || null,
  },
  {
    entityType: 'Crm.OpportunityProduct', column: 'Total', inputs: ['Quantity', 'Price', 'Discount'],
    compute: lineTotal,
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
