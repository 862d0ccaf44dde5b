/** Keeps the error-code registry and README.md's error table in step. */
import fs from 'node:fs';
import path from 'node:path';
import { ERROR_CODES } from '../../src/errors/codes';

describe('the error code registry', () => {
  const readme = fs.readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Errors'));
  const documented = new Map([...section.matchAll(/^\| ([A-Z_]+) \| (\d{3}) \|$/gm)].map((m) => [m[1], Number(m[2])]));

  it('documents every code in README.md with its status', () => {
    for (const [code, { status }] of Object.entries(ERROR_CODES)) expect([code, documented.get(code)]).toEqual([code, status]);
  });

  it('documents no code that the registry lacks', () => {
    for (const code of documented.keys()) expect(Object.keys(ERROR_CODES)).toContain(code);
  });
});
