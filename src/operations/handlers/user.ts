/**
 * Crm.ChangePassword, bound to a User: sets the password (stored as its hash by the write session)
 * and revokes the user's refresh tokens. The caller changes their own password and proves it with
 * `CurrentPassword`; an Administrator changes another user's without it.
 */
import { AuthStore } from '../../auth/auth-store';
import { verifyPassword } from '../../auth/passwords';
import { ODataError } from '../../errors/odata-error';
import { updateEntity } from '../../write/entity-store';
import { locate } from '../../write/execute-write';
import type { OperationArgument } from '../operation-plan';
import type { OperationHandler } from '../handler';

const PASSWORD = 'Password';
const PASSWORD_CHANGE = { columns: new Set([PASSWORD]) };

function textArgument(arg: OperationArgument | undefined): string | null {
  return arg?.kind === 'value' && arg.value !== null ? String(arg.value) : null;
}

function invalid(target: string, message: string): ODataError {
  return new ODataError('VALIDATION_FAILED', message, { target, details: [{ code: 'INVALID_VALUE', target, message }] });
}

export const changePassword: OperationHandler = async (call) => {
  const { binding, args, context } = call.plan;
  if (!binding) throw new Error('Crm.ChangePassword must be bound');
  const user = context.user;
  const row = await locate(call.session, context, binding);
  if (!row) throw new ODataError('NOT_FOUND', `No entity exists at ${binding.canonical}`);
  const own = user.id !== null && String(row.key).toLowerCase() === user.id.toLowerCase();
  if (!own && user.role !== 'Administrator') throw new ODataError('FORBIDDEN', 'Only Administrators change the password of another user');
  const newPassword = textArgument(args.get('NewPassword'));
  if (newPassword === null) throw invalid('NewPassword', 'NewPassword is required');
  const minLength = context.limits.minPasswordLength;
  if ([...newPassword].length < minLength) throw invalid('NewPassword', `NewPassword: at least ${minLength} characters are needed`);
  if (own) {
    const current = textArgument(args.get('CurrentPassword'));
    if (current === null) throw invalid('CurrentPassword', 'CurrentPassword is required to change your own password');
    const stored = row.values.get(PASSWORD);
    if (!(await verifyPassword(current, typeof stored === 'string' ? stored : null))) throw invalid('CurrentPassword', 'CurrentPassword is not the current password');
  }
  await updateEntity(call.session, row, new Map([[PASSWORD, { column: PASSWORD, value: newPassword, type: 'Edm.String' }]]), PASSWORD_CHANGE);
  await new AuthStore(call.session.ex.knex, call.session.ex.dialect).revokeRefreshTokensOf(String(row.key));
  return { kind: 'none' };
};
