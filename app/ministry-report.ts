// The report to the ministry's rural e-commerce information system (商务部农村电子商务信息系统, R-FUND-9):
// per subproject its progress and the money for a month or a quarter, as CSV (UTF-8 with a BOM, so Excel
// opens it as such) or XLSX. One row per subproject; amounts in 元 to the fen (two decimals, no
// separators); period figures are the disbursements and recoveries dated (Asia/Shanghai) in the
// period, cumulative ones everything up to its last day. The columns are REPORT_COLUMNS (README).
import ExcelJS from 'exceljs';
import { z } from 'zod';
import { invalid } from '../workflows/errors';
import { formatYuan, sumFen, type Fen } from '../workflows/money';
import { DIRECTIONS, SOURCES, type Source } from '../workflows/program/types';
import { SUBPROJECT_STATUS_NAMES, subprojectStatus } from '../workflows/subproject/status';
import { shanghaiDay } from '../workflows/time';
import type { AppContext } from './context';
import { loadProgram, loadSubproject } from './queries';

export const PERIOD_PATTERN = /^(\d{4})(?:-(0[1-9]|1[0-2])|Q([1-4]))$/;
export const ReportQuery = z
  .object({
    period: z
      .string()
      .regex(PERIOD_PATTERN, '报告期应为月份 2020-07 或季度 2020Q3')
      .meta({ description: '报告期：月份 YYYY-MM 或季度 YYYYQn', example: '2020Q3' }),
    format: z.enum(['csv', 'xlsx']).default('csv').meta({ description: '文件格式' }),
  })
  .strict();

/** The period's first and last calendar day. */
export function periodDays(period: string): { from: string; to: string } {
  const m = PERIOD_PATTERN.exec(period);
  if (!m)
    throw invalid(
      `报告期「${period}」应为月份 2020-07 或季度 2020Q3`,
      `period "${period}" must be a month 2020-07 or a quarter 2020Q3`,
      'period',
    );
  const y = Number(m[1]);
  const [first, last] = m[2]
    ? [Number(m[2]), Number(m[2])]
    : [Number(m[3]) * 3 - 2, Number(m[3]) * 3];
  const lastDay = new Date(Date.UTC(y, last, 0)).getUTCDate();
  const p = (n: number) => String(n).padStart(2, '0');
  return { from: `${y}-${p(first)}-01`, to: `${y}-${p(last)}-${p(lastDay)}` };
}

const SRC = { central: '中央', local: '地方', enterprise: '企业' } as const;
/** The report's columns, in order (documented in the README). */
export const REPORT_COLUMNS = [
  '报告期',
  '项目代码',
  '省份',
  '县（市、区）',
  '分项目序号',
  '分项目名称',
  '支持方向',
  '状态',
  '承办单位',
  '里程碑已验收',
  '里程碑总数',
  ...SOURCES.map((s) => `预算${SRC[s]}（元）`),
  ...SOURCES.map((s) => `本期拨付${SRC[s]}（元）`),
  ...SOURCES.map((s) => `累计拨付${SRC[s]}（元）`),
  '本期追回（元）',
  '累计追回（元）',
  '应追回（元）',
] as const;
const FIRST_AMOUNT = REPORT_COLUMNS.indexOf('预算中央（元）');

const yuan = (fen: Fen) => formatYuan(fen).replace(/,/g, '');

/** The report's rows: text cells, then amounts in fen. */
export async function ministryRows(ctx: AppContext, code: string, period: string) {
  const { from, to } = periodDays(period);
  const { state: p } = await loadProgram(ctx, code);
  const subs = await Promise.all(p.def.subprojects.map((sp) => loadSubproject(ctx, code, sp.seq)));
  const inPeriod = (at: string) => {
    const d = shanghaiDay(at);
    return d >= from && d <= to;
  };
  const upTo = (at: string) => shanghaiDay(at) <= to;
  return p.def.subprojects.map((sp, i) => {
    const s = subs[i].state.status === 'active' ? subs[i].state : null;
    const dis = s?.delivery.disbursements ?? [];
    const rec = s?.delivery.clawback?.recoveries ?? [];
    const bySource = (xs: { source: Source; amount: Fen }[], src: Source) =>
      sumFen(xs.filter((x) => x.source === src).map((x) => x.amount));
    const planned = s?.contract?.milestones.length ?? 0;
    const accepted = s
      ? Object.values(s.delivery.milestones).filter((m) => m.status === 'accepted').length
      : 0;
    const text = [
      period,
      code,
      p.def.province,
      p.def.county,
      String(sp.seq),
      sp.name,
      DIRECTIONS[sp.direction],
      SUBPROJECT_STATUS_NAMES[s ? subprojectStatus(s) : 'planned'],
      s?.contract?.org ?? s?.award?.org ?? '',
      String(accepted),
      String(planned),
    ];
    const amounts: Fen[] = [
      ...SOURCES.map((src) => sp.funding[src]),
      ...SOURCES.map((src) =>
        bySource(
          dis.filter((d) => inPeriod(d.at)),
          src,
        ),
      ),
      ...SOURCES.map((src) =>
        bySource(
          dis.filter((d) => upTo(d.at)),
          src,
        ),
      ),
      sumFen(rec.filter((r) => inPeriod(r.at)).map((r) => r.amount)),
      sumFen(rec.filter((r) => upTo(r.at)).map((r) => r.amount)),
      s?.delivery.clawback && upTo(s.delivery.clawback.demandedAt)
        ? sumFen(SOURCES.map((src) => s.delivery.clawback!.demanded[src]))
        : 0,
    ];
    return { text, amounts };
  });
}

const csvField = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/** The report as a file: CSV (UTF-8 with BOM, CRLF) or XLSX. */
export async function ministryReport(
  ctx: AppContext,
  code: string,
  period: string,
  format: 'csv' | 'xlsx',
): Promise<{ bytes: Buffer; type: string; name: string }> {
  const rows = await ministryRows(ctx, code, period);
  const name = `${code}-商务部报送-${period}.${format}`;
  if (format === 'csv') {
    const lines = [
      REPORT_COLUMNS.join(','),
      ...rows.map((r) => [...r.text.map(csvField), ...r.amounts.map(yuan)].join(',')),
    ];
    return {
      bytes: Buffer.from(`\ufeff${lines.join('\r\n')}\r\n`, 'utf8'),
      type: 'text/csv; charset=utf-8',
      name,
    };
  }
  const wb = new ExcelJS.Workbook();
  wb.creator = 'shifan';
  const ws = wb.addWorksheet('商务部报送');
  ws.addRow([...REPORT_COLUMNS]).font = { bold: true };
  for (const r of rows) {
    const row = ws.addRow([...r.text, ...r.amounts.map((f) => Number(yuan(f)))]);
    for (let c = FIRST_AMOUNT + 1; c <= REPORT_COLUMNS.length; c++) row.getCell(c).numFmt = '0.00';
  }
  ws.columns.forEach((c, i) => (c.width = i < FIRST_AMOUNT ? (i === 5 ? 30 : 12) : 16));
  ws.views = [{ state: 'frozen', ySplit: 1, xSplit: 6 }];
  ws.pageSetup = {
    paperSize: 9,
    orientation: 'landscape',
    fitToPage: true,
    fitToWidth: 1,
    fitToHeight: 0,
  };
  return {
    bytes: Buffer.from(await wb.xlsx.writeBuffer()),
    type: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    name,
  };
}
