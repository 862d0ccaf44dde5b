/**
 * `GET /readyz`: the service can answer OData requests — its database answers, every migration is
 * applied, a model is loaded. Each check is bounded in time, so a probe never hangs on a stuck database.
 */
import type { EdmModel } from '../edm/model';

export interface ReadinessProbe {
  /** resolves when the database answers a trivial statement */
  database(): Promise<void>;
  /** the names of migrations the code has and the database has not recorded */
  pendingMigrations(): Promise<readonly string[]>;
  model(): EdmModel | undefined;
}

export interface ReadinessCheck {
  readonly name: 'database' | 'migrations' | 'model';
  readonly ok: boolean;
  readonly message: string;
}

export const READINESS_TIMEOUT_MS = 2000;

export async function checkReadiness(probe: ReadinessProbe, timeoutMs = READINESS_TIMEOUT_MS): Promise<readonly ReadinessCheck[]> {
  const model = probe.model();
  const modelCheck: ReadinessCheck = model !== undefined && model.entitySets.size > 0
    ? { name: 'model', ok: true, message: `version ${model.version}, ${model.entitySets.size} entity sets` }
    : { name: 'model', ok: false, message: 'no model is loaded' };
  const database = await within(probe.database(), timeoutMs).then(
    (): ReadinessCheck => ({ name: 'database', ok: true, message: 'reachable' }),
    (err: unknown): ReadinessCheck => ({ name: 'database', ok: false, message: `unreachable: ${reasonOf(err)}` }),
  );
  if (!database.ok) return [database, { name: 'migrations', ok: false, message: 'not checked: the database is unreachable' }, modelCheck];
  const migrations = await within(probe.pendingMigrations(), timeoutMs).then(
    (pending): ReadinessCheck => (pending.length === 0
      ? { name: 'migrations', ok: true, message: 'all applied' }
      : { name: 'migrations', ok: false, message: `not applied: ${pending.join(', ')}` }),
    (err: unknown): ReadinessCheck => ({ name: 'migrations', ok: false, message: `could not be read: ${reasonOf(err)}` }),
  );
  return [database, migrations, modelCheck];
}

function within<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** A short reason without connection strings (a driver's message may name host and user, never a password). */
function reasonOf(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0].slice(0, 200);
}
