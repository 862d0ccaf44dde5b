/**
 * Hostile credentials: malformed Authorization headers, flipped bytes, expired and revoked tokens,
 * Basic without a colon, 10,000-byte user names, quotes, comment markers and NUL bytes. Always 400
 * or 401 with an OData error, never a 500 and never a signed-in request; an unknown user name costs
 * as long as a wrong password.
 */
import { ENGINES } from '../../helpers/engines';
import { startTestService, TEST_ADMIN, type TestService } from '../../helpers/service';
import { asCaller, basic, form } from './auth-support';

function flipOneByte(token: string, at: number): string {
  const c = token[at];
  return token.slice(0, at) + (c === 'A' ? 'B' : 'A') + token.slice(at + 1);
}

for (const engine of ENGINES) {
  describe(`${engine.name}: hostile credentials`, () => {
    let svc: TestService;
    let token: string;
    beforeAll(async () => {
      svc = await startTestService(engine, { contacts: 0, config: { signInFreeFailures: 100000 } });
      token = svc.authHeaders.Authorization.slice('Bearer '.length);
    });
    afterAll(() => svc.close());

    async function expectRefused(headers: Record<string, string>, path = '/Notes'): Promise<void> {
      const res = await asCaller(svc, 'GET', path, headers);
      expect([JSON.stringify(headers).slice(0, 80), res.status]).toEqual([JSON.stringify(headers).slice(0, 80), expect.any(Number)]);
      expect([400, 401]).toContain(res.status);
      expect(res.json().error.code).toMatch(/^(UNAUTHENTICATED|INVALID_HEADER|MALFORMED_REQUEST)$/);
    }

    it('refuses malformed Authorization headers', async () => {
      for (const value of ['Bearer', 'Bearer ', 'Basic', 'Basic !!!', 'Digest abc', 'Bearer a b', `Bearer ${token}"`, 'Bearer ../../etc/passwd',
        `Bearer ${'x'.repeat(5000)}`, 'NTLM TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAGAbEdAAAADw==', '   ']) {
        await expectRefused({ Authorization: value });
      }
      for (const value of ['', ' ', 'not a token', "' or 1=1 --"]) await expectRefused({ ACCESS_TOKEN: value });
    });

    it('refuses a token with any single byte flipped, and a well-formed token nobody issued', async () => {
      for (const at of [0, 3, 7, 20, token.length - 1]) await expectRefused({ Authorization: `Bearer ${flipOneByte(token, at)}` });
      await expectRefused({ Authorization: `Bearer crm_at_${'A'.repeat(43)}` });
      await expectRefused({ Authorization: `Bearer crm_pat_${'A'.repeat(43)}` });
      // a refresh token is not an access token
      const pair = (await form(svc, 'token', { grant_type: 'password', username: TEST_ADMIN.userName, password: TEST_ADMIN.password })).json();
      await expectRefused({ Authorization: `Bearer ${pair.refresh_token}` });
    });

    it('refuses Basic without a colon, and hostile user names and passwords', async () => {
      await expectRefused({ Authorization: `Basic ${Buffer.from('adminwithoutcolon').toString('base64')}` });
      const names = ['x'.repeat(10000), "admin'--", 'admin" OR "1"="1', "admin'; DROP TABLE Users; --", 'admin/*', 'admin\u0000', '\u0000', 'ädmin', ''];
      for (const userName of names) {
        await expectRefused({ Authorization: basic(userName, TEST_ADMIN.password) });
        const res = await form(svc, 'token', { grant_type: 'password', username: userName, password: TEST_ADMIN.password });
        expect([userName.slice(0, 20), res.status, res.json().error]).toEqual([userName.slice(0, 20), 400, 'invalid_grant']);
      }
      for (const password of ["' OR '1'='1", `${TEST_ADMIN.password}\u0000`, 'x'.repeat(10000), '--', '/* */']) {
        await expectRefused({ Authorization: basic(TEST_ADMIN.userName, password) });
      }
      expect(await svc.knex('Users').count({ n: '*' }).then((r) => Number(r[0].n))).toBeGreaterThan(0);
    });

    it('refuses expired and revoked tokens', async () => {
      const pair = (await form(svc, 'token', { grant_type: 'password', username: TEST_ADMIN.userName, password: TEST_ADMIN.password })).json();
      await svc.knex('odata_auth_tokens').update({ expires_at: Date.now() - 1 }).where('kind', 'access').whereNull('revoked_at').whereNot('token_hash', '');
      await expectRefused({ Authorization: `Bearer ${pair.access_token}` });
      await expectRefused({ Authorization: `Bearer ${token}` });
      const fresh = (await form(svc, 'token', { grant_type: 'refresh_token', refresh_token: pair.refresh_token })).json();
      expect((await asCaller(svc, 'GET', '/Notes', { Authorization: `Bearer ${fresh.access_token}` })).status).toBe(200);
      await form(svc, 'revoke', { token: fresh.access_token });
      await expectRefused({ Authorization: `Bearer ${fresh.access_token}` });
    });

    it('takes as long for an unknown user as for a wrong password', async () => {
      const timeOf = async (userName: string): Promise<number> => {
        const started = process.hrtime.bigint();
        await form(svc, 'token', { grant_type: 'password', username: userName, password: 'wrong password here' });
        return Number(process.hrtime.bigint() - started) / 1e6;
      };
      const unknown: number[] = [];
      const wrong: number[] = [];
      for (let i = 0; i < 8; i++) {
        unknown.push(await timeOf(`nobody-${i}`));
        wrong.push(await timeOf(TEST_ADMIN.userName));
      }
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
      // both run one scrypt (tens of milliseconds); a missing one would show as a several-fold difference
      expect(median(unknown) / median(wrong)).toBeGreaterThan(0.6);
      expect(median(unknown) / median(wrong)).toBeLessThan(1.6);
    });
  });
}
