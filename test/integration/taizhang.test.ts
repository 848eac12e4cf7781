// 项目台账 as XLSX (issue 17, R-PUB-2): its sheets, print setup and decimals, and totals equal to the
// ledger API to the fen, for a program with payments, a clawback and a partial recovery.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { Notifier } from '../../activities/notify/dispatch';
import { XLSX_TYPE } from '../../app/budget-xlsx';
import { parseMoney } from '../../workflows/money';
import { runCli } from '../support/cli';
import { ok, tengzhouWithMoney } from '../support/flows';
import { startTestServer, type TestServer } from '../support/server';

jest.setTimeout(90_000);
let t: TestServer;
let wb: ExcelJS.Workbook;
let ledger: any;
beforeAll(async () => {
  t = await startTestServer();
  await tengzhouWithMoney(t);
  // the outbox issues the notices (公示, 整改通知书, 通报, 追回通知) with their 文号 (no PDF, no mail)
  await new Notifier({
    pool: t.rt.pool,
    mailer: { describe: 'none', send: () => Promise.resolve(), close: () => {} },
    now: () => t.clock.now(),
    font: null,
    from: 'noreply@shifan.local',
  }).runOnce();
  ledger = ok(
    await t.call('GET', '/api/programs/tengzhou-2019/ledger', { token: t.tokens.finance }),
  );
  const res = await fetch(`${t.base}/api/programs/tengzhou-2019/taizhang.xlsx`, {
    headers: { authorization: `Bearer ${t.tokens.supervisor}` },
  });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe(XLSX_TYPE);
  expect(res.headers.get('content-disposition')).toContain(
    encodeURIComponent('tengzhou-2019-项目台账.xlsx'),
  );
  wb = new ExcelJS.Workbook();
  await wb.xlsx.load(await res.arrayBuffer());
});
afterAll(async () => {
  await t?.close();
});

/** A money cell back to fen, exactly (a number through its shortest decimal form, or exact text). */
const fen = (c: ExcelJS.Cell) => {
  const v = c.value;
  if (typeof v !== 'number' && typeof v !== 'string') throw new Error(`${c.address} is no amount`);
  return parseMoney(String(v), '万元');
};
const rowWhere = (ws: ExcelJS.Worksheet, label: string) => {
  for (let r = 1; r <= ws.rowCount; r++)
    if (ws.getRow(r).getCell(1).value === label) return ws.getRow(r);
  throw new Error(`no row ${label} in ${ws.name}`);
};

test('one sheet each, frozen header, A4 landscape with the header repeated', () => {
  expect(wb.worksheets.map((w) => w.name)).toEqual([
    '分项目',
    '里程碑',
    '资金拨付',
    '追回与收回',
    '文件与通知',
  ]);
  for (const ws of wb.worksheets) {
    expect(ws.pageSetup).toMatchObject({ paperSize: 9, orientation: 'landscape', fitToWidth: 1 });
    expect(ws.views[0]).toMatchObject({ state: 'frozen' });
    expect(ws.pageSetup.printTitlesRow).toMatch(/^1:[34]$/);
  }
  expect(wb.getWorksheet('分项目')!.views[0]).toMatchObject({ ySplit: 4, xSplit: 2 });
});

test('the 分项目 合计 row equals the ledger API to the fen, per source; each row its subproject’s', () => {
  const ws = wb.getWorksheet('分项目')!;
  const total = rowWhere(ws, '合计');
  const figures = (row: ExcelJS.Row) =>
    Array.from({ length: 11 }, (_, i) => fen(row.getCell(11 + i)));
  const L = (x: any) => [
    ...x.bySource.map((s: any) => s.budgeted.fen),
    x.total.budgeted.fen,
    ...x.bySource.map((s: any) => s.disbursed.fen),
    x.total.disbursed.fen,
    x.total.clawbackDemanded.fen,
    x.total.recovered.fen,
    x.total.outstanding.fen,
  ];
  expect(figures(total)).toEqual(L(ledger));
  expect(L(ledger).slice(4, 11)).toEqual([
    350_000_001, 160_000_000, 0, 510_000_001, 200_000_000, 120_500_000, 79_500_000,
  ]);
  for (const [i, sp] of ledger.subprojects.entries()) {
    const row = ws.getRow(5 + i);
    expect(row.getCell(1).value).toBe(sp.seq);
    expect(figures(row)).toEqual(L(sp));
  }
  // the rows sum to the 合计 row, column by column
  for (let c = 0; c < 11; c++)
    expect(
      ledger.subprojects.reduce(
        (a: number, _: unknown, i: number) => a + figures(ws.getRow(5 + i))[c],
        0,
      ),
    ).toBe(figures(total)[c]);
  expect(ws.getRow(7).getCell(5).value).toBe('实施中');
  expect(ws.getRow(7).getCell(6).value).toBe('滕州市邮政分公司');
  expect(ws.getRow(7).getCell(10).value).toBe('2/2 已验收');
  expect(ws.getRow(8).getCell(5).value).toBe('已终止，追回中');
  // 万元 with the decimals the figures need: 150.000001 shows all six, every amount alike
  expect(total.getCell(15).numFmt).toBe('#,##0.000000');
  expect(ws.getRow(5).getCell(11).numFmt).toBe('#,##0.000000');
});

test('disbursements, clawbacks and recoveries, milestones and documents', () => {
  const dis = wb.getWorksheet('资金拨付')!;
  const rows = Array.from({ length: dis.rowCount - 3 }, (_, i) => dis.getRow(4 + i));
  const body = rows.filter((r) => typeof r.getCell(1).value === 'number');
  expect(
    body.map((r) => [
      r.getCell(1).value,
      r.getCell(4).value,
      r.getCell(6).value,
      fen(r.getCell(7)),
    ]),
  ).toEqual([
    [3, 'T1', '中央财政资金', 150_000_001],
    [3, 'T3', '地方配套资金', 160_000_000],
    [4, 'T1', '中央财政资金', 200_000_000],
  ]);
  expect(fen(rowWhere(dis, '合计').getCell(7))).toBe(ledger.total.disbursed.fen);

  const cl = wb.getWorksheet('追回与收回')!;
  const t4 = rowWhere(cl, '合计');
  expect([fen(t4.getCell(7)), fen(t4.getCell(8))]).toEqual([
    ledger.total.clawbackDemanded.fen,
    ledger.total.recovered.fen,
  ]);
  expect(cl.getRow(4).getCell(3).value).toBe('追回');
  expect(cl.getRow(5).getCell(3).value).toBe('收回');
  expect(cl.getRow(5).getCell(9).value).toBe('收款凭证 2020-001');

  const mil = wb.getWorksheet('里程碑')!;
  expect(mil.getRow(4).getCell(3).value).toBe('M1');
  expect(fen(mil.getRow(4).getCell(12))).toBe(150_000_001);
  expect(mil.getRow(7).getCell(6).value).toBe('验收不合格（终止）');

  const docs = wb.getWorksheet('文件与通知')!;
  const texts = Array.from(
    { length: docs.rowCount },
    (_, i) => docs.getRow(i + 1).getCell(3).value,
  );
  expect(texts).toContainEqual(expect.stringMatching(/^滕商务〔20\d\d〕\d+号$/));
});

test('who may read it: office, finance, supervisor; a contractor is refused (403), an unknown program 404', async () => {
  const get = (p: string, token: string) =>
    fetch(`${t.base}${p}`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);
  expect(await get('/api/programs/tengzhou-2019/taizhang.xlsx', t.tokens.contractor)).toBe(403);
  expect(await get('/api/programs/tengzhou-2019/taizhang.xlsx', t.tokens.office)).toBe(200);
  expect(await get('/api/programs/nowhere-1/taizhang.xlsx', t.tokens.office)).toBe(404);
});

describe('the ministry report (R-FUND-9)', () => {
  const report = async (q: string) => {
    const res = await fetch(`${t.base}/api/programs/tengzhou-2019/reports/ministry?${q}`, {
      headers: { authorization: `Bearer ${t.tokens.finance}` },
    });
    return {
      status: res.status,
      type: res.headers.get('content-type'),
      bytes: Buffer.from(await res.arrayBuffer()),
    };
  };
  const quarterOf = (iso: string) => {
    const d = new Date(Date.parse(iso) + 8 * 3600_000); // Asia/Shanghai
    return `${d.getUTCFullYear()}Q${Math.floor(d.getUTCMonth() / 3) + 1}`;
  };
  const csv = async (period: string) => {
    const r = await report(`period=${period}`);
    expect(r.status).toBe(200);
    const text = r.bytes.toString('utf8');
    expect(text.startsWith('\ufeff')).toBe(true);
    const [head, ...rows] = text.slice(1).trim().split('\r\n');
    const cols = head.split(',');
    return rows.map((line) => Object.fromEntries(line.split(',').map((v, i) => [cols[i], v])));
  };

  test('per subproject: cumulative disbursements equal the ledger to the fen; the periods add up to them', async () => {
    const periods = new Set<string>();
    for (const seq of [3, 4]) {
      const s = ok(
        await t.call('GET', `/api/programs/tengzhou-2019/subprojects/${seq}`, {
          token: t.tokens.office,
        }),
      );
      for (const d of s.disbursements) periods.add(quarterOf(d.at));
    }
    const now = quarterOf(t.clock.now().toISOString());
    const last = await csv(now);
    expect(last).toHaveLength(7);
    const yuan = (fen: number) => `${Math.trunc(fen / 100)}.${String(fen % 100).padStart(2, '0')}`;
    for (const [i, sp] of ledger.subprojects.entries()) {
      const row = last[i];
      expect(row['分项目序号']).toBe(String(sp.seq));
      expect([
        row['累计拨付中央（元）'],
        row['累计拨付地方（元）'],
        row['累计拨付企业（元）'],
      ]).toEqual(sp.bySource.map((b: any) => yuan(b.disbursed.fen)));
      expect(row['累计追回（元）']).toBe(yuan(sp.total.recovered.fen));
      expect(row['预算中央（元）']).toBe(yuan(sp.bySource[0].budgeted.fen));
    }
    expect(last[2]).toMatchObject({
      '累计拨付中央（元）': '1500000.01',
      状态: '实施中',
      里程碑已验收: '2',
      里程碑总数: '2',
    });
    // every period's 本期 figures sum to the cumulative ones
    let sum = 0;
    for (const q of [...periods, now].filter((q, i, a) => a.indexOf(q) === i)) {
      const rows = await csv(q);
      sum += rows.reduce((a, r) => a + parseMoney(r['本期拨付中央（元）'], '元'), 0);
    }
    expect(sum).toBe(ledger.bySource[0].disbursed.fen);
  });

  test('XLSX with the same figures; a malformed period is a 400 naming it', async () => {
    const now = quarterOf(t.clock.now().toISOString());
    const x = await report(`period=${now}&format=xlsx`);
    expect(x.status).toBe(200);
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(x.bytes as unknown as ArrayBuffer);
    const ws = book.getWorksheet('商务部报送')!;
    const head = (ws.getRow(1).values as unknown[]).slice(1);
    const col = head.indexOf('累计拨付中央（元）') + 1;
    expect(ws.getRow(4).getCell(col).value).toBe(1500000.01);
    expect(ws.getRow(4).getCell(col).numFmt).toBe('0.00');
    const bad = await report('period=2020Q5');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.bytes.toString()).errors[0].path).toBe('period');
  });
});

test('the CLI writes the 台账, the OCDS package and the ministry report', async () => {
  const env = { DATABASE_URL: t.db.url };
  const dir = mkdtempSync(path.join(tmpdir(), 'shifan-exports-'));
  const out = (f: string) => path.join(dir, f);
  const tz = await runCli(['export', 'taizhang', 'tengzhou-2019', '--out', out('t.xlsx')], env);
  expect([tz.code, tz.stderr]).toEqual([0, '']);
  const book = new ExcelJS.Workbook();
  await book.xlsx.load(readFileSync(out('t.xlsx')) as never);
  expect(book.worksheets).toHaveLength(5);
  const oc = await runCli(['export', 'ocds', 'tengzhou-2019', '--out', out('o.json')], env);
  expect(oc.code).toBe(0);
  const pkg = JSON.parse(readFileSync(out('o.json'), 'utf8'));
  expect(pkg.version).toBe('1.1');
  expect(pkg.releases.length).toBeGreaterThanOrEqual(7);
  const rep = await runCli(
    ['report', 'ministry', 'tengzhou-2019', '--quarter', '2020Q1', '--out', out('r.csv')],
    env,
  );
  expect(rep.code).toBe(0);
  expect(readFileSync(out('r.csv'), 'utf8').split('\r\n')[0]).toContain('累计拨付中央（元）');
  const neither = await runCli(['report', 'ministry', 'tengzhou-2019'], env);
  expect(neither.code).toBe(1);
  expect(neither.stderr).toContain('--quarter');
});
