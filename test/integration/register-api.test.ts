// The register of what was built and the attainment of the targets over HTTP, on real PostgreSQL
// (R-EV-1, R-AC-1): a program imported with its targets, stations and trainings as JSON and as CSV, a
// refused file storing nothing and naming each bad row, values entered with evidence.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../support/cli';
import { startTestServer, type TestServer } from '../support/server';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
  // Tengzhou's example with its targets; 300 administrative and 40 poor villages are this test's own
  // figures (the plan gives the shares, not the counts)
  const table = JSON.parse(
    readFileSync(path.join(__dirname, '..', '..', 'examples', 'tengzhou-2019.json'), 'utf8'),
  );
  for (const i of table.indicators) {
    if (i.id === 'village_coverage') i.of = 300;
    if (i.id === 'poor_village_coverage') i.of = 40;
  }
  expect((await post('/api/programs', table)).status).toBe(201);
  await t.at('2020-06-30T02:00:00.000Z');
});
afterAll(async () => {
  await t?.close();
});

const base = '/api/programs/tengzhou-2019';
const post = (p: string, body: unknown, token: string = t.tokens.office) =>
  t.call('POST', p, { token, body });
const byId = (items: { id: string }[]) => Object.fromEntries(items.map((a) => [a.id, a]));
async function upload(name: string, body: string): Promise<string> {
  const res = await fetch(`${t.base}/api/files`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${t.tokens.office}`,
      'content-type': 'text/csv',
      'x-file-name': encodeURIComponent(name),
    },
    body,
  });
  expect(res.status).toBe(201);
  return (await res.json()).sha256;
}
const TOWNS = Array.from({ length: 21 }, (_, k) => `第${k + 1}镇`);

test('the program answers its targets with their status before anything is registered', async () => {
  const r = await t.call('GET', base, { token: t.tokens.supervisor });
  expect(r.status).toBe(200);
  expect(r.body.attainment).toHaveLength(10);
  expect(byId(r.body.attainment).village_points).toMatchObject({
    targetText: '≥ 240 个',
    value: '0',
    status: 'at_risk',
  });
  expect(r.body.registered).toEqual({ stations: 0, trainings: 0, values: 0, funded: 0 });
});

test('a refused stations CSV stores nothing and names every bad row by its line (R-EV-1)', async () => {
  const before = await t.count('event');
  const csv = [
    '级别,名称,镇街,行政村,贫困村,运营主体,开业日期',
    '村级,,第1镇,,否,滕州市邮政分公司,2020-05-01', // line 2: no village
    '村级,,第1镇,甲村,也许,滕州市邮政分公司,2020-05-01', // line 3: 贫困村 neither 是 nor 否
    '村级,,第1镇,乙村,是,滕州市邮政分公司,2020-07-15', // line 4: opens after today
    '村级,,第1镇,丙村,否,滕州市邮政分公司,2020-05-01',
  ].join('\n');
  // the shape of each cell first: a 400 naming line 3
  let r = await post(`${base}/register/stations/csv`, { file: await upload('站点.csv', csv) });
  expect(r.status).toBe(400);
  expect(r.body.violations.map((v: { field: string }) => v.field)).toEqual(['line[3].poorVillage']);
  expect(r.body.detail).toContain('第 3 行「贫困村」');
  // then the register's rules: a 422 naming lines 2 and 4
  r = await post(`${base}/register/stations/csv`, {
    file: await upload('站点2.csv', csv.replace('也许', '否')),
  });
  expect(r.status).toBe(422);
  expect(r.body.rules).toEqual(['R-EV-1']);
  expect(r.body.violations.map((v: { message: string }) => v.message)).toEqual([
    '第 2 行：村级站点须填写所在行政村',
    '第 4 行：开业日期 2020-07-15 晚于今天（2020-06-30），台账只登记已经建成或已经举办的',
  ]);
  // an unknown column is named too
  r = await post(`${base}/register/stations/csv`, {
    file: await upload('站点3.csv', '级别,颜色\n村级,红\n'),
  });
  expect(r.status).toBe(400);
  expect(r.body.detail).toContain('表头「颜色」不是可识别的列');
  // a NUL in a cell is named, not a 500 from the database
  r = await post(`${base}/register/stations/csv`, {
    file: await upload('站点4.csv', '级别,名称,运营主体,开业日期\n县级,中\u0000心,某,2020-01-01\n'),
  });
  expect(r.status).toBe(400);
  expect(r.body.detail).toContain('第 2 行「名称」含有空字符');
  expect(await t.count('event')).toBe(before);
  expect(
    (await t.call('GET', `${base}/register`, { token: t.tokens.office })).body.stations,
  ).toEqual([]);
});

test("Tengzhou's coverage from a CSV of stations across its 21 towns: 240 points in 240 of 300 villages = 80% (R-EV-1)", async () => {
  const lines = [
    'level,name,town,village,poorVillage,operator,openedOn,seq',
    'county,滕州市电子商务公共服务中心,,,,滕州市邮政分公司,2020-01-15,1',
    ...TOWNS.map((town) => `town,,${town},,,滕州市邮政分公司,2020-03-01,2`),
    ...Array.from(
      { length: 240 },
      (_, k) =>
        `village,,${TOWNS[k % 21]},村${k + 1},${k < 24 ? 'true' : 'false'},滕州市邮政分公司,2020-05-01,2`,
    ),
  ];
  const r = await post(`${base}/register/stations/csv`, {
    file: await upload('滕州站点.csv', lines.join('\n')),
  });
  expect(r.status).toBe(201);
  expect(r.body.stations).toHaveLength(262);
  expect(r.body.stations[0]).toMatchObject({
    id: 'S1',
    level: 'county',
    levelName: '县级',
    seq: 1,
  });
  const a = byId(r.body.attainment);
  expect(a.county_centre).toMatchObject({ value: '1', status: 'met' });
  expect(a.towns_covered).toMatchObject({ value: '21', status: 'met' });
  expect(a.village_points).toMatchObject({ value: '240', status: 'met' });
  expect(a.village_coverage).toMatchObject({
    value: '80',
    status: 'met',
    note: '240 / 300 个行政村',
  });
  expect(a.poor_village_coverage).toMatchObject({ value: '60', status: 'met' });
  // the file's name and hash stay with the event, in the audit record
  const ev = await t.call('GET', `${base}/events`, { token: t.tokens.supervisor });
  const last = ev.body.items[ev.body.items.length - 1];
  expect(last).toMatchObject({ type: 'StationsRegistered', commandName: '登记服务站点' });
  expect(last.data.source).toContain('滕州站点.csv');
  // registering the same village again is refused
  const again = await post(`${base}/register/stations`, {
    stations: [
      { level: 'village', town: '第1镇', village: '村1', operator: '某', openedOn: '2020-06-01' },
    ],
  });
  expect(again.status).toBe(422);
  expect(again.body.violations[0].message).toContain('已登记的 S23');
});

test('training person-times from JSON and CSV; an incomplete archive is not counted (R-EV-1, R-AC-1)', async () => {
  let r = await post(`${base}/register/trainings`, {
    sessions: [
      {
        date: '2020-04-10',
        place: '龙阳镇',
        trainees: 800,
        personTimes: 1600,
        archiveComplete: true,
      },
    ],
  });
  expect(r.status).toBe(201);
  const csv = [
    '日期,地点,培训人数,培训人次,档案齐全',
    '2020-05-10,滕州市电子商务公共服务中心,900,1800,是',
    '2020-06-01,级索镇,300,300,否',
  ].join('\n');
  r = await post(`${base}/register/trainings/csv`, { file: await upload('培训.csv', csv) });
  expect(r.status).toBe(201);
  expect(byId(r.body.attainment).training_person_times).toMatchObject({
    value: '3400',
    status: 'on_track',
    note: '另有 1 场培训（300 人次）培训档案不全，不计入（R-AC-1）',
  });
  r = await post(`${base}/register/trainings`, {
    sessions: [
      {
        date: '2020-06-20',
        place: '荆河街道',
        trainees: 50,
        personTimes: 40,
        archiveComplete: true,
      },
    ],
  });
  expect(r.status).toBe(422);
  expect(r.body.violations[0]).toMatchObject({
    rule: 'R-EV-1',
    field: 'sessions[0].personTimes',
    message: '第 1 条：培训人次 40 少于培训人数 50',
  });
});

test('a value entered with evidence: county → village ≤ 48 h; the register-measured ones refuse it', async () => {
  const evidence = { title: '滕州市快递物流配送时效抽查报告', number: '滕商务〔2020〕8号' };
  let r = await post(`${base}/indicators/county_to_village_hours/values`, {
    value: '36',
    asOf: '2020-06-15',
    evidence,
  });
  expect(r.status).toBe(201);
  expect(byId(r.body.attainment).county_to_village_hours).toMatchObject({
    value: '36',
    status: 'met',
  });
  r = await post(`${base}/indicators/village_points/values`, {
    value: '1',
    asOf: '2020-06-15',
    evidence,
  });
  expect(r.status).toBe(422);
  expect(r.body.rules).toEqual(['R-EV-1']);
  r = await post(`${base}/indicators/no_such/values`, { value: '1', asOf: '2020-06-15', evidence });
  expect(r.status).toBe(404);
  r = await post(`${base}/indicators/Bad-Id/values`, { value: '1', asOf: '2020-06-15', evidence });
  expect(r.status).toBe(404);
  r = await post(`${base}/indicators/county_to_village_hours/values`, {
    value: '-1',
    asOf: 'x',
    evidence,
  });
  expect(r.status).toBe(400);
});

test('a contractor registers nothing for a subproject not awarded to it (R-TD-3); everyone logged in reads the register', async () => {
  const r = await post(
    `${base}/register/trainings`,
    {
      sessions: [
        { date: '2020-06-20', place: '某地', trainees: 1, personTimes: 1, archiveComplete: true },
      ],
    },
    t.tokens.contractor,
  );
  expect(r.status).toBe(403);
  expect(r.body.code).toBe('R-TD-3');
  const v = await post(
    `${base}/indicators/county_to_village_hours/values`,
    { value: '1', asOf: '2020-06-15', evidence: { title: 'x' } },
    t.tokens.contractor,
  );
  expect(v.status).toBe(403);
  const g = await t.call('GET', `${base}/register`, { token: t.tokens.evaluator });
  expect(g.status).toBe(200);
  // the history: month by month from the plan's start (2019-07) to now (2020-06)
  expect(g.body.history.months).toHaveLength(12);
  const hist = g.body.history.items.find((i: { id: string }) => i.id === 'training_person_times');
  expect(hist.values.slice(-3)).toEqual(['1600', '3400', '3400']);
  expect(g.body.trainings).toHaveLength(3);
  expect((await t.call('GET', base, { token: t.tokens.office })).body.registered).toEqual({
    stations: 262,
    trainings: 3,
    values: 1,
    funded: 0,
  });
  const doc = (await t.call('GET', '/openapi.json')).body;
  expect(Object.keys(doc.paths)).toEqual(
    expect.arrayContaining([
      '/api/programs/{code}/register',
      '/api/programs/{code}/register/stations',
      '/api/programs/{code}/register/stations/csv',
      '/api/programs/{code}/register/trainings',
      '/api/programs/{code}/register/trainings/csv',
      '/api/programs/{code}/register/subsidies',
      '/api/programs/{code}/register/subsidies/csv',
      '/api/programs/{code}/indicators/{indicator}/values',
    ]),
  );
});

test('shifan register trainings imports a CSV; a bad file exits 1 naming each row and stores nothing', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'shifan-register-'));
  const good = path.join(dir, '培训.csv');
  writeFileSync(
    good,
    'date,place,trainees,personTimes,archiveComplete\n2020-06-25,东沙河街道,200,400,是\n',
  );
  const bad = path.join(dir, '培训-错.csv');
  writeFileSync(
    bad,
    '日期,地点,培训人数,培训人次,档案齐全\n2020-06-25,,200,400,是\n2020-06-26,某地,二百,400,是\n',
  );
  const env = { DATABASE_URL: t.db.url };
  const before = await t.count('event');
  const refused = await runCli(['register', 'trainings', 'tengzhou-2019', bad], env);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain('第 2 行「地点」');
  expect(refused.stderr).toContain('第 3 行「培训人数」');
  expect(await t.count('event')).toBe(before);
  const ok = await runCli(['register', 'trainings', 'tengzhou-2019', good], env);
  expect(ok.stderr).toBe('');
  expect(ok.code).toBe(0);
  expect(ok.stdout).toContain('培训 4 场');
  expect(ok.stdout).toMatch(/电商培训（training_person_times）\t3800\t目标 ≥ 5000 人次/);
  expect(await t.count('event')).toBe(before + 1);
});

describe('the console: targets on the program page (R-EV-1)', () => {
  const page = async () => {
    const r = await fetch(`${t.base}/programs/tengzhou-2019`, {
      headers: { cookie: `shifan_session=${t.tokens.office}` },
    });
    expect(r.status).toBe(200);
    const csrfCookie = (r.headers.getSetCookie?.() ?? [])
      .map((c) => c.split(';')[0])
      .filter((c) => c.startsWith('shifan_csrf='));
    const html = await r.text();
    return { html, csrf: /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '', csrfCookie };
  };

  test('the table names each target with its figure and status, and the bar chart is an SVG', async () => {
    const { html } = await page();
    const row = /<tr id="target-village_coverage">([\s\S]*?)<\/tr>/.exec(html)?.[1] ?? '';
    expect(row).toContain('电商服务覆盖的行政村比例');
    expect(row).toContain('≥ 70%');
    expect(row).toContain('80%');
    expect(row).toContain('已达成');
    expect(row).toContain('240 / 300 个行政村');
    expect(html).toMatch(/<figure class="chart"><svg[\s\S]*绩效目标完成程度/);
    expect(html).toContain('导入服务站点（CSV）');
    expect(html).toContain('<summary>服务站点（262 个）</summary>');
    expect(html).toMatch(
      /<td>T3<\/td><td>2020年6月1日<\/td><td>级索镇<\/td><td class="num">300<\/td><td class="num">300<\/td><td><span class="bad">不全，不计入<\/span>/,
    );
  });

  test('a stations CSV from the form: a bad file comes back with each bad row named and nothing stored', async () => {
    const { csrf, csrfCookie } = await page();
    const before = await t.count('event');
    const body = new FormData();
    body.set('_csrf', csrf);
    body.set('_form', 'stations');
    body.set(
      'file',
      new Blob(['级别,镇街,行政村,运营主体,开业日期\n村级,第2镇,,某公司,2020-06-01\n'], {
        type: 'text/csv',
      }),
      '站点.csv',
    );
    const r = await fetch(`${t.base}/programs/tengzhou-2019/register/stations`, {
      method: 'POST',
      headers: { cookie: [`shifan_session=${t.tokens.office}`, ...csrfCookie].join('; ') },
      body,
      redirect: 'manual',
    });
    expect(r.status).toBe(422);
    expect(await r.text()).toContain('第 2 行：村级站点须填写所在行政村');
    expect(await t.count('event')).toBe(before);
  });
});

test("Shicheng's per-unit caps (R-FUND-5): a loan of 20.01万 to one borrower is refused with the figures; a CSV of loans within the caps is registered", async () => {
  const table = JSON.parse(
    readFileSync(path.join(__dirname, '..', '..', 'examples', 'shicheng-2020.json'), 'utf8'),
  );
  expect((await post('/api/programs', table)).status).toBe(201);
  const sc = '/api/programs/shicheng-2020';
  const before = await t.count('event');
  let r = await post(`${sc}/register/subsidies`, {
    entries: [
      { item: 'loan', unit: '石城县某电商合作社', amount: '20.01', date: '2020-06-01', seq: 6 },
    ],
  });
  expect(r.status).toBe(422);
  expect(r.body.rules).toEqual(['R-FUND-5']);
  expect(r.body.violations[0]).toMatchObject({
    field: 'entries[0].amount',
    message:
      '第 1 条：单个支持对象贷款「石城县某电商合作社」20.01万元 > 每个不超过 20万元（R-FUND-5）',
    figures: { unit: '石城县某电商合作社', total: '20.01', cap: '20' },
  });
  r = await post(`${sc}/register/subsidies`, {
    entries: [{ item: 'loan', unit: '某', amount: '0.0000001', date: '2020-06-01' }],
  });
  // finer than a fen: refused by the amount's form (the schema states at most six decimals in 万元)
  expect(r.status).toBe(400);
  expect(r.body.errors.map((e: { path: string }) => e.path)).toEqual(['entries[0].amount']);
  expect(await t.count('event')).toBe(before);
  const csv = [
    '补助项目,补助对象,金额（万元）,日期,分项目',
    'loan,石城县某电商合作社,20,2020-06-01,6',
    'loan,个体网商张某,15,2020-06-02,6',
    'demo_town,小松镇,20,2020-06-03,7',
  ].join('\n');
  r = await post(`${sc}/register/subsidies/csv`, { file: await upload('贷款.csv', csv) });
  expect(r.status).toBe(201);
  expect(
    r.body.funded.map((f: { id: string; amount: { wan: string } }) => [f.id, f.amount.wan]),
  ).toEqual([
    ['U1', '20'],
    ['U2', '15'],
    ['U3', '20'],
  ]);
  // the same borrower again, past the cap, from a file: named by its line
  r = await post(`${sc}/register/subsidies/csv`, {
    file: await upload(
      '贷款2.csv',
      '补助项目,补助对象,金额,日期\nloan,个体网商张某,5.01,2020-06-20\n',
    ),
  });
  expect(r.status).toBe(422);
  expect(r.body.violations[0].message).toBe(
    '第 2 行：单个支持对象贷款「个体网商张某」已有 15万元，加上本笔 5.01万元 合计 20.01万元 > 每个不超过 20万元（R-FUND-5）',
  );
});

test("Shicheng's program page lists the supported units under their caps (R-FUND-5)", async () => {
  const r = await fetch(`${t.base}/programs/shicheng-2020`, {
    headers: { cookie: `shifan_session=${t.tokens.office}` },
  });
  const html = await r.text();
  expect(r.status).toBe(200);
  expect(html).toMatch(
    /<td>U1<\/td><td>单个支持对象贷款<\/td><td>石城县某电商合作社<\/td><td class="num">20<\/td>/,
  );
  expect(html).toContain('导入补助对象（CSV，R-FUND-5）');
  // its targets sit on its subprojects 3 and 4
  expect(html).toMatch(
    /<tr id="target-training_person_times"><td>新增电子商务培训人数 <span class="muted">分项目3<\/span>/,
  );
});

test('a batch of trainings sent twice with one Idempotency-Key is registered once (its person-times counted once)', async () => {
  const sc = '/api/programs/shicheng-2020';
  const body = {
    sessions: [
      {
        date: '2020-06-10',
        place: '石城县电子商务公共服务中心',
        trainees: 120,
        personTimes: 240,
        archiveComplete: true,
        seq: 3,
      },
    ],
  };
  const headers = { 'idempotency-key': 'trainings-2020-06-10' };
  const first = await t.call('POST', `${sc}/register/trainings`, {
    token: t.tokens.office,
    body,
    headers,
  });
  expect(first.status).toBe(201);
  const again = await t.call('POST', `${sc}/register/trainings`, {
    token: t.tokens.office,
    body,
    headers,
  });
  expect(again.status).toBe(200);
  expect(again.headers.get('idempotent-replayed')).toBe('true');
  const reg = await t.call('GET', `${sc}/register`, { token: t.tokens.office });
  expect(reg.body.trainings).toHaveLength(1);
  expect(byId(reg.body.attainment).training_person_times).toMatchObject({ seq: 3, value: '240' });
  // the same key for another batch is refused and registers nothing
  const other = await t.call('POST', `${sc}/register/trainings`, {
    token: t.tokens.office,
    body: { sessions: [{ ...body.sessions[0], trainees: 121, personTimes: 241 }] },
    headers,
  });
  expect(other.status).toBe(422);
  expect(other.body.code).toBe('IDEMPOTENCY-MISMATCH');
});
