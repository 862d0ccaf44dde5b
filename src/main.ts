/**
 * `npm start`: reads configuration, starts the service, and shuts down gracefully on SIGTERM/SIGINT.
 * With `--workers N` (N > 1, env ODATA_WORKERS) the process becomes a node:cluster primary
 * supervising N service workers on the same port and database (see cluster.ts).
 */
import pino from 'pino';
import { isClusterWorker, runPrimary, runWorker } from './cluster';
import { loadConfig } from './config';
import { startService } from './server';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = pino({ level: config.logLevel });
  if (isClusterWorker()) return runWorker(config, logger);
  if (config.workers > 1) return runPrimary(config, logger);
  const service = await startService(config, { logger });
  logger.info({ url: service.url }, `OData service listening on ${service.url}`);
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down');
    service.close().then(() => process.exit(0), (err: unknown) => {
      logger.error({ err }, 'shutdown failed');
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
