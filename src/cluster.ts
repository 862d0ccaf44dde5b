/**
 * `--workers N` (N > 1): N service processes behind node:cluster, sharing one listening port and one
 * database. The primary migrates and seeds once, then forks the workers one after another (each
 * worker's startService runs knex's migration check, which takes a lock row; starting them in turn
 * keeps two workers from racing for it). A worker that dies unexpectedly is replaced; SIGTERM/SIGINT
 * on the primary is forwarded to every worker, which closes its server and database gracefully.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import type { Config } from './config';
import { openDatabase } from './db/connect';
import { migrateToLatest } from './db/migrate';
import { DEFAULT_CSDL_PATH, loadModel, readBuiltInModel } from './edm/load-csdl';
import { migrateModel } from './db/model-lifecycle';
import { prepareIdentity } from './auth/bootstrap';
import { ensureDemoData } from './seed/seed';
import { startService } from './server';
import { serveClusterMetrics } from './observe/cluster-metrics';

/** Restarts faster than this are delayed, so a worker that crashes at start-up does not spin. */
const RESTART_BACKOFF_MS = 1000;
/** How long the primary waits for workers to finish in-flight requests before it gives up on them. */
const SHUTDOWN_TIMEOUT_MS = 10_000;

export function isClusterWorker(): boolean {
  return cluster.isWorker;
}

/** Primary side: prepares the database, forks `config.workers` workers, supervises them until a signal. */
export async function runPrimary(config: Config, logger: Logger): Promise<void> {
  await prepareDatabase(config, logger);
  // a worker's /metrics asks here for every worker's metrics (observe/cluster-metrics.ts)
  serveClusterMetrics();
  let shuttingDown = false;
  const startedAt = new Map<number, number>();

  const fork = (): Promise<Worker> => new Promise((resolve, reject) => {
    const worker = cluster.fork();
    startedAt.set(worker.id, Date.now());
    const onExit = (code: number | null) => reject(new Error(`worker ${worker.process.pid} exited during start-up (code ${code})`));
    worker.once('exit', onExit);
    worker.once('listening', () => {
      worker.off('exit', onExit);
      resolve(worker);
    });
  });

  cluster.on('exit', (worker, code, signal) => {
    const started = startedAt.get(worker.id) ?? 0;
    startedAt.delete(worker.id);
    if (shuttingDown) return;
    logger.error({ workerPid: worker.process.pid, code, signal }, 'worker died; starting a replacement');
    const delay = Date.now() - started < RESTART_BACKOFF_MS ? RESTART_BACKOFF_MS : 0;
    setTimeout(() => {
      if (shuttingDown) return;
      fork().catch((err: unknown) => logger.error({ err }, 'replacement worker failed to start'));
    }, delay);
  });

  const shutdown = (signal: NodeJS.Signals) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal }, 'shutting down workers');
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    if (workers.length === 0) process.exit(0);
    let remaining = workers.length;
    for (const w of workers) {
      w.once('exit', () => {
        remaining -= 1;
        if (remaining === 0) process.exit(0);
      });
      w.process.kill('SIGTERM');
    }
    setTimeout(() => {
      logger.error('workers did not stop in time; exiting');
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS).unref();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  for (let i = 0; i < config.workers; i++) {
    if (shuttingDown) return;
    await fork();
  }
  const host = config.host === '0.0.0.0' ? 'localhost' : config.host;
  const url = `http://${host}:${config.port}${config.basePath}`;
  logger.info({ url, workers: config.workers }, `OData service listening on ${url} with ${config.workers} workers`);
}

/** Worker side: a plain service without seeding (the primary did it); exits cleanly on SIGTERM. */
export async function runWorker(config: Config, logger: Logger): Promise<void> {
  const service = await startService(config, { logger, seed: false });
  let closing = false;
  const shutdown = () => {
    if (closing) return;
    closing = true;
    service.close().then(() => process.exit(0), (err: unknown) => {
      logger.error({ err }, 'worker shutdown failed');
      process.exit(1);
    });
  };
  process.on('SIGTERM', shutdown);
  // Ctrl-C reaches the whole process group; the primary forwards SIGTERM, so workers ignore SIGINT.
  process.on('SIGINT', () => undefined);
}

/** Migrations and demo data, once, before any worker exists. */
async function prepareDatabase(config: Config, logger: Logger): Promise<void> {
  const db = openDatabase(config.database);
  try {
    const builtIn = readBuiltInModel(config.modelFile || DEFAULT_CSDL_PATH);
    await migrateToLatest(db, loadModel(builtIn.csdl, builtIn.storage));
    const { model } = await migrateModel(db.knex, db.engine, builtIn);
    const seeded = config.seedContacts > 0 && await ensureDemoData(db, model, config.seedContacts);
    if (seeded) logger.info({ contacts: config.seedContacts }, 'seeded demo data');
    await prepareIdentity(db.knex, config, seeded);
  } finally {
    await db.knex.destroy();
  }
}
