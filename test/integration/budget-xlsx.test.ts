// Budget tables from Excel (issue 17): the counties' layout imports with the JSON import's checks and
// result, refusals name sheet, cell and rule and store nothing, a program's table exported as XLSX imports
// again as the same program; the shipped examples are what scripts/xlsx-examples.ts builds.
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import ExcelJS from 'exceljs';
import { parseBudgetWorkbook, XLSX_TYPE } from '../../app/budget-xlsx';
import { definitionFromTable, ProgramTable } from '../../workflows/program/table';
import { exampleWorkbook } from '../../scripts/xlsx-examples';
import { runCli } from '../support/cli';
import { loadTable } from '../support/fixtures';
import { startTestServer, type TestServer } from '../support/server';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.close();
});

const EXAMPLES = path.join(__dirname, '..', '..', 'examples');
const exampleJson = (name: string) =>
  ProgramTable.parse(JSON.parse(readFileSync(path.join(EXAMPLES, `${name}.json`), 'utf8')));
const exampleXlsx = (name: string) => readFileSync(path.join(EXAMPLES, `${name}.xlsx`));

async function upload(bytes: Buffer | string, token = t.tokens.office) {
  const res = await fetch(`${t.base}/api/programs/xlsx`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': XLSX_TYPE },
    body: typeof bytes === 'string' ? bytes : new Uint8Array(bytes),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
}
async function download(p: string, token = t.tokens.finance) {
  const res = await fetch(`${t.base}${p}`, { headers: { authorization: `Bearer ${token}` } });
  return {
    status: res.status,
    type: res.headers.get('content-type'),
    bytes: Buffer.from(await res.arrayBuffer()),
  };
}
const workbook = async (bytes: Buffer) => {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(bytes as unknown as ArrayBuffer);
  return wb;
};
const bytesOf = async (wb: ExcelJS.Workbook) => Buffer.from(await wb.xlsx.writeBuffer());
/** The Tengzhou example with one edit, renamed so that it would import as a new program. */
async function tengzhouWith(edit: (ws: ExcelJS.Worksheet, wb: ExcelJS.Workbook) => void) {
  const wb = await workbook(exampleXlsx('tengzhou-2019'));
  wb.getWorksheet('项目信息')!.getCell('B1').value = 'edited-1';
  edit(wb.getWorksheet('资金安排表')!, wb);
  return bytesOf(wb);
}

describe('the shipped examples', () => {
  test.each(['tengzhou-2019', 'shicheng-2020'])(
    '%s.xlsx is what the script builds and reads as the JSON example, to the fen',
    async (name) => {
      const shipped = await parseBudgetWorkbook(exampleXlsx(name));
      const built = await parseBudgetWorkbook(await exampleWorkbook(name as 'tengzhou-2019'));
      expect(shipped.table).toEqual(built.table);
      expect(definitionFromTable(shipped.table)).toEqual(definitionFromTable(exampleJson(name)));
      // the test fixtures are the examples without their 机关代字, contacts and targets (R-EV-1)
      const { docPrefix: _p, disclosure: _d, indicators: _i, ...rest } = shipped.table;
      const bare = {
        ...rest,
        subprojects: rest.subprojects.map(({ indicators: _si, ...sp }) => sp),
      };
      expect(definitionFromTable(bare)).toEqual(
        definitionFromTable(ProgramTable.parse(loadTable(name as 'tengzhou-2019'))),
      );
    },
  );

  test('both import through the API (201) with the JSON import result', async () => {
    for (const name of ['tengzhou-2019', 'shicheng-2020']) {
      const r = await upload(exampleXlsx(name));
      expect(r.status).toBe(201);
      expect(r.headers.get('location')).toBe(`/api/programs/${name}`);
    }
    const r = await t.call('GET', '/api/programs/shicheng-2020', { token: t.tokens.supervisor });
    expect(r.body.budget.bySource.map((s: { fen: number }) => s.fen)).toEqual([
      1_500_000_000, 700_000_000, 1_300_000_000,
    ]);
    expect(r.body.subprojects[0]).toMatchObject({
      seq: 1,
      direction: 'public_service_centre',
      procurement: 'to_be_decided',
      deadline: '2020-12-31',
      funding: { central: { fen: 225_000_000 }, total: { wan: '725' } },
    });
    expect(r.body.disclosure.phones).toEqual([
      '江西省商务厅 0791-86246339',
      '石城县商务局 0797-5792681',
    ]);
    expect(r.body.parcelSubsidy.perParcel).toEqual({ fen: 50, wan: '0.00005' });
    expect(r.body.unitCaps[0].maxAveragePerUnit).toEqual({ fen: 10_000_000, wan: '10' });
    expect(await t.count('subproject')).toBe(14);
  });

  test('round trip: a program’s table exported as XLSX imports again as the same program', async () => {
    const x = await download('/api/programs/tengzhou-2019/table.xlsx');
    expect(x.status).toBe(200);
    expect(x.type).toBe(XLSX_TYPE);
    const again = await parseBudgetWorkbook(x.bytes);
    expect(definitionFromTable(again.table)).toEqual(
      definitionFromTable(exampleJson('tengzhou-2019')),
    );
    const wb = await workbook(x.bytes);
    wb.getWorksheet('项目信息')!.getCell('B1').value = 'tengzhou-copy';
    expect((await upload(await bytesOf(wb))).status).toBe(201);
    const [a, b] = await Promise.all(
      ['tengzhou-2019', 'tengzhou-copy'].map((c) =>
        t.call('GET', `/api/programs/${c}`, { token: t.tokens.office }),
      ),
    );
    const same = (v: Record<string, unknown>) => ({ ...v, code: '', version: 0, createdAt: '' });
    expect(same(b.body)).toEqual(same(a.body));
  });

  test('the template downloads, and filled in it imports', async () => {
    const x = await download('/api/programs/xlsx/template', t.tokens.contractor);
    expect(x.status).toBe(200);
    const wb = await workbook(x.bytes);
    const info = wb.getWorksheet('项目信息')!;
    ['from-template', '试点县示范', '江西省', '试点县', 2021].forEach((v, i) => {
      info.getCell(i + 1, 2).value = v;
    });
    const ws = wb.getWorksheet('资金安排表')!;
    const rows: [string, string, number, number][] = [
      ['县级公共服务中心', '县级电子商务公共服务中心', 15, 5],
      ['物流配送', '物流配送体系', 60, 10],
      ['培训', '电子商务培训', 25, 0],
    ];
    rows.forEach(([name, dir, c, l], i) => {
      const r = ws.getRow(5 + i);
      r.getCell(1).value = i + 1;
      r.getCell(2).value = name;
      r.getCell(4).value = dir;
      r.getCell(9).value = c;
      r.getCell(10).value = l;
      r.getCell(11).value = 0;
    });
    const total = ws.getRow(12);
    expect(total.getCell(1).value).toBe('合计');
    [115, 100, 15, 0].forEach((v, j) => (total.getCell(8 + j).value = v));
    const r = await upload(await bytesOf(wb));
    expect(r.body.detail).toBeUndefined();
    expect(r.status).toBe(201);
    expect(r.body.budget.total).toEqual({ fen: 115_000_000, wan: '115' });
    expect(r.body.subprojects.map((s: { procurement: string }) => s.procurement)).toEqual([
      'to_be_decided',
      'to_be_decided',
      'to_be_decided',
    ]);
  });
});

describe('the usual variations of a county’s sheet read as the same table', () => {
  test('元 in the title, other header wording, one header row, blank lines, headings, numbers as text, notes after 合计', async () => {
    const src = exampleJson('tengzhou-2019');
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('Sheet1'); // renamed sheet: found by its header
    ws.addRow(['滕州市电子商务进农村综合示范项目资金安排表（单位：元）']);
    ws.mergeCells('A1:H1');
    ws.addRow([]);
    ws.addRow([
      '编号',
      '项目',
      '具体建设内容',
      '投向类别',
      '中央资金',
      '县级配套',
      '企业自筹资金',
      '小计',
      '完成时间',
    ]);
    ws.addRow(['一、基础设施']);
    // 万元 → 元 text with separators and two decimals: "141" → "1,410,000.00"
    const yuan = (wan: string | number | undefined) =>
      `${(BigInt(String(wan)) * 10000n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.00`;
    src.subprojects.forEach((s, i) => {
      if (i === 3) ws.addRow([]); // a blank line
      ws.addRow([
        String(s.seq), // text
        s.name,
        s.goal,
        {
          public_service_centre: '公共服务中心',
          service_stations: '镇村服务站点',
          logistics: '三级物流',
          rural_products_upward: '农产品上行',
          training: '人才培训',
          poverty_alleviation: '电商扶贫',
          promotion: '宣传推广',
        }[s.direction as string],
        i % 2 ? yuan(s.funding.central) : Number(s.funding.central) * 10000, // text with separators, or numbers
        s.funding.local === '0' ? '—' : yuan(s.funding.local),
        '0',
        '',
        s.deadline!.replace(/^(\d+)-(\d+)-(\d+)$/, '$1年$2月'),
      ]);
    });
    ws.addRow(['合  计', '', '', '', '15,000,000.00', '6,000,000.00', '0', '21,000,000.00', '']);
    ws.addRow(['注：以上资金据实结算。']);
    const info = wb.addWorksheet('项目信息');
    [
      ['项目代码', 'tengzhou-variant'],
      ['省份', '山东省'],
      ['县（市、区）', '滕州市'],
      ['年度', '2019年'],
    ].forEach((r) => info.addRow(r));
    const phases = wb.addWorksheet('阶段计划');
    phases.addRow(['阶段键', '阶段名称', '开始', '结束']);
    for (const p of src.phases!) phases.addRow([p.key, p.name, p.start ?? '', p.end ?? '']);
    const caps = wb.addWorksheet('单位限额');
    caps.addRow(['事项代码', '名称', '每个上限（万元）', '资金来源']);
    for (const c of src.unitCaps)
      caps.addRow([c.item, c.name, 'maxPerUnit' in c ? c.maxPerUnit : '', '中央']);
    // Tengzhou's targets: written on the row the way the template writes them
    ws.getCell('J8').value = 'x'; // nothing reads column J (no header): ignored
    const read = await parseBudgetWorkbook(await bytesOf(wb));
    expect(read.table.name).toBe('滕州市电子商务进农村综合示范项目');
    const got = definitionFromTable(read.table);
    const want = definitionFromTable(src);
    expect(got.totals).toEqual(want.totals);
    expect(got.subprojects.map((s) => [s.seq, s.direction, s.funding, s.deadline])).toEqual(
      want.subprojects.map((s) => [s.seq, s.direction, s.funding, s.deadline]),
    );
    expect(got.unitCaps).toEqual(want.unitCaps);
    expect(got.phases).toEqual(want.phases);
  });
});

describe('refusals name the sheet, the cell and the rule, and store nothing', () => {
  const before: Record<string, number> = {};
  beforeEach(async () => {
    for (const tb of ['program', 'subproject', 'stream', 'event'] as const)
      before[tb] = await t.count(tb);
  });
  afterEach(async () => {
    for (const tb of ['program', 'subproject', 'stream', 'event'] as const)
      expect(await t.count(tb)).toBe(before[tb]);
  });
  const fields = (body: { violations: { field?: string; rule: string }[] }) =>
    body.violations.map((v) => `${v.field} ${v.rule}`);

  test('R-FUND-2 and R-FUND-1 from the decider, with their cells (422), in Chinese and English', async () => {
    // logistics 380 → 80 and the public service centre up: the group falls under 50%, the centre over 15%
    const bytes = await tengzhouWith((ws) => {
      ws.getCell('I7').value = 80; // row 3 (logistics) central
      ws.getCell('I5').value = 500; // row 1 (centre) central
    });
    const r = await upload(bytes);
    expect(r.status).toBe(422);
    expect(r.body.rules).toEqual(expect.arrayContaining(['R-FUND-2', 'R-FUND-3']));
    expect(fields(r.body)).toEqual(
      expect.arrayContaining(['资金安排表!I5:I11 R-FUND-2', '资金安排表!I5:I11 R-FUND-3']),
    );
    const v = r.body.violations.find((x: { rule: string }) => x.rule === 'R-FUND-2');
    expect(v.message).toMatch(/^资金安排表!I5:I11: R-FUND-2 用于.*< 50%/);
    expect(v.message_en).toMatch(/^资金安排表!I5:I11: R-FUND-2 .*< 50% of central funds/);
    // the column no longer adds up to the 合计 row: R-FUND-1 on the 合计 row's own cell
    const sum = await upload(await tengzhouWith((ws) => (ws.getCell('I6').value = 140)));
    expect(sum.status).toBe(422);
    expect(fields(sum.body)).toEqual(['资金安排表!I12 R-FUND-1']);
    expect(sum.body.detail).toContain('资金安排表!I12: R-FUND-1');
  });

  test('R-EV-1: the 绩效目标 sheet is read with the table; a bad target names its cell, a subproject that is not in the table its row', async () => {
    const programs = await t.count('program');
    const bad = await upload(
      await tengzhouWith((_ws, wb) => {
        const ws = wb.getWorksheet('绩效目标')!;
        expect(ws.getCell('C2').value).toBe('县级电子商务公共服务中心');
        ws.getCell('G2').value = '一个';
        ws.getCell('A3').value = 99;
      }),
    );
    expect(bad.status).toBe(400);
    expect(fields(bad.body)).toEqual(['绩效目标!A3 XLSX-VALUE']);
    const target = await upload(
      await tengzhouWith((_ws, wb) => (wb.getWorksheet('绩效目标')!.getCell('G2').value = '一个')),
    );
    expect(target.status).toBe(400);
    expect(fields(target.body)).toEqual([expect.stringMatching(/^绩效目标!G2 /)]);
    expect(await t.count('program')).toBe(programs); // nothing stored
  });

  test('text in a number column, a formula, merged money cells, a missing 合计 row (400, each cell)', async () => {
    const text = await upload(await tengzhouWith((ws) => (ws.getCell('J6').value = '一百二十')));
    expect(text.status).toBe(400);
    expect(fields(text.body)).toEqual(['资金安排表!J6 MONEY-FORMAT']);
    expect(text.body.violations[0].message).toContain('一百二十');
    const finer = await upload(
      await tengzhouWith((ws) => (ws.getCell('J6').value = '120.0000001')),
    );
    expect(fields(finer.body)).toEqual(['资金安排表!J6 MONEY-FORMAT']);
    const formula = await upload(
      await tengzhouWith(
        (ws) => (ws.getCell('I12').value = { formula: 'SUM(I5:I11)', result: 1500 }),
      ),
    );
    expect(formula.status).toBe(400);
    expect(fields(formula.body)).toEqual(['资金安排表!I12 XLSX-FORMULA']);
    const merged = await upload(await tengzhouWith((ws) => ws.mergeCells('I6:J6')));
    expect(merged.status).toBe(400);
    expect(fields(merged.body)).toEqual(['资金安排表!J6 XLSX-MERGED']);
    const noTotals = await upload(
      await tengzhouWith((ws) => {
        ws.unMergeCells('A12:G12');
        ws.spliceRows(12, 1);
      }),
    );
    expect(noTotals.status).toBe(400);
    expect(fields(noTotals.body)).toEqual(['资金安排表!A12 XLSX-TOTALS']);
    expect(noTotals.body.violations[0].message_en).toContain('no 合计 (totals) row');
  });

  test('a missing column, an unknown direction, a bad code in 项目信息', async () => {
    const r = await upload(
      await tengzhouWith((ws, wb) => {
        ws.getCell('D7').value = '楼堂馆所';
        wb.getWorksheet('项目信息')!.getCell('B1').value = 'Not A Code';
      }),
    );
    expect(r.status).toBe(400);
    expect(fields(r.body)).toEqual(['资金安排表!D7 XLSX-VALUE']);
    const code = await upload(
      await tengzhouWith(
        (_ws, wb) => (wb.getWorksheet('项目信息')!.getCell('B1').value = 'Not A Code'),
      ),
    );
    expect(fields(code.body)).toEqual(['项目信息!B1 INVALID-INPUT']);
    const col = await upload(await tengzhouWith((ws) => (ws.getCell('J4').value = '备注')));
    expect(fields(col.body)).toEqual(['资金安排表!A3:M4 XLSX-HEADER']);
  });

  test('a second sheet only, an encrypted or old file, not a workbook, an empty body', async () => {
    const wb = new ExcelJS.Workbook();
    wb.addWorksheet('项目信息').addRow(['项目代码', 'x-1']);
    const only = await upload(await bytesOf(wb));
    expect(only.status).toBe(400);
    expect(only.body.rules).toEqual(['XLSX-SHEET']);
    expect(only.body.detail).toContain('没有「资金安排表」工作表');
    // Excel's password protection writes an OLE compound file (as an old .xls is)
    const ole = Buffer.concat([
      Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]),
      Buffer.alloc(504),
    ]);
    const enc = await upload(ole);
    expect(enc.status).toBe(400);
    expect(enc.body.violations[0].message).toContain('已加密');
    const json = await upload(JSON.stringify(loadTable('tengzhou-2019')));
    expect(json.status).toBe(400);
    expect(json.body.violations[0].message).toContain('不是 Excel 工作簿');
    const brokenZip = await upload(
      Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(100, 7)]),
    );
    expect(brokenZip.status).toBe(400);
    expect(brokenZip.body.rules).toEqual(['XLSX-FORMAT']);
    const empty = await upload('');
    expect(empty.status).toBe(400);
    expect(empty.body.violations[0].message).toContain('空');
  });

  test('a sheet of more than 2,000 rows is refused; a stray cell at XFD1048576 is not read', async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('资金安排表');
    for (let r = 1; r <= 2001; r++) ws.getCell(r, 1).value = r;
    const big = await upload(await bytesOf(wb));
    expect(big.status).toBe(400);
    expect(fields(big.body)).toEqual(['资金安排表 XLSX-FORMAT']);
    const far = await tengzhouWith((sheet) => (sheet.getCell('XFD1048576').value = '备注'));
    expect((await parseBudgetWorkbook(far)).table.totals.total).toBe('2100');
  });

  test('only the office imports (403)', async () => {
    expect((await upload(exampleXlsx('tengzhou-2019'), t.tokens.contractor)).status).toBe(403);
  });
});

test('the CLI imports a workbook and writes the template', async () => {
  const env = { DATABASE_URL: t.db.url };
  const bytes = await tengzhouWith(() => {});
  const file = path.join(tmpdir(), `shifan-cli-${process.pid}.xlsx`);
  writeFileSync(file, bytes);
  const r = await runCli(['program', 'import', file], env);
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('已导入 edited-1');
  const again = await runCli(['program', 'import', file], env);
  expect(again.code).toBe(1);
  const tpl = path.join(tmpdir(), `shifan-tpl-${process.pid}.xlsx`);
  const w = await runCli(['program', 'template', '--out', tpl], env);
  expect(w.code).toBe(0);
  const wb = await workbook(readFileSync(tpl));
  expect(wb.worksheets.map((s) => s.name)).toEqual(
    expect.arrayContaining(['资金安排表', '项目信息', '填写说明']),
  );
  expect(isDeepStrictEqual(wb.getWorksheet('资金安排表')!.getCell('H4').value, '合计')).toBe(true);
});
