/** What the portal pages and the OpenAPI document say the service is: its name and package version. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const SERVICE_TITLE = 'CRM OData service';

/** package.json's version, found from both src/http/portal and the compiled dist/src/http/portal */
export const SERVICE_VERSION: string = packageVersion(__dirname);

function packageVersion(from: string): string {
  for (let dir = from; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'package.json');
    if (!existsSync(candidate)) continue;
    const parsed = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: unknown; version?: unknown };
    if (parsed.name === 'crm-odata-service' && typeof parsed.version === 'string') return parsed.version;
  }
  return 'unknown';
}
