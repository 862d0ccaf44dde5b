/** Crm.SystemInfo(): what the service is and runs on. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { OperationHandler } from '../handler';

const PRODUCT = readPackage();

function readPackage(): { name: string; version: string } {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      return { name: pkg.name ?? 'crm-odata', version: pkg.version ?? '0.0.0' };
    } catch {
      if (path.dirname(dir) === dir) return { name: 'crm-odata', version: '0.0.0' };
    }
  }
}

export const systemInfo: OperationHandler = async (call) => ({
  kind: 'value',
  value: {
    ProductName: PRODUCT.name, ProductVersion: PRODUCT.version, ODataVersion: '4.0',
    Engine: call.session.ex.dialect.name, ModelVersion: call.session.model.version,
  },
});
