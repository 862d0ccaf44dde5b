/**
 * Assembles a running service from a Config: database, migrations, demo data, model, HTTP server.
 * Used by main.ts and by the tests (which start it on an ephemeral port).
 */
import { createServer, type Server } from 'node:http';
import pino, { type Logger } from 'pino';
import type { Config } from './config';
import { openDatabase, type Database } from './db/connect';
import { migrateToLatest } from './db/migrate';
import { DEFAULT_CSDL_PATH, loadModel, readBuiltInModel } from './edm/load-csdl';
import { migrateModel, ModelLifecycle, type ServedModel } from './db/model-lifecycle';
import type { EdmModel } from './edm/model';
import { createRequestListener } from './http/app';
import { Authenticator, type AuthSettings } from './auth/authenticate';
import { AuthStore } from './auth/auth-store';
import { bootstrapAdministratorId, prepareIdentity } from './auth/bootstrap';
import { attachProtocolErrorHandlers } from './http/protocol-errors';
import type { Services } from './http/handle';
import { ensureDemoData } from './seed/seed';
import { dialectOf } from './sql/dialect/dialect-of';
import { createWriteHooks } from './write/session';
import { AsyncJobStore } from './db/async-job-store';
import { AsyncJobs, DEFAULT_TIMINGS } from './http/async-jobs';
import { openChangeWatch } from './db/change-watch';
import { openBucketStore } from './limits/bucket-store';
import { RateLimiter, type RateLimitSettings } from './limits/rate-limiter';
import { corsPolicyOf } from './http/browser-headers';
import { proxySettingsOf } from './http/public-root';
import { closeIdleConnections } from './http/idle-connections';
import { observeService } from './observe/observe-service';
import { openReadReplica, readReplicaUrlOf } from './db/read-replica';

/** Node's default keep-alive idle time, kept (http/idle-connections.ts explains why it is not Node's timer). */
const KEEP_ALIVE_IDLE_MS = 5000;

export interface RunningService {
  readonly url: string;
  readonly db: Database;
  readonly services: Services;
  readonly server: Server;
  /** The model's lifecycle: schema changes (`applySchemaChange`), the served model and its version. */
  readonly lifecycle: ModelLifecycle;
  /** Replaces the model in memory only (tests trying a variant of the model); caches key on model.version. */
  replaceModel(next: EdmModel): void;
  close(): Promise<void>;
}

export function authSettingsOf(config: Config): AuthSettings {
  if (config.auth !== 'on' && config.auth !== 'off') throw new Error(`ODATA_AUTH must be on or off, got ${config.auth}`);
  return {
    enabled: config.auth === 'on', apiKeyParameter: config.apiKeyParameter, accessTokenSeconds: config.accessTokenSeconds,
    refreshTokenSeconds: config.refreshTokenSeconds, minPasswordLength: config.minPasswordLength, signInFreeFailures: config.signInFreeFailures,
    basicCacheSeconds: config.basicCacheSeconds, basicCacheEntries: config.basicCacheEntries,
  };
}

export function rateLimitSettingsOf(config: Config): RateLimitSettings {
  if (config.rateLimit !== 'on' && config.rateLimit !== 'off') throw new Error(`ODATA_RATE_LIMIT must be on or off, got ${config.rateLimit}`);
  const enabled = config.rateLimit === 'on';
  if (enabled && (config.rateLimitPerSecond < 1 || config.rateLimitBurst < 1)) throw new Error('ODATA_RATE_LIMIT_PER_SECOND and ODATA_RATE_LIMIT_BURST must be at least 1');
  return { enabled, ratePerSecond: config.rateLimitPerSecond, burst: config.rateLimitBurst };
}

export async function startService(config: Config, options: { seed?: boolean; logger?: Logger } = {}): Promise<RunningService> {
  const logger = options.logger ?? pino({ level: config.logLevel });
  // settings are checked before anything is opened
  const rateLimit = rateLimitSettingsOf(config);
  const replicaUrl = readReplicaUrlOf(config.readReplicaUrl, config.database);
  const cors = corsPolicyOf(config.corsOrigins);
  const proxy = proxySettingsOf(config.publicUrl, config.trustedProxies);
  const db = openDatabase(config.database, { statementTimeoutMs: config.statementTimeoutMs, readProcesses: config.sqliteReadProcesses, inlineAlwaysMs: config.sqliteInlineAlwaysUs / 1000, statementsPerConnection: config.statementsPerConnection });
  // Migrations and demo data are not held to the statement time budget (an index or a backfill over a
  // large table may take longer): on PostgreSQL they get connections of their own; SQLite's own
  // connection has no budget (only the read processes have one).
  const setup = db.engine === 'postgres' ? openDatabase(config.database) : db;
  const builtIn = readBuiltInModel(config.modelFile || DEFAULT_CSDL_PATH);
  let served: ServedModel;
  try {
    await migrateToLatest(setup, loadModel(builtIn.csdl, builtIn.storage));
    // the model changes since the database was made (built-in file, run-time additions) reach it here
    served = await migrateModel(setup.knex, setup.engine, builtIn);
    if (options.seed !== false) {
      const seeded = config.seedContacts > 0 && await ensureDemoData(setup, served.model, config.seedContacts);
      if (seeded) logger.info({ contacts: config.seedContacts }, 'seeded demo data');
      await prepareIdentity(setup.knex, config, seeded);
    }
  } catch (err) {
    await db.reads?.close();
    await db.knex.destroy();
    throw err;
  } finally {
    if (setup !== db) await setup.knex.destroy();
  }
  const lifecycle = new ModelLifecycle(db.knex, db.engine, builtIn, served, {
    pollMs: config.modelPollMs, listenUrl: db.engine === 'postgres' ? config.database : undefined,
    onError: (err) => logger.warn({ err }, 'could not look for a newer model'),
  });
  lifecycle.watch();
  await db.reads?.started();
  const log = config.logLevel === 'silent' ? undefined : logger;
  const authSettings = authSettingsOf(config);
  const actingAdministrator = authSettings.enabled ? undefined : await bootstrapAdministratorId(db.knex);
  const dialect = dialectOf(db.engine);
  const auth = new Authenticator(new AuthStore(db.knex, dialect), authSettings, actingAdministrator === undefined ? undefined
    : { id: actingAdministrator, role: 'Administrator', teamIds: [], scopes: ['data', 'login'] },
  authSettings.enabled ? openChangeWatch(db.engine, config.database) : undefined);
  const rateLimiter = new RateLimiter(rateLimit, rateLimit.enabled ? openBucketStore(db.engine, db.knex, config.database, rateLimit) : undefined,
    (err) => logger.warn({ err }, 'rate limit not counted: the buckets could not be updated'));
  const replica = replicaUrl === undefined ? undefined : openReadReplica(replicaUrl, config.statementTimeoutMs);
  const ops = observeService({ db, replica, model: () => lifecycle.model, rateLimiter });
  const services: Services = {
    model: () => lifecycle.model,
    schema: lifecycle,
    knex: db.knex,
    reads: db.reads,
    dialect,
    hooks: createWriteHooks(),
    batch: { limits: { maxParts: config.batchMaxParts, maxPartBytes: config.batchMaxPartBytes }, maxBodyBytes: config.maxBodyBytes },
    asyncJobs: new AsyncJobs(new AsyncJobStore(db.knex), { ...DEFAULT_TIMINGS, resultMs: config.asyncResultSeconds * 1000 }),
    limits: {
      pageSize: config.pageSize, maxPageSize: config.maxPageSize, maxTop: config.maxTop,
      maxExpandDepth: config.maxExpandDepth, maxFilterNodes: config.maxFilterNodes,
      maxJoins: config.maxJoins, maxInItems: config.maxInItems, maxBodyDepth: config.maxBodyDepth,
      minPasswordLength: config.minPasswordLength,
    },
    logger: log,
    auth,
    rateLimiter,
    readReplica: replica,
    ops,
    requestLimits: { maxUrlLength: config.maxUrlLength, maxSelectItems: config.maxSelectItems, maxExpandItems: config.maxExpandItems },
  };
  const listener = createRequestListener(services, { basePath: config.basePath, maxBodyBytes: config.maxBodyBytes, logger: log, cors, proxy });
  // Node's own Host check answers without a body; http/protocol-errors.ts makes the same check with one.
  const server = createServer({ requireHostHeader: false, maxHeaderSize: config.maxHeaderBytes }, listener);
  attachProtocolErrorHandlers(server, log);
  const stopIdleSweep = closeIdleConnections(server, KEEP_ALIVE_IDLE_MS);
  await new Promise<void>((resolve) => server.listen(config.port, config.host, () => resolve()));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host === '0.0.0.0' ? 'localhost' : config.host;
  return {
    url: `http://${host}:${port}${config.basePath}`, db, services, server, lifecycle,
    replaceModel(next) { lifecycle.replaceInMemory(next); },
    async close() {
      stopIdleSweep();
      await lifecycle.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await services.asyncJobs.drain();
      services.rateLimiter.close();
      services.auth.close();
      server.closeAllConnections?.();
      await db.reads?.close();
      await db.knex.destroy();
      await replica?.destroy();
    },
  };
}
