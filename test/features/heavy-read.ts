/**
 * A read that runs far longer than any test's statement budget, for the no-stall tests: contacts
 * sharing groups with contacts sharing groups with… four times over, the innermost condition tying
 * four of the range variables together. PostgreSQL decorrelates it into hash joins and is quick for
 * one contact, but runs for hours over all of them; SQLite walks nested loops and takes about 30 s for
 * a single contact (bounded, so a service that blocked on it would fail a test, not hang it).
 */
import type { EngineTarget } from '../helpers/engines';
import { enc } from './support';

const SHARED_GROUPS = 'Groups/any(g:g/Contacts/any(a:a/Groups/any(h:h/Contacts/any(b:b/Groups/any(k:k/Contacts/any(c:c/Groups/any(m:m/Contacts/any('
  + 'd:d/FirstName eq $it/LastName and d/LastName eq c/FirstName and a/FirstName ne d/FirstName and b/LastName ne c/LastName))))))))';

export function heavyRead(engine: EngineTarget, contactId: string): string {
  const filter = engine.name === 'sqlite' ? `Id eq ${contactId} and ${SHARED_GROUPS}` : SHARED_GROUPS;
  return `/Contacts?$select=Id&$filter=${enc(filter)}`;
}
