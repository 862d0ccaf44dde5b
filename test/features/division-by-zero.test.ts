/** A zero divisor in div, divby or mod is an error on both engines (URL Conventions §5.1.1.2.4), never a 500 or null. */
import { ENGINES } from '../helpers/engines';
import { startTestService, type TestService } from '../helpers/service';
import { enc } from './support';

const CASES = [
  'EmployeeCount div 0 eq 1',
  'EmployeeCount mod 0 eq 1',
  'EmployeeCount divby 0 gt 1',
  'Revenue div 0 gt 1',
  'Revenue mod 0 eq 1',
  'Revenue div (EmployeeCount sub EmployeeCount) gt 1',
];

for (const engine of ENGINES) {
  describe(`division by zero (${engine.name})`, () => {
    let svc: TestService;
    beforeAll(async () => { svc = await startTestService(engine, { contacts: 50 }); });
    afterAll(() => svc.close());

    it.each(CASES)('%s → 400 INVALID_ARGUMENTS', async (filter) => {
      const res = await svc.get(`/Companies?$filter=${enc(filter)}`);
      expect(res.status).toBe(400);
      expect(res.json().error).toMatchObject({ code: 'INVALID_ARGUMENTS' });
      expect(res.json().error.message).toMatch(/zero/);
    });

    it('a non-zero divisor still answers', async () => {
      const res = await svc.get(`/Companies?$filter=${enc('EmployeeCount div 1 ge 0 and Revenue mod 7 ge 0')}&$select=Id`);
      expect(res.status).toBe(200);
      expect(res.json().value.length).toBeGreaterThan(0);
    });
  });
}
