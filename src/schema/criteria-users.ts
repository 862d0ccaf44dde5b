/**
 * A schema change that removes what a dynamic group's `Criteria` uses (a property, a custom table's
 * navigation) would leave that group unable to follow later writes; such a change is refused (409)
 * naming the groups, before anything is dropped.
 */
import type { Knex } from 'knex';
import type { EdmModel } from '../edm/model';
import { dynamicMembershipSets, tableOf } from '../edm/storage';
import { ODataError } from '../errors/odata-error';
import { planCriteria } from '../plan/criteria';

/** Names of the groups whose Criteria plans on the model served now but not on the next one. */
export async function groupsUsing(trx: Knex.Transaction, current: EdmModel, next: EdmModel): Promise<string[]> {
  const before = dynamicMembershipSets(current);
  const after = dynamicMembershipSets(next);
  if (!before || !after) return [];
  const rows = await trx(tableOf(before.groups)).whereNotNull('Criteria').select('Name', 'Criteria') as { Name: string; Criteria: string }[];
  return rows.filter((g) => g.Criteria.trim() !== '' && 'ok' in planCriteria(current, before.contacts, g.Criteria) && 'problem' in planCriteria(next, after.contacts, g.Criteria)).map((g) => g.Name);
}

/** Throws 409 naming the groups whose Criteria uses what `removed` names (e.g. `Contact.Hobby`, `the table Vehicles`). */
export async function refuseIfCriteriaUse(trx: Knex.Transaction, current: EdmModel, next: EdmModel, removed: string): Promise<void> {
  const users = await groupsUsing(trx, current, next);
  if (users.length === 0) return;
  throw new ODataError('CONFLICT', `${removed} is used by the Criteria of the groups ${users.map((g) => `'${g}'`).join(', ')}; change their Criteria first`, { target: 'Criteria' });
}
