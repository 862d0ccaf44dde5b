/** `npm start` runs the service with the V8 settings of src/runtime-flags.ts (the benchmark starts it with the same). */
import fs from 'node:fs';
import path from 'node:path';
import { SERVICE_NODE_FLAGS } from '../../src/runtime-flags';

it('package.json start gives node every flag of SERVICE_NODE_FLAGS before the service script', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const start = pkg.scripts.start;
  const node = /\bnode ((?:--\S+ )*)dist\/src\/main\.js/.exec(start);
  expect(node).not.toBeNull();
  expect(node![1].trim().split(/\s+/).filter(Boolean)).toEqual([...SERVICE_NODE_FLAGS]);
});
