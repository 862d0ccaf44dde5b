/**
 * `npm run import` / `npm run export` (src/transfer/cli.ts), spawned as a user would run them,
 * against the database of a running test service; results checked through the service's HTTP API.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { parse } from 'csv-parse/sync';
import { ENGINES } from '../../helpers/engines';
import { startTestService, TEST_ADMIN, type TestService } from '../../helpers/service';

// each CLI run starts tsx and the service: seconds apiece on a loaded machine
jest.setTimeout(240_000);

const ROOT = path.resolve(__dirname, '../../..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');

interface CliRun { code: number | null; stdout: string; stderr: string }

function runCli(args: readonly string[]): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [path.join(ROOT, 'src/transfer/cli.ts'), ...args], {
      cwd: ROOT, env: { ...process.env, ODATA_ADMIN_PASSWORD: TEST_ADMIN.password, ODATA_DEMO_PASSWORD: 'demo-password-for-tests' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function summaryOf(run: CliRun): Record<string, unknown> {
  const last = run.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last) as Record<string, unknown>;
  } catch {
    throw new Error(`no summary: ${run.stdout} ${run.stderr}`);
  }
}

const SELECT = 'Id,FirstName,LastName,EmailAddress,JobTitle,BusinessAddress,BirthDate,IsPrivate';

describe.each(ENGINES)('CSV import and export through the CLI ($name)', (engine) => {
  let svc: TestService;
  let dir: string;
  const file = (name: string, text?: string): string => {
    const p = path.join(dir, name);
    if (text !== undefined) fs.writeFileSync(p, text);
    return p;
  };
  const countWhere = async (filter: string): Promise<number> => {
    const res = await svc.get(`/Contacts/$count?$filter=${encodeURIComponent(filter)}`);
    expect(res.status).toBe(200);
    return Number(res.text);
  };

  beforeAll(async () => {
    svc = await startTestService(engine, { contacts: 5 });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csv-cli-'));
  });
  afterAll(async () => {
    await svc?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('maps columns by name and complex members, loads good rows through the write pipeline and reports bad ones by line', async () => {
    const csv = file('first.csv', [
      'firstname,LASTNAME,EmailAddress,businessaddress/city,IsPrivate,BirthDate',
      'Ada,Lovelace,ada@csv.test,London,false,1815-12-10',
      'Bad,Date,baddate@csv.test,Paris,true,1815-13-40',
      '"Grace ""Amazing""",Hopper,grace@csv.test,"New York, NY",true,1906-12-09',
      'Bad,Bool,badbool@csv.test,Rome,maybe,',
      'Alan,Turing,alan@csv.test,,,',
    ].join('\n') + '\n');
    const run = await runCli(['import', '--set', 'contacts', '--file', csv, '--database', svc.database!, '--batch-size', '2', '--errors', file('errors.csv')]);
    expect(run.code).toBe(2);
    expect(summaryOf(run)).toMatchObject({ set: 'Contacts', rowsRead: 5, inserted: 3, rejected: 2, committed: true });
    const errors = parse(fs.readFileSync(file('errors.csv'))) as string[][];
    expect(errors[0]).toEqual(['line', 'reason']);
    expect(errors.slice(1).map((r) => Number(r[0]))).toEqual([3, 5]);
    expect(errors[1][1]).toMatch(/BirthDate/);
    expect(errors[2][1]).toMatch(/IsPrivate/);

    const res = await svc.get(`/Contacts?$filter=${encodeURIComponent("endswith(EmailAddress,'@csv.test')")}&$select=FullName,BusinessAddress,IsPrivate,BirthDate,CreatedById&$orderby=EmailAddress`);
    const rows = res.json<{ value: Record<string, any>[] }>().value; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(rows.map((r) => r.FullName)).toEqual(['Ada Lovelace', 'Alan Turing', 'Grace "Amazing" Hopper']);
    expect(rows[0].BusinessAddress.City).toBe('London');
    expect(rows[2].BusinessAddress.City).toBe('New York, NY');
    expect(rows[2].IsPrivate).toBe(true);
    expect(rows[0].BirthDate).toBe('1815-12-10');
    const admin = await svc.knex('Users').where('UserName', 'admin').first('Id');
    expect(rows.every((r) => String(r.CreatedById).toLowerCase() === String(admin.Id).toLowerCase())).toBe(true);
  });

  it('--all-or-nothing loads nothing when a row is bad, and everything when none is', async () => {
    const bad = file('aon-bad.csv', 'FirstName,LastName,EmailAddress,BirthDate\nEve,One,eve1@aon.test,2000-01-01\nEve,Two,eve2@aon.test,not-a-date\nEve,Three,eve3@aon.test,\n');
    const failed = await runCli(['import', '--set', 'Contacts', '--file', bad, '--database', svc.database!, '--all-or-nothing', '--batch-size', '1']);
    expect(failed.code).toBe(2);
    expect(summaryOf(failed)).toMatchObject({ rowsRead: 3, inserted: 0, rejected: 1, committed: false });
    expect(failed.stderr).toMatch(/line 3: .*BirthDate/);
    expect(await countWhere("endswith(EmailAddress,'@aon.test')")).toBe(0);

    const good = file('aon-good.csv', 'FirstName,LastName,EmailAddress\nEve,One,eve1@aon.test\nEve,Two,eve2@aon.test\n');
    const loaded = await runCli(['import', '--set', 'Contacts', '--file', good, '--database', svc.database!, '--all-or-nothing']);
    expect(loaded.code).toBe(0);
    expect(summaryOf(loaded)).toMatchObject({ inserted: 2, rejected: 0, committed: true });
    expect(await countWhere("endswith(EmailAddress,'@aon.test')")).toBe(2);
  });

  it('a re-run with --upsert-key updates the entities it finds instead of duplicating them', async () => {
    const csv = file('upsert.csv', 'EmailAddress,FirstName,LastName,JobTitle\nupsert1@csv.test,Una,First,Clerk\nupsert2@csv.test,Dos,Second,Clerk\n');
    const first = await runCli(['import', '--set', 'Contacts', '--file', csv, '--database', svc.database!, '--upsert-key', 'emailaddress']);
    expect(summaryOf(first)).toMatchObject({ inserted: 2, updated: 0, rejected: 0 });
    fs.writeFileSync(csv, 'EmailAddress,FirstName,LastName,JobTitle\nupsert1@csv.test,Una,First,Director\nupsert3@csv.test,Tres,Third,Clerk\n');
    const again = await runCli(['import', '--set', 'Contacts', '--file', csv, '--database', svc.database!, '--upsert-key', 'EmailAddress']);
    expect(again.code).toBe(0);
    expect(summaryOf(again)).toMatchObject({ inserted: 1, updated: 1, rejected: 0 });
    expect(await countWhere("startswith(EmailAddress,'upsert')")).toBe(3);
    const res = await svc.get(`/Contacts?$filter=${encodeURIComponent("EmailAddress eq 'upsert1@csv.test'")}&$select=JobTitle,FullName`);
    expect(res.json().value).toEqual([expect.objectContaining({ JobTitle: 'Director', FullName: 'Una First' })]);
  });

  it('refuses a file whose columns name no property, and an unknown set, loading nothing', async () => {
    const csv = file('unknown.csv', 'FirstName,Shoe Size\nZed,44\n');
    const run = await runCli(['import', '--set', 'Contacts', '--file', csv, '--database', svc.database!]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/column 'Shoe Size' names no property of Contact/);
    const noSet = await runCli(['import', '--set', 'Shoes', '--file', csv, '--database', svc.database!]);
    expect(noSet.code).toBe(1);
    expect(noSet.stderr).toMatch(/'Shoes' is no entity set/);
    expect(await countWhere("FirstName eq 'Zed'")).toBe(0);
  });

  it('runs as the --user named: a Browse user may not create, every row is refused', async () => {
    const csv = file('browse.csv', 'FirstName,LastName\nBrowse,Attempt\n');
    const run = await runCli(['import', '--set', 'Contacts', '--file', csv, '--database', svc.database!, '--user', 'demo.browse']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/line 2: 403/);
    expect(await countWhere("FirstName eq 'Browse'")).toBe(0);
  });

  it('exports csv, json and ndjson with $filter/$select syntax, and a csv export imports into a fresh database unchanged', async () => {
    const all = await svc.get(`/Contacts?$select=${SELECT}&$top=100000`, { Prefer: 'odata.maxpagesize=100000' });
    const expected = all.json<{ value: Record<string, unknown>[] }>().value.map((e) => Object.fromEntries(Object.entries(e).filter(([k]) => !k.includes('@'))));
    expect(expected.length).toBeGreaterThan(10);

    const json = await runCli(['export', '--set', 'Contacts', '--format', 'json', '--select', SELECT, '--database', svc.database!]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(expected);
    const ndjson = await runCli(['export', '--set', 'Contacts', '--format', 'ndjson', '--select', SELECT, '--filter', "endswith(EmailAddress,'@csv.test')", '--out', file('out.ndjson'), '--database', svc.database!]);
    expect(ndjson.code).toBe(0);
    const lines = fs.readFileSync(file('out.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual(expected.filter((e) => String(e.EmailAddress ?? '').endsWith('@csv.test')));

    const csvOut = file('out.csv');
    expect((await runCli(['export', '--set', 'Contacts', '--format', 'csv', '--select', SELECT, '--out', csvOut, '--database', svc.database!])).code).toBe(0);
    const records = parse(fs.readFileSync(csvOut)) as string[][];
    expect(records[0]).toContain('BusinessAddress/City');
    expect(records.length).toBe(expected.length + 1);

    const fresh = await engine.freshUrl();
    try {
      const loaded = await runCli(['import', '--set', 'Contacts', '--file', csvOut, '--database', fresh, '--batch-size', '250']);
      expect(loaded.code).toBe(0);
      expect(summaryOf(loaded)).toMatchObject({ inserted: expected.length, rejected: 0 });
      const back = file('back.csv');
      expect((await runCli(['export', '--set', 'Contacts', '--format', 'csv', '--select', SELECT, '--out', back, '--database', fresh])).code).toBe(0);
      expect(fs.readFileSync(back, 'utf8')).toBe(fs.readFileSync(csvOut, 'utf8'));
    } finally {
      await engine.dispose(fresh);
    }
  });
});
