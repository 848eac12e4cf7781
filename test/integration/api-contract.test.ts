// The document says what the server enforces (issue 17): found by schemathesis against a running server
// (README, "The API contract"); these hold the fixes.
import { loadTable } from '../support/fixtures';
import { startTestServer, type TestServer } from '../support/server';

let t: TestServer;
let doc: any;
beforeAll(async () => {
  t = await startTestServer();
  doc = (await t.call('GET', '/openapi.json')).body;
});
afterAll(async () => {
  await t?.close();
});

const table = () => doc.components.schemas.ProgramTable.properties;

test('integers are safe integers, as zod’s int() holds them', () => {
  expect(table().subprojects.items.properties.seq).toMatchObject({
    type: 'integer',
    exclusiveMinimum: 0,
    maximum: Number.MAX_SAFE_INTEGER,
  });
  expect(table().year).toMatchObject({ minimum: 2000, maximum: 2100 });
});

test('a cap is maxPerUnit or maxAveragePerUnit, never both: two exclusive shapes, and the server agrees', async () => {
  const shapes = table().unitCaps.items.anyOf;
  expect(shapes).toHaveLength(2);
  expect(shapes[0]).toMatchObject({ additionalProperties: false });
  expect(shapes[0].required).toContain('maxPerUnit');
  expect(shapes[0].properties.maxAveragePerUnit).toBeUndefined();
  expect(shapes[1].required).toContain('maxAveragePerUnit');
  expect(shapes[1].properties.maxPerUnit).toBeUndefined();
  const both = { ...loadTable('tengzhou-2019'), code: 'both-caps' };
  both.unitCaps = [{ item: 'x', name: 'x', maxPerUnit: '1', maxAveragePerUnit: '1' }];
  const r = await t.call('POST', '/api/programs', { token: t.tokens.office, body: both });
  expect(r.status).toBe(400);
  expect(r.body.errors[0].message).toContain('maxPerUnit 与 maxAveragePerUnit 必须且只能给出一个');
});

test('free request strings carry the text guard’s rule; answers do not; raw bodies state their size', () => {
  expect(table().name.pattern).toBe('^[^\\x00]*$');
  expect(doc.components.schemas.Problem.properties.detail.pattern).toBeUndefined();
  const files = doc.paths['/api/files'].post.requestBody.content['application/pdf'].schema;
  expect(files).toMatchObject({ format: 'binary', minLength: 1, maxLength: 20 * 1024 * 1024 });
  expect(Object.keys(doc.paths['/api/files/{sha256}'].get.responses['200'].content)).toContain(
    'application/pdf',
  );
});

test('a method a path does not have is 405 with Allow', async () => {
  const r = await fetch(`${t.base}/api/programs`, { method: 'PATCH' });
  expect(r.status).toBe(405);
  expect(r.headers.get('allow')).toBe('GET, POST, HEAD');
});

test('/docs/api shows the document in Swagger UI from the app’s own files', async () => {
  const page = await fetch(`${t.base}/docs/api`);
  expect(page.status).toBe(200);
  const html = await page.text();
  expect(html).toContain('/docs/api/assets/swagger-ui-bundle.js');
  expect(html).not.toMatch(/https?:\/\//); // nothing from another host
  for (const asset of [
    '/docs/api/assets/swagger-ui-bundle.js',
    '/docs/api/assets/swagger-ui.css',
  ]) {
    expect((await fetch(`${t.base}${asset}`)).status).toBe(200);
  }
  expect(await (await fetch(`${t.base}/docs/api/init.js`)).text()).toContain(
    "url: '/openapi.json'",
  );
});
