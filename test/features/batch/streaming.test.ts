/**
 * A multipart batch is read as it arrives: a batch whose first part is malformed is refused while
 * the client is still sending (the answer does not wait for the end of the body), and nothing runs.
 */
import http from 'node:http';
import { ENGINES } from '../../helpers/engines';
import { startTestService, type TestService } from '../../helpers/service';
import { countRows } from '../writes/write-support';

const CRLF = '\r\n';

describe.each(ENGINES.map((e) => [e.name, e] as const))('%s', (_name, engine) => {
  let svc: TestService;

  beforeAll(async () => { svc = await startTestService(engine, { contacts: 20 }); });
  afterAll(() => svc.close());

  it('refuses a malformed first part before the body has ended', async () => {
    const notes = await countRows(svc, 'Notes');
    const url = new URL(`${svc.url}/$batch`);
    const head = ['--b', 'Content-Type: application/http', 'Content-Transfer-Encoding: base64', '', 'POST Notes HTTP/1.1',
      'Content-Type: application/json', '', '{"Text":"never"}', '--b', 'Content-Type: application/http', '', ''].join(CRLF);
    const answer = await new Promise<{ status: number; body: string; endedBeforeAnswer: boolean }>((resolve, reject) => {
      let ended = false;
      const req = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { ...svc.authHeaders, 'Content-Type': 'multipart/mixed;boundary=b' } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => { body += c.toString(); });
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body, endedBeforeAnswer: ended });
          ended = true;
          req.end();
        });
      });
      req.on('error', reject);
      req.write(head);
      // Keep the request open: more bytes follow slowly, and the end only after the answer.
      const timer = setInterval(() => { if (!ended) req.write('x'.repeat(100)); else clearInterval(timer); }, 50);
      setTimeout(() => { if (!ended) { ended = true; clearInterval(timer); req.end('--b--\r\n'); } }, 5000);
    });
    expect(answer.status).toBe(400);
    expect(answer.endedBeforeAnswer).toBe(false);
    expect(JSON.parse(answer.body).error.code).toBe('INVALID_BATCH');
    expect(JSON.parse(answer.body).error.message).toMatch(/base64/);
    expect(await countRows(svc, 'Notes')).toBe(notes);
  });
});
