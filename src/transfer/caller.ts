/** The user an import or export runs as: a named, active user, or the bootstrap Administrator. */
import { AuthStore } from '../auth/auth-store';
import { bootstrapAdministratorId } from '../auth/bootstrap';
import type { Services } from '../http/handle';
import type { RequestUser } from '../plan/request-context';

export async function callerNamed(services: Services, userName: string | undefined): Promise<RequestUser> {
  const store = new AuthStore(services.knex, services.dialect);
  let user;
  if (userName === undefined) {
    const id = await bootstrapAdministratorId(services.knex);
    if (id === undefined) throw new Error('the database has no bootstrap Administrator yet: pass --user');
    user = await store.userById(id);
  } else {
    user = await store.userByName(userName);
    if (!user) throw new Error(`no user named '${userName}'`);
  }
  if (!user || !user.active) throw new Error(`the user '${user?.userName ?? userName}' is not active`);
  return { id: user.id, role: user.role, teamIds: await store.teamIdsOf(user.id), scopes: ['data'] };
}
