/**
 * Service configuration from environment variables and command-line flags (flags win).
 * Nothing else reads process.env.
 */
export interface Config {
  readonly port: number;
  readonly host: string;
  /** `sqlite:<file>` / a file path, or a `postgres://` URL */
  readonly database: string;
  readonly pageSize: number;
  readonly maxPageSize: number;
  readonly maxTop: number;
  readonly maxExpandDepth: number;
  readonly maxFilterNodes: number;
  readonly maxJoins: number;
  readonly maxInItems: number;
  readonly maxBodyDepth: number;
  readonly logLevel: string;
  readonly seedContacts: number;
  readonly workers: number;
  /** Absolute service root path, e.g. `/odata`. */
  readonly basePath: string;
  /** Largest request body accepted, in bytes. */
  readonly maxBodyBytes: number;
  /** Requests in one $batch, change-set members included. */
  readonly batchMaxParts: number;
  /** Bytes of one request inside a $batch. */
  readonly batchMaxPartBytes: number;
  /** How long the result of an asynchronous request (`Prefer: respond-async`) can be read, in seconds. */
  readonly asyncResultSeconds: number;
  /** Longest one SQL statement may run, in milliseconds (0: no limit). */
  readonly statementTimeoutMs: number;
  /** SQLite: processes that run reads off the event loop (0: reads run in the service process). */
  readonly sqliteReadProcesses: number;
  /**
   * SQLite: a read statement last measured at most this many microseconds runs on the service's own
   * connection even while the read processes are busy (cheaper than the trip to one; db/read-pool.ts)
   */
  readonly sqliteInlineAlwaysUs: number;
  /** prepared statements kept per database connection (SQLite and PostgreSQL; least recently used dropped first) */
  readonly statementsPerConnection: number;
  /** `on` (default): every request but the open documents needs credentials; `off`: everyone acts as the bootstrap Administrator */
  readonly auth: string;
  /** the bootstrap Administrator's password on the first start of an empty database (empty: a random one, printed once) */
  readonly adminPassword: string;
  /** the demo users' password when demo data is seeded (empty: a random one per user, printed once) */
  readonly demoPassword: string;
  /** the query parameter that may carry a token (Power Query's "Web API key"); empty: none */
  readonly apiKeyParameter: string;
  /** lifetime of an access token from `POST /auth/token`, in seconds */
  readonly accessTokenSeconds: number;
  /** lifetime of a refresh token, in seconds */
  readonly refreshTokenSeconds: number;
  /** shortest password accepted */
  readonly minPasswordLength: number;
  /** failed sign-ins per user name or address before each further attempt must wait (doubling from 1 s) */
  readonly signInFreeFailures: number;
  /** seconds a verified HTTP Basic user name and password is remembered (0: never; one scrypt per request) */
  readonly basicCacheSeconds: number;
  /** verified Basic credentials remembered at most (the oldest are forgotten first) */
  readonly basicCacheEntries: number;
  /** characters of the URL below the service root (414 beyond) */
  readonly maxUrlLength: number;
  /** bytes of the request line and headers (Node's maxHeaderSize; 431 beyond) */
  readonly maxHeaderBytes: number;
  /** `$select` items in one request, nested ones included */
  readonly maxSelectItems: number;
  /** `$expand` items in one request, nested ones included */
  readonly maxExpandItems: number;
  /** `on` (default) or `off`: a token bucket per user, or per address for calls without credentials */
  readonly rateLimit: string;
  /** tokens (requests, `$batch` parts) added to each bucket per second */
  readonly rateLimitPerSecond: number;
  /** a bucket's capacity: requests that may come at once */
  readonly rateLimitBurst: number;
  /** browser origins allowed to call (comma-separated, or `*`); empty: CORS off */
  readonly corsOrigins: string;
  /** addresses of reverse proxies whose X-Forwarded-For/-Proto/-Host/-Prefix are believed (comma-separated) */
  readonly trustedProxies: string;
  /** the service root as clients see it, e.g. https://crm.example.com/api/odata (wins over X-Forwarded-*) */
  readonly publicUrl: string;
  /** the built-in model (CSDL JSON); empty: metadata/crm.csdl.json */
  readonly modelFile: string;
  /** how often each process looks for a schema change another process made (ms; 0: never) */
  readonly modelPollMs: number;
  /** PostgreSQL: a second URL (a streaming standby) for reads outside transactions; empty: none */
  readonly readReplicaUrl: string;
}

export const DEFAULT_CONFIG: Config = {
  port: 4000, host: '0.0.0.0', database: 'data/crm.sqlite', pageSize: 100, maxPageSize: 5000, maxTop: 100000,
  maxExpandDepth: 5, maxFilterNodes: 500, maxJoins: 32, maxInItems: 10000, maxBodyDepth: 64, logLevel: 'info', seedContacts: 500, workers: 1, basePath: '/odata',
  maxBodyBytes: 10 * 1024 * 1024, batchMaxParts: 5000, batchMaxPartBytes: 1024 * 1024, asyncResultSeconds: 3600,
  statementTimeoutMs: 30000, sqliteReadProcesses: 2, sqliteInlineAlwaysUs: 250, statementsPerConnection: 500,
  auth: 'on', adminPassword: '', demoPassword: '', apiKeyParameter: 'api_key', accessTokenSeconds: 3600,
  refreshTokenSeconds: 30 * 24 * 3600, minPasswordLength: 10, signInFreeFailures: 5,
  basicCacheSeconds: 300, basicCacheEntries: 10000,
  maxUrlLength: 8192, maxHeaderBytes: 16384, maxSelectItems: 200, maxExpandItems: 50,
  rateLimit: 'on', rateLimitPerSecond: 50, rateLimitBurst: 200, corsOrigins: '', trustedProxies: '', publicUrl: '',
  modelFile: '', modelPollMs: 250, readReplicaUrl: '',
};

const ENV: Record<string, keyof Config> = {
  PORT: 'port', HOST: 'host', ODATA_DATABASE: 'database', ODATA_PAGE_SIZE: 'pageSize', ODATA_MAX_PAGE_SIZE: 'maxPageSize',
  ODATA_MAX_TOP: 'maxTop', ODATA_MAX_EXPAND_DEPTH: 'maxExpandDepth', ODATA_MAX_FILTER_NODES: 'maxFilterNodes', ODATA_MAX_JOINS: 'maxJoins',
  ODATA_MAX_IN_ITEMS: 'maxInItems', ODATA_MAX_BODY_DEPTH: 'maxBodyDepth',
  LOG_LEVEL: 'logLevel', ODATA_SEED_CONTACTS: 'seedContacts', ODATA_WORKERS: 'workers', ODATA_BASE_PATH: 'basePath',
  ODATA_MAX_BODY_BYTES: 'maxBodyBytes', ODATA_BATCH_MAX_PARTS: 'batchMaxParts', ODATA_BATCH_MAX_PART_BYTES: 'batchMaxPartBytes',
  ODATA_ASYNC_RESULT_SECONDS: 'asyncResultSeconds', ODATA_STATEMENT_TIMEOUT_MS: 'statementTimeoutMs',
  ODATA_SQLITE_READ_PROCESSES: 'sqliteReadProcesses', ODATA_SQLITE_INLINE_ALWAYS_US: 'sqliteInlineAlwaysUs',
  ODATA_STATEMENTS_PER_CONNECTION: 'statementsPerConnection',
  ODATA_AUTH: 'auth', ODATA_ADMIN_PASSWORD: 'adminPassword', ODATA_DEMO_PASSWORD: 'demoPassword', ODATA_API_KEY_PARAMETER: 'apiKeyParameter',
  ODATA_ACCESS_TOKEN_SECONDS: 'accessTokenSeconds', ODATA_REFRESH_TOKEN_SECONDS: 'refreshTokenSeconds',
  ODATA_MIN_PASSWORD_LENGTH: 'minPasswordLength', ODATA_SIGNIN_FREE_FAILURES: 'signInFreeFailures',
  ODATA_BASIC_CACHE_SECONDS: 'basicCacheSeconds', ODATA_BASIC_CACHE_ENTRIES: 'basicCacheEntries',
  ODATA_MAX_URL_LENGTH: 'maxUrlLength', ODATA_MAX_HEADER_BYTES: 'maxHeaderBytes', ODATA_MAX_SELECT_ITEMS: 'maxSelectItems',
  ODATA_MAX_EXPAND_ITEMS: 'maxExpandItems', ODATA_RATE_LIMIT: 'rateLimit', ODATA_RATE_LIMIT_PER_SECOND: 'rateLimitPerSecond',
  ODATA_RATE_LIMIT_BURST: 'rateLimitBurst', ODATA_CORS_ORIGINS: 'corsOrigins', ODATA_TRUSTED_PROXIES: 'trustedProxies', ODATA_PUBLIC_URL: 'publicUrl',
  ODATA_MODEL_FILE: 'modelFile', ODATA_MODEL_POLL_MS: 'modelPollMs', ODATA_READ_REPLICA_URL: 'readReplicaUrl',
};

const FLAGS: Record<string, keyof Config> = {
  '--port': 'port', '--host': 'host', '--database': 'database', '--db': 'database', '--page-size': 'pageSize',
  '--max-page-size': 'maxPageSize', '--max-top': 'maxTop', '--log-level': 'logLevel', '--seed-contacts': 'seedContacts',
  '--workers': 'workers', '--base-path': 'basePath', '--max-body-bytes': 'maxBodyBytes', '--async-result-seconds': 'asyncResultSeconds',
  '--statement-timeout-ms': 'statementTimeoutMs', '--sqlite-read-processes': 'sqliteReadProcesses', '--auth': 'auth',
  '--rate-limit': 'rateLimit', '--cors-origins': 'corsOrigins', '--trusted-proxies': 'trustedProxies', '--public-url': 'publicUrl',
  '--model': 'modelFile',
};

export function loadConfig(argv: readonly string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): Config {
  const raw: Record<string, string> = {};
  for (const [name, key] of Object.entries(ENV)) if (env[name] !== undefined && env[name] !== '') raw[key] = env[name]!;
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    const key = FLAGS[flag];
    if (!key) throw new Error(`unknown option ${flag}`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`option ${flag} needs a value`);
    raw[key] = value;
  }
  return withOverrides(raw);
}

export function withOverrides(raw: Partial<Record<keyof Config, string | number>>, base: Config = DEFAULT_CONFIG): Config {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    const current = base[key as keyof Config];
    if (typeof current === 'number') {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0) throw new Error(`${key} must be a non-negative integer, got ${String(value)}`);
      out[key] = n;
    } else out[key] = String(value);
  }
  return out as unknown as Config;
}
