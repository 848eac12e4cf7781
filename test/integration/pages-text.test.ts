// The web console's forms and query strings pass the same text guard as the API (issue 12.1): a NUL
// in a log-in form field used to reach PostgreSQL (500); now the error page says which field, 400.
import { startTestServer, type TestServer } from '../support/server';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.close();
});

const form = (path: string, body: string) =>
  fetch(`${t.base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body,
    redirect: 'manual',
  });

test('issue 12.1: a NUL in the log-in form answers 400 with an error page naming the field', async () => {
  const r = await form('/login', 'username=office%00one&password=x');
  expect(r.status).toBe(400);
  expect(r.headers.get('content-type')).toMatch(/text\/html/);
  const html = await r.text();
  expect(html).toContain('字段 username 含有空字符');
  expect(html).not.toMatch(/at \w+ \(/); // no stack trace
});

test('issue 12.1: a NUL in the query string of a page answers 400', async () => {
  const r = await fetch(`${t.base}/login?next=%2F%00`, { redirect: 'manual' });
  expect(r.status).toBe(400);
  expect(await r.text()).toContain('query.next');
});
