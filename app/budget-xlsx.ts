// The budget table (资金安排表) as an Excel workbook, in the layout the counties publish: a title row,
// header cells merged over 资金安排（万元）, one row per subproject with its central / local / enterprise
// columns, a 合计 row. Reading maps the sheet to the JSON table of POST /api/programs (so the checks and
// the result are the JSON import's own) and remembers which cell each field came from, so that every
// refusal, the decider's R-FUND-* included, names its sheet and cell (`资金安排表!I7: R-FUND-2 …`).
// Amounts are read as decimal text and parsed exactly into fen (workflows/money.ts), never as floats.
import ExcelJS from 'exceljs';
import { ZodError } from 'zod';
import { DomainError, type Violation } from '../workflows/errors';
import { formatMoney, formatWan, parseMoney, type Fen, type MoneyUnit } from '../workflows/money';
import {
  ProgramTable,
  type ProgramTableInput,
  type ProgramTableParsed,
} from '../workflows/program/table';
import {
  DEFAULT_POLICY,
  DIRECTIONS,
  GATES,
  PROCUREMENTS,
  PROHIBITED_USES,
  SOURCE_NAMES,
  SOURCES,
  type Source,
} from '../workflows/program/types';
import { COMPARISONS, MEASURES, METRICS } from '../workflows/program/indicators';
import type { IndicatorInputParsed } from '../workflows/program/indicator-input';

export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
/** A budget table is a few dozen rows; 5 MB is far beyond any county's and bounds what is unzipped. */
export const MAX_XLSX_BYTES = 5 * 1024 * 1024;

export const SHEETS = {
  table: '资金安排表',
  info: '项目信息',
  phases: '阶段计划',
  caps: '单位限额',
  policy: '政策参数',
  targets: '绩效目标',
  help: '填写说明',
} as const;

// ---------------------------------------------------------------------------------------------------
// refusals

interface Problem {
  at: string; // 资金安排表!D7, or 资金安排表 for the whole sheet, or '' for the file
  rule: string;
  zh: string;
  en: string;
}

/** A budget table is dozens of rows and about fifteen columns: reading is bounded by these whatever a
 * sheet's dimensions claim (one cell at XFD1048576 must not make the import walk 17 billion cells). */
export const MAX_ROWS = 2000;
export const MAX_COLS = 64;
// exceljs computes rowCount and columnCount anew at each read (a walk over every row): once a sheet
const dims = new WeakMap<ExcelJS.Worksheet, { rows: number; cols: number }>();
const dimsOf = (ws: ExcelJS.Worksheet) => {
  let d = dims.get(ws);
  if (!d)
    dims.set(
      ws,
      (d = { rows: Math.min(ws.rowCount, MAX_ROWS), cols: Math.min(ws.columnCount, MAX_COLS) }),
    );
  return d;
};
const rowsOf = (ws: ExcelJS.Worksheet) => dimsOf(ws).rows;
const colsOf = (ws: ExcelJS.Worksheet) => dimsOf(ws).cols;

const at = (sheet: string, cell?: string) => (cell ? `${sheet}!${cell}` : sheet);

function refusal(problems: Problem[], kind: 'invalid' | 'rule' | 'conflict' = 'invalid') {
  const violations: Violation[] = problems.map((p) => ({
    rule: p.rule,
    field: p.at || undefined,
    message: `${p.at ? `${p.at}: ` : ''}${p.rule} ${p.zh}`,
    message_en: `${p.at ? `${p.at}: ` : ''}${p.rule} ${p.en}`,
  }));
  const ids = [...new Set(problems.map((p) => p.rule))];
  return new DomainError(
    ids.join(','),
    kind,
    `资金安排表（XLSX）有 ${problems.length} 处问题：${violations.map((v) => v.message).join('；')}`,
    `the budget table (XLSX) has ${problems.length} problem(s): ${violations.map((v) => v.message_en).join('; ')}`,
    { violations },
  );
}

// ---------------------------------------------------------------------------------------------------
// cells

type Cell = ExcelJS.Cell;

/** The text a cell shows, or a refusal for what the import does not read (formulas, errors). */
function cellText(cell: Cell, sheet: string, problems: Problem[]): string {
  const t = rawText(cell, sheet, problems);
  // PostgreSQL stores no NUL, and a lone surrogate is not text (as api/text-guard.ts refuses in JSON)
  if (t.includes('\u0000') || /\p{Cs}/u.test(t)) {
    problems.push({
      at: at(sheet, cell.address),
      rule: 'INVALID-TEXT',
      zh: '含有 NUL 字符或不成对的代理码元，不是有效文本',
      en: 'contains a NUL character or a lone surrogate: not valid text',
    });
    return '';
  }
  return t;
}

function rawText(cell: Cell, sheet: string, problems: Problem[]): string {
  const v = cell.value;
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v.trim();
  if (typeof v === 'number') return decimalOf(v);
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  if (v instanceof Date) return dayOf(v);
  if (typeof v === 'object') {
    if ('formula' in v || 'sharedFormula' in v) {
      problems.push({
        at: at(sheet, cell.address),
        rule: 'XLSX-FORMULA',
        zh: '是公式：导入只读填写的数字（公式保存的结果可能过期或没有计算），请「选择性粘贴 → 数值」后再导入',
        en: 'is a formula: the import reads typed figures only (a saved formula result may be stale or missing); paste it as values',
      });
      return '';
    }
    if ('error' in v) {
      problems.push({
        at: at(sheet, cell.address),
        rule: 'XLSX-VALUE',
        zh: `是错误值 ${String(v.error)}`,
        en: `is an error value ${String(v.error)}`,
      });
      return '';
    }
    if ('richText' in v)
      return v.richText
        .map((r) => r.text)
        .join('')
        .trim();
    if ('text' in v) return String(v.text).trim();
  }
  return String(v).trim();
}

/** A number as Excel stored it, in its shortest decimal form (0.5, 141); 1e21 stays an exponent form and
 * is refused by the money parser rather than rounded. */
function decimalOf(n: number): string {
  return String(n);
}

const pad = (n: number) => String(n).padStart(2, '0');
/** A date cell: exceljs gives the calendar day at UTC midnight. */
const dayOf = (d: Date) =>
  `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;

/** "2020-12-31", "2020/12/31", "2020.12.31", "2020年12月31日", "2020年12月" (the month's first or last day). */
function parseDay(s: string, endOfMonth: boolean): string | null {
  const m = /^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*(?:[-/.月]\s*(\d{1,2})\s*日?|月?)$/.exec(s.trim());
  if (!m) return null;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  if (mo < 1 || mo > 12) return null;
  const last = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  const d = m[3] !== undefined ? Number(m[3]) : endOfMonth ? last : 1;
  if (d < 1 || d > last) return null;
  return `${y}-${pad(mo)}-${pad(d)}`;
}

const EMPTY_AMOUNT = /^[-－—–―/／]*$/; // "—" or "-" for nothing, as tables print it

/** An amount cell in `unit` (a unit written after the number wins: "50万元", "3,000元"). */
function parseAmount(
  text: string,
  unit: MoneyUnit,
  where: string,
  problems: Problem[],
): Fen | null {
  let s = text.replace(/[\s\u00a0]/g, '').replace(/[，,]/g, '');
  if (EMPTY_AMOUNT.test(s)) return 0;
  let u = unit;
  const suffix = /(万元|万|元)$/.exec(s);
  if (suffix) {
    u = suffix[1] === '元' ? '元' : '万元';
    s = s.slice(0, -suffix[1].length);
  }
  s = s.replace(/[０-９．]/g, (c) => (c === '．' ? '.' : String(c.charCodeAt(0) - 0xff10)));
  try {
    return parseMoney(s, u);
  } catch (e) {
    if (!(e instanceof DomainError)) throw e;
    problems.push({
      at: where,
      rule: 'MONEY-FORMAT',
      zh: `金额「${text}」：${e.violations[0].message}`,
      en: `amount "${text}": ${e.violations[0].message_en}`,
    });
    return null;
  }
}

// ---------------------------------------------------------------------------------------------------
// the main sheet's columns, recognised by their header wording

type Col =
  | 'seq'
  | 'name'
  | 'goal'
  | 'direction'
  | 'procurement'
  | 'start'
  | 'deadline'
  | 'total'
  | Source
  | 'targets'
  | 'uses';

/** First match wins: 中央资金用途 is the uses column, not the central one; 项目建设内容 the goal. */
const HEADERS: [Col, RegExp][] = [
  ['seq', /序号|编号/],
  ['uses', /用途/],
  ['targets', /绩效|指标|建设数量/],
  ['central', /中央/],
  ['local', /地方|省级|市级|县级|配套|财政/],
  ['enterprise', /企业|自筹|社会/],
  ['total', /合计|小计|总计|总额|总投资|投资额/],
  ['goal', /内容|目标|规模/],
  ['direction', /方向|类别|类型|领域/],
  ['procurement', /采购|实施方式|方式/],
  ['start', /开始|起始|开工/],
  ['deadline', /完成|时限|截止|结束|竣工/],
  ['name', /名称|项目/],
];
const COL_NAMES: Record<Col, string> = {
  seq: '序号',
  name: '项目名称',
  goal: '建设内容及目标',
  direction: '支持方向',
  procurement: '实施方式',
  start: '开始时间',
  deadline: '完成时限',
  total: '合计',
  central: '中央财政资金',
  local: '地方财政资金',
  enterprise: '企业自筹',
  targets: '绩效指标',
  uses: '中央资金用途',
};
const MONEY_COLS: Col[] = ['total', ...SOURCES];
const TOTALS_LABEL = /^(合\s*计|总\s*计|总\s*合\s*计)$/;

const UNIT_WAN = /万元/;
const UNIT_YUAN = /单位\s*[:：]?\s*元|[（(]\s*元\s*[)）]/;
const unitIn = (s: string): MoneyUnit | null =>
  UNIT_WAN.test(s) ? '万元' : UNIT_YUAN.test(s) ? '元' : null;

function pickLabel<K extends string>(
  text: string,
  labels: Record<K, string>,
  keywords: [K, RegExp][],
): K | null {
  const t = text.trim();
  if (!t) return null;
  for (const [k, name] of Object.entries(labels) as [K, string][])
    if (t === k || t === name) return k;
  for (const [k, re] of keywords) if (re.test(t)) return k;
  return null;
}
const DIRECTION_WORDS: [keyof typeof DIRECTIONS, RegExp][] = [
  ['public_service_centre', /公共服务中心|运营中心/],
  ['service_stations', /站点|服务站|服务点/],
  ['logistics', /物流|快递|配送/],
  ['rural_products_upward', /上行|品牌|供应链|农产品/],
  ['training', /培训|人才/],
  ['poverty_alleviation', /扶贫/],
  ['finance', /金融|贷款/],
  ['promotion', /宣传|推广|组织|推动/],
  ['other', /其他/],
];
const PROCUREMENT_WORDS: [keyof typeof PROCUREMENTS, RegExp][] = [
  ['public_tender', /招标/],
  ['direct', /直接/],
  ['designated', /定向/],
  ['government_purchase', /购买服务|政府购买/],
  ['to_be_decided', /待定|未定/],
];
const REVIEW_EVERY = { quarter: '季度', month: '月', year: '年' } as const;

// ---------------------------------------------------------------------------------------------------
// reading

export interface ReadTable {
  table: ProgramTableInput;
  /** where each field of `table` came from: `subprojects[2].funding.central` → `资金安排表!I7` */
  cells: Map<string, string>;
}

/** The workbook's bytes to a workbook, or the reason it is not one the import can read. */
async function loadWorkbook(bytes: Buffer): Promise<ExcelJS.Workbook> {
  const fail = (zh: string, en: string) => refusal([{ at: '', rule: 'XLSX-FORMAT', zh, en }]);
  if (bytes.length === 0) throw fail('文件是空的', 'the file is empty');
  if (bytes.length > MAX_XLSX_BYTES)
    throw fail('文件超过 5 MB，不像资金安排表', 'the file is larger than 5 MB');
  // an encrypted workbook (Excel's 「用密码进行加密」) or an old .xls is an OLE compound file, not a zip
  if (bytes.subarray(0, 4).equals(Buffer.from([0xd0, 0xcf, 0x11, 0xe0])))
    throw fail(
      '文件已加密或是旧版 .xls：请取消密码保护，并「另存为 Excel 工作簿（.xlsx）」',
      'the file is encrypted or an old .xls: remove the password and save it as an Excel workbook (.xlsx)',
    );
  if (!bytes.subarray(0, 4).equals(Buffer.from([0x50, 0x4b, 0x03, 0x04])))
    throw fail(
      '不是 Excel 工作簿（.xlsx）文件',
      'not an Excel workbook (.xlsx); JSON tables go to POST /api/programs',
    );
  const wb = new ExcelJS.Workbook();
  try {
    await wb.xlsx.load(bytes as unknown as ArrayBuffer);
  } catch (e) {
    throw fail(
      `无法作为 Excel 工作簿读取（${(e as Error).message.slice(0, 120)}）`,
      `cannot be read as an Excel workbook (${(e as Error).message.slice(0, 120)})`,
    );
  }
  return wb;
}

/** Texts of a row's cells by column number (merged cells give their master's text). */
function rowTexts(ws: ExcelJS.Worksheet, r: number, sheet: string, problems: Problem[]) {
  const out: string[] = [];
  const row = ws.getRow(r);
  for (let c = 1; c <= colsOf(ws); c++) out[c] = cellText(row.getCell(c), sheet, problems);
  return out;
}

function findTableSheet(wb: ExcelJS.Workbook): ExcelJS.Worksheet | null {
  const named = wb.worksheets.find((w) => w.name.trim() === SHEETS.table);
  if (named) return named;
  // a renamed sheet is still the table when it has the table's header: 项目 and 中央 in its first rows
  return (
    wb.worksheets.find((w) => {
      if (Object.values(SHEETS).includes(w.name.trim() as never)) return false;
      for (let r = 1; r <= Math.min(20, rowsOf(w)); r++) {
        const row = w.getRow(r);
        const t = Array.from({ length: colsOf(w) }, (_, c) =>
          cellText(row.getCell(c + 1), '', []),
        ).join('|');
        if (/项目/.test(t) && /中央/.test(t)) return true;
      }
      return false;
    }) ?? null
  );
}

function readMainSheet(
  ws: ExcelJS.Worksheet,
  problems: Problem[],
  cells: Map<string, string>,
): {
  title: string;
  subprojects: ProgramTableInput['subprojects'];
  totals: ProgramTableInput['totals'] | null;
} {
  const S = ws.name;
  const none = { title: '', subprojects: [], totals: null };
  // the header: the first row naming 序号 or 项目名称 (and the money columns, possibly one row lower)
  let top = 0;
  const scanned: string[][] = [];
  for (let r = 1; r <= Math.min(30, rowsOf(ws)); r++) {
    const texts = rowTexts(ws, r, S, []);
    scanned[r] = texts;
    if (texts.some((t) => /序号|编号|名称|^项目$/.test(t ?? ''))) {
      top = r;
      break;
    }
  }
  if (!top) {
    problems.push({
      at: at(S, 'A1:A30'),
      rule: 'XLSX-HEADER',
      zh: '前30行没有表头（应有「序号」「项目名称」「中央财政资金」等列）',
      en: 'no header in the first 30 rows (序号, 项目名称, 中央财政资金 … expected)',
    });
    return none;
  }
  const above = scanned.slice(1, top).flatMap((t) => t.filter(Boolean));
  const title = above[0] ?? '';
  const sheetUnit = unitIn(above.join(' '));
  let bottom = top;
  while (bottom < top + 2) {
    const next = rowTexts(ws, bottom + 1, S, []);
    if (!next.some((t) => /中央|地方|企业|自筹|合计|小计/.test(t ?? ''))) break;
    if (/^\d+$/.test(next[1] ?? '')) break; // a data row
    bottom++;
  }
  const colOf = new Map<Col, number>();
  const unitOf = new Map<Col, MoneyUnit>();
  for (let c = 1; c <= colsOf(ws); c++) {
    const parts: string[] = [];
    for (let r = top; r <= bottom; r++) {
      const t = cellText(ws.getRow(r).getCell(c), S, []);
      if (t && !parts.includes(t)) parts.push(t);
    }
    const text = parts.join(' ');
    if (!text) continue;
    const kind = HEADERS.find(([, re]) => re.test(text))?.[0];
    if (!kind) continue;
    if (colOf.has(kind)) {
      problems.push({
        at: at(S, ws.getRow(bottom).getCell(c).address),
        rule: 'XLSX-HEADER',
        zh: `「${text}」与 ${ws.getRow(bottom).getCell(colOf.get(kind)!).address} 都是「${COL_NAMES[kind]}」列`,
        en: `"${text}" and ${ws.getRow(bottom).getCell(colOf.get(kind)!).address} are both the ${kind} column`,
      });
      continue;
    }
    colOf.set(kind, c);
    if (MONEY_COLS.includes(kind)) unitOf.set(kind, unitIn(text) ?? sheetUnit ?? '万元');
  }
  const headerRange = `A${top}:${ws.getRow(bottom).getCell(Math.max(colsOf(ws), 1)).address}`;
  const missing = (['name', 'direction', ...SOURCES] as Col[]).filter((k) => !colOf.has(k));
  for (const k of missing)
    problems.push({
      at: at(S, headerRange),
      rule: 'XLSX-HEADER',
      zh: `表头中没有「${COL_NAMES[k]}」列`,
      en: `the header has no ${k} column (${COL_NAMES[k]})`,
    });
  if (missing.length) return { ...none, title };

  const addr = (r: number, k: Col) => ws.getRow(r).getCell(colOf.get(k)!).address;
  const subprojects: ProgramTableInput['subprojects'] = [];
  let totals: ProgramTableInput['totals'] | null = null;
  let totalsRow = 0;
  let lastRow = bottom;
  for (let r = bottom + 1; r <= rowsOf(ws); r++) {
    const row = ws.getRow(r);
    const texts = new Map<Col, string>();
    for (const [k, c] of colOf) texts.set(k, cellText(row.getCell(c), S, problems));
    const label = [...Array(colsOf(ws)).keys()]
      .map((i) => cellText(row.getCell(i + 1), S, []))
      .find((t) => t);
    if (!label) continue; // a blank line
    const isTotals = TOTALS_LABEL.test(label);
    // merged cells: a total row's label may span the text columns; nothing may span a money cell, and a
    // subproject's own number and name are its own
    for (const [k, c] of colOf) {
      const cell = row.getCell(c);
      if (!cell.isMerged) continue;
      if (cell.master === cell) continue; // the merge's own cell: its neighbours are what is merged
      const textCol = !MONEY_COLS.includes(k) && k !== 'seq' && k !== 'name';
      if (isTotals ? !MONEY_COLS.includes(k) : textCol && cell.master.col === cell.col) continue;
      problems.push({
        at: at(S, cell.address),
        rule: 'XLSX-MERGED',
        zh: `与 ${cell.master.address} 合并：每个分项目占一行，每个金额占一格（${COL_NAMES[k]}）`,
        en: `merged with ${cell.master.address}: one row per subproject, one cell per amount (${k})`,
      });
    }
    const money = (k: Col): string | undefined => {
      if (!colOf.has(k)) return undefined;
      const fen = parseAmount(texts.get(k) ?? '', unitOf.get(k)!, at(S, addr(r, k)), problems);
      return fen === null ? '0' : formatWan(fen);
    };
    if (isTotals) {
      totalsRow = r;
      const f = {
        central: money('central')!,
        local: money('local')!,
        enterprise: money('enterprise')!,
      };
      const declared = money('total');
      const sum = SOURCES.map((s) => parseMoney(f[s], '万元')).reduce((a, b) => a + b, 0);
      totals = { ...f, total: declared ?? formatWan(sum) };
      for (const k of [...SOURCES, 'total'] as const)
        cells.set(`totals.${k}`, at(S, addr(r, colOf.has(k) ? k : 'central')));
      cells.set('totals', at(S, `A${r}`));
      break; // what follows the 合计 row (notes, signatures) is not the table
    }
    const noAmounts = MONEY_COLS.every((k) => !texts.get(k));
    const seqText = texts.get('seq') ?? '';
    if (noAmounts && !/^\d+$/.test(seqText)) continue; // a heading such as 「一、基础设施」
    const i = subprojects.length;
    const p = `subprojects[${i}]`;
    lastRow = r;
    cells.set(p, at(S, `A${r}`));
    for (const k of colOf.keys()) {
      const field =
        k === 'total' || (SOURCES as readonly string[]).includes(k)
          ? `${p}.funding.${k}`
          : `${p}.${k}`;
      cells.set(field, at(S, addr(r, k)));
    }
    cells.set(`${p}.funding`, at(S, addr(r, 'central')));
    let seq = i + 1;
    if (colOf.has('seq') && seqText) {
      if (/^\d{1,6}$/.test(seqText)) seq = Number(seqText);
      else
        problems.push({
          at: at(S, addr(r, 'seq')),
          rule: 'XLSX-VALUE',
          zh: `序号「${seqText}」应为正整数`,
          en: `seq "${seqText}" must be a positive integer`,
        });
    }
    const name = texts.get('name') ?? '';
    if (!name)
      problems.push({
        at: at(S, addr(r, 'name')),
        rule: 'XLSX-VALUE',
        zh: '缺少项目名称',
        en: 'the subproject has no name',
      });
    const dirText = texts.get('direction') ?? '';
    const direction = pickLabel(dirText, DIRECTIONS, DIRECTION_WORDS);
    if (!direction)
      problems.push({
        at: at(S, addr(r, 'direction')),
        rule: 'XLSX-VALUE',
        zh: `支持方向「${dirText}」不可识别，应为：${Object.values(DIRECTIONS).join('、')}`,
        en: `direction "${dirText}" not recognised; one of ${Object.keys(DIRECTIONS).join(', ')}`,
      });
    const procText = texts.get('procurement') ?? '';
    const procurement = procText
      ? pickLabel(procText, PROCUREMENTS, PROCUREMENT_WORDS)
      : 'to_be_decided';
    if (!procurement)
      problems.push({
        at: at(S, addr(r, 'procurement')),
        rule: 'XLSX-VALUE',
        zh: `实施方式「${procText}」不可识别，应为：${Object.values(PROCUREMENTS).join('、')}`,
        en: `procurement "${procText}" not recognised; one of ${Object.keys(PROCUREMENTS).join(', ')}`,
      });
    const day = (k: 'start' | 'deadline') => {
      const t = texts.get(k) ?? '';
      if (!t) return undefined;
      const d = parseDay(t, k === 'deadline');
      if (!d)
        problems.push({
          at: at(S, addr(r, k)),
          rule: 'XLSX-VALUE',
          zh: `日期「${t}」应写作 2020-12-31 或 2020年12月31日`,
          en: `date "${t}" must be written 2020-12-31`,
        });
      return d ?? undefined;
    };
    const start = day('start');
    const deadline = day('deadline');
    const targets: { item: string; count: number }[] = [];
    for (const part of (texts.get('targets') ?? '').split(/[；;\n，,]+/)) {
      if (!part.trim()) continue;
      const m = /^\s*([^=＝:：×]+?)\s*[=＝:：×]\s*(\d{1,9})\s*\S{0,2}$/.exec(part);
      if (m)
        targets.push({
          item: m[1].replace(/^.*[（(]([a-z0-9_]+)[)）]$/, '$1'),
          count: Number(m[2]),
        });
      else
        problems.push({
          at: at(S, addr(r, 'targets')),
          rule: 'XLSX-VALUE',
          zh: `绩效指标「${part}」应写作「事项代码=数量」，如 town_station=21`,
          en: `target "${part}" must be item=count, e.g. town_station=21`,
        });
    }
    const useNames = Object.fromEntries(Object.entries(PROHIBITED_USES).map(([k, v]) => [v, k]));
    const uses = (texts.get('uses') ?? '')
      .split(/[；;\n，,、]+/)
      .map((u) => u.trim())
      .filter(Boolean)
      .map((u) => useNames[u] ?? u);
    const total = money('total');
    subprojects.push({
      seq,
      name,
      direction: direction ?? 'other',
      procurement: procurement ?? 'to_be_decided',
      ...(start ? { start } : {}),
      ...(deadline ? { deadline } : {}),
      goal: texts.get('goal') ?? '',
      targets,
      uses,
      funding: {
        central: money('central')!,
        local: money('local')!,
        enterprise: money('enterprise')!,
        ...(total !== undefined && texts.get('total') ? { total } : {}),
      },
    });
  }
  if (!totalsRow)
    problems.push({
      at: at(S, `A${lastRow + 1}`),
      rule: 'XLSX-TOTALS',
      zh: '没有「合计」行：表格最后一行应为各列合计（R-FUND-1 据此核对）',
      en: 'no 合计 (totals) row after the subprojects: R-FUND-1 checks the columns against it',
    });
  if (!subprojects.length)
    problems.push({
      at: at(S, `A${bottom + 1}`),
      rule: 'XLSX-VALUE',
      zh: '表头下没有分项目行',
      en: 'no subproject rows below the header',
    });
  cells.set(
    'subprojects',
    at(S, `${addr(bottom + 1, 'central')}:${addr(Math.max(lastRow, bottom + 1), 'central')}`),
  );
  return { title, subprojects, totals };
}

/** Two-column sheets of 项目 | 内容 rows. */
function keyValues(ws: ExcelJS.Worksheet, problems: Problem[]) {
  const out: { key: string; value: string; cell: string }[] = [];
  for (let r = 1; r <= rowsOf(ws); r++) {
    const row = ws.getRow(r);
    const key = cellText(row.getCell(1), ws.name, problems);
    if (!key) continue;
    out.push({ key, value: cellText(row.getCell(2), ws.name, problems), cell: `B${r}` });
  }
  return out;
}

/** Sheets with a header row and one record per row: the header's words pick the columns. */
function records<K extends string>(
  ws: ExcelJS.Worksheet,
  columns: [K, RegExp][],
  problems: Problem[],
) {
  const header = rowTexts(ws, 1, ws.name, problems);
  const colOf = new Map<K, number>();
  header.forEach((t, c) => {
    const k = columns.find(([key, re]) => !colOf.has(key) && re.test(t ?? ''))?.[0];
    if (k) colOf.set(k, c);
  });
  const rows: { get: (k: K) => string; cell: (k: K) => string; header: (k: K) => string }[] = [];
  for (let r = 2; r <= rowsOf(ws); r++) {
    const texts = rowTexts(ws, r, ws.name, problems);
    if (!texts.some(Boolean)) continue;
    rows.push({
      get: (k) => (colOf.has(k) ? (texts[colOf.get(k)!] ?? '') : ''),
      cell: (k) => at(ws.name, ws.getRow(r).getCell(colOf.get(k) ?? 1).address),
      header: (k) => (colOf.has(k) ? header[colOf.get(k)!] : ''),
    });
  }
  return { rows, has: (k: K) => colOf.has(k) };
}

const sheetNamed = (wb: ExcelJS.Workbook, name: string) =>
  wb.worksheets.find((w) => w.name.trim() === name);

/** Reads a budget table workbook into the JSON table and the cell of each field (refuses with cells). */
export async function readBudgetWorkbook(bytes: Buffer): Promise<ReadTable> {
  const wb = await loadWorkbook(bytes);
  const problems: Problem[] = [];
  const cells = new Map<string, string>();
  const ws = findTableSheet(wb);
  if (!ws)
    throw refusal([
      {
        at: '',
        rule: 'XLSX-SHEET',
        zh: `工作簿中没有「${SHEETS.table}」工作表（现有：${wb.worksheets.map((w) => w.name).join('、') || '无'}）`,
        en: `the workbook has no ${SHEETS.table} sheet (it has: ${wb.worksheets.map((w) => w.name).join(', ') || 'none'})`,
      },
    ]);
  for (const w of wb.worksheets)
    if (w.actualRowCount > MAX_ROWS)
      throw refusal([
        {
          at: w.name,
          rule: 'XLSX-FORMAT',
          zh: `有 ${w.actualRowCount} 行内容，超过 ${MAX_ROWS} 行，不像资金安排表`,
          en: `has ${w.actualRowCount} rows with content, more than ${MAX_ROWS}`,
        },
      ]);
  const main = readMainSheet(ws, problems, cells);

  // 项目信息: code, place, year, 机关代字, reporting contacts, parcel subsidy
  const info = sheetNamed(wb, SHEETS.info);
  const meta: Partial<Record<string, { value: string; cell: string }>> = {};
  const INFO: [string, RegExp][] = [
    ['code', /代码|编码/],
    ['name', /项目名称|名称/],
    ['province', /省/],
    ['county', /县|市|区/],
    ['year', /年度|年份/],
    ['docPrefix', /代字/],
    ['phones', /电话/],
    ['mailbox', /信箱|邮箱/],
    ['address', /地址/],
    ['office', /受理单位/],
    ['perParcelYuan', /每单|每件/],
    ['perBusinessPerYear', /每户|每家|每个/],
    ['parcelTotal', /补贴总额|补贴资金总额/],
    ['reviewEvery', /审核周期|周期/],
    ['eligible', /补贴对象|对象/],
  ];
  if (!info)
    problems.push({
      at: SHEETS.info,
      rule: 'XLSX-SHEET',
      zh: `缺少「${SHEETS.info}」工作表（项目代码、省份、县（市、区）、年度）`,
      en: `the ${SHEETS.info} sheet (code, province, county, year) is missing`,
    });
  else
    for (const kv of keyValues(info, problems)) {
      const k = INFO.find(([, re]) => re.test(kv.key))?.[0];
      if (k && !meta[k]) meta[k] = { value: kv.value, cell: at(info.name, kv.cell) };
    }
  const metaCell = (k: string, row: number) => meta[k]?.cell ?? at(SHEETS.info, `B${row}`);
  const v = (k: string) => meta[k]?.value ?? '';
  ['code', 'name', 'province', 'county', 'year', 'docPrefix'].forEach((k, i) =>
    cells.set(k, metaCell(k, i + 1)),
  );
  cells.set('disclosure', metaCell('phones', 7));
  cells.set('disclosure.phones', metaCell('phones', 7));
  cells.set('disclosure.mailbox', metaCell('mailbox', 8));
  cells.set('disclosure.address', metaCell('address', 9));
  cells.set('disclosure.office', metaCell('office', 10));
  const name =
    v('name') ||
    main.title
      .replace(/[（(][^）)]*[)）]/g, '')
      .replace(/资金安排表?|单位[:：]?\s*万?元/g, '')
      .trim();
  const year = v('year').replace(/年$/, '');
  if (info && !/^\d{4}$/.test(year))
    problems.push({
      at: metaCell('year', 5),
      rule: 'XLSX-VALUE',
      zh: `年度「${v('year')}」应为四位年份，如 2019`,
      en: `year "${v('year')}" must be a four-digit year`,
    });
  const phones = v('phones')
    .split(/[；;\n]+/)
    .map((p) => p.trim())
    .filter(Boolean);
  const contacts = Object.fromEntries(
    (['mailbox', 'address', 'office'] as const).filter((k) => v(k)).map((k) => [k, v(k)]),
  );
  const disclosure =
    phones.length || Object.keys(contacts).length ? { phones, ...contacts } : undefined;
  let parcelSubsidy: ProgramTableInput['parcelSubsidy'];
  if (v('perParcelYuan')) {
    const fen = (k: string, u: MoneyUnit, field: string) => {
      cells.set(field, metaCell(k, 11));
      const f = parseAmount(v(k), u, metaCell(k, 11), problems);
      return f === null ? '0' : formatMoney(f, u);
    };
    const every = (Object.entries(REVIEW_EVERY).find(
      ([key, zh]) => v('reviewEvery') === key || v('reviewEvery').includes(zh),
    )?.[0] ?? 'quarter') as keyof typeof REVIEW_EVERY;
    parcelSubsidy = {
      perParcelYuan: fen('perParcelYuan', '元', 'parcelSubsidy.perParcelYuan'),
      perBusinessPerYear: fen('perBusinessPerYear', '万元', 'parcelSubsidy.perBusinessPerYear'),
      total: fen('parcelTotal', '万元', 'parcelSubsidy.total'),
      reviewEvery: every,
      eligible: v('eligible') || 'outbound_rural_products',
    };
  }

  // 阶段计划 (optional: the default plan otherwise)
  let phases: ProgramTableInput['phases'];
  const phaseSheet = sheetNamed(wb, SHEETS.phases);
  if (phaseSheet) {
    const rec = records(
      phaseSheet,
      [
        ['key', /键|代码|key/i],
        ['name', /名称/],
        ['start', /开始/],
        ['end', /结束|截止/],
        ['gates', /关口/],
      ],
      problems,
    );
    const gateNames = Object.fromEntries(Object.entries(GATES).map(([k, g]) => [g.name, k]));
    cells.set('phases', at(phaseSheet.name, 'A2'));
    // a sheet with its header only (as the template has it) states no plan: the default one applies
    if (rec.rows.length)
      phases = rec.rows.map((row, i) => {
        cells.set(`phases[${i}]`, row.cell('key'));
        for (const k of ['key', 'name', 'start', 'end', 'gates'] as const)
          cells.set(`phases[${i}].${k}`, row.cell(k));
        const day = (k: 'start' | 'end') => {
          const t = row.get(k);
          if (!t) return null;
          const d = parseDay(t, k === 'end');
          if (!d)
            problems.push({
              at: row.cell(k),
              rule: 'XLSX-VALUE',
              zh: `日期「${t}」应写作 2020-12-31`,
              en: `date "${t}" must be written 2020-12-31`,
            });
          return d;
        };
        const gates = row
          .get('gates')
          .split(/[；;\n，,、]+/)
          .map((g) => g.trim())
          .filter(Boolean)
          .map((g) => gateNames[g] ?? g);
        return {
          key: row.get('key'),
          name: row.get('name'),
          start: day('start'),
          end: day('end'),
          ...(gates.length ? { gates: gates as never } : {}),
        };
      });
  }

  // 单位限额 (R-FUND-5)
  const unitCaps: NonNullable<ProgramTableInput['unitCaps']> = [];
  const capSheet = sheetNamed(wb, SHEETS.caps);
  if (capSheet) {
    const rec = records(
      capSheet,
      [
        ['item', /代码|事项/],
        ['name', /名称/],
        ['avg', /平均/],
        ['max', /上限|最高/],
        ['source', /来源/],
      ],
      problems,
    );
    const sourceNames = Object.fromEntries(SOURCES.map((s) => [SOURCE_NAMES[s], s]));
    rec.rows.forEach((row, i) => {
      const p = `unitCaps[${i}]`;
      cells.set(p, row.cell('item'));
      cells.set(`${p}.item`, row.cell('item'));
      cells.set(`${p}.name`, row.cell('name'));
      cells.set(`${p}.maxPerUnit`, row.cell('max'));
      cells.set(`${p}.maxAveragePerUnit`, row.cell('avg'));
      cells.set(`${p}.source`, row.cell('source'));
      const amount = (k: 'max' | 'avg') => {
        const t = row.get(k);
        if (!t) return undefined;
        const f = parseAmount(t, unitIn(row.header(k)) ?? '万元', row.cell(k), problems);
        return f === null ? '0' : formatWan(f);
      };
      const src = row.get('source');
      const source = src
        ? (sourceNames[src] ??
          (SOURCES as readonly string[]).find((s) => s === src) ??
          (/地方/.test(src)
            ? 'local'
            : /企业|自筹/.test(src)
              ? 'enterprise'
              : /中央/.test(src)
                ? 'central'
                : src))
        : 'central';
      const max = amount('max');
      const avg = amount('avg');
      if ((max === undefined) === (avg === undefined))
        problems.push({
          at: row.cell('max'),
          rule: 'XLSX-VALUE',
          zh: '每单位上限与平均每单位上限必须且只能填一个',
          en: 'give either the cap per unit or the average cap per unit, not both or neither',
        });
      const base = { item: row.get('item'), name: row.get('name'), source };
      unitCaps.push(
        max !== undefined
          ? { ...base, maxPerUnit: max }
          : { ...base, maxAveragePerUnit: avg ?? '0' },
      );
    });
  }

  // 政策参数 (optional: the national rules otherwise)
  let policy: ProgramTableInput['policy'];
  const policySheet = sheetNamed(wb, SHEETS.policy);
  if (policySheet) {
    const entries: [string, unknown][] = [];
    for (const kv of keyValues(policySheet, problems)) {
      if (kv.key === '参数') continue; // the header
      const key = kv.key.replace(/[（(].*$/, '').trim();
      cells.set(`policy.${key}`, at(policySheet.name, kv.cell));
      const def = (DEFAULT_POLICY as unknown as Record<string, unknown>)[key];
      const value: unknown = Array.isArray(def)
        ? kv.value
            .split(/[；;\n，,、]+/)
            .map((x) => x.trim())
            .filter(Boolean)
        : /Percent$/.test(key)
          ? kv.value.replace(/%$/, '')
          : /^\d+$/.test(kv.value)
            ? Number(kv.value)
            : kv.value;
      entries.push([key, value]);
    }
    policy = Object.fromEntries(entries);
  }
  // 绩效目标 (R-EV-1, optional): a row per target, the program's own where 分项目序号 is empty
  const indicators: Record<string, unknown>[] = [];
  const targetSheet = sheetNamed(wb, SHEETS.targets);
  if (targetSheet) {
    const rec = records(
      targetSheet,
      [
        ['seq', /分项目|序号/],
        ['id', /编号|代码/],
        ['name', /名称/],
        ['unit', /单位/],
        ['baseline', /基期|基线/],
        ['comparison', /比较/],
        ['target', /目标/],
        ['due', /期限|日期/],
        ['measure', /测量|计量|方式/],
        ['metric', /口径/],
        ['of', /分母/],
        ['public', /公开/],
      ],
      problems,
    );
    const measureOf = Object.fromEntries(Object.entries(MEASURES).map(([k, n]) => [n, k]));
    const metricOf = Object.fromEntries(Object.entries(METRICS).map(([k, m]) => [m.name, k]));
    const comparisonOf: Record<string, string> = { '≥': '>=', '≤': '<=', '＝': '=' };
    const perSubproject = new Map<number, number>();
    rec.rows.forEach((row) => {
      const seqText = row.get('seq');
      let path = `indicators[${indicators.length}]`;
      let into: Record<string, unknown>[] = indicators;
      if (seqText) {
        const idx = main.subprojects.findIndex((x) => String(x.seq) === seqText);
        if (idx < 0) {
          problems.push({
            at: row.cell('seq'),
            rule: 'XLSX-VALUE',
            zh: `分项目序号「${seqText}」不在资金安排表中`,
            en: `subproject ${seqText} is not in the budget table`,
          });
          return;
        }
        const sp = main.subprojects[idx] as { indicators?: Record<string, unknown>[] };
        into = sp.indicators ??= [];
        const j = perSubproject.get(idx) ?? 0;
        perSubproject.set(idx, j + 1);
        path = `subprojects[${idx}].indicators[${j}]`;
      }
      const fields = ['id', 'name', 'unit', 'baseline', 'comparison', 'target', 'due'] as const;
      cells.set(path, row.cell('id'));
      for (const k of [...fields, 'measure', 'metric', 'of', 'public'] as const)
        cells.set(`${path}.${k}`, row.cell(k));
      const due = row.get('due');
      const day = due ? parseDay(due, true) : null;
      if (due && !day)
        problems.push({
          at: row.cell('due'),
          rule: 'XLSX-VALUE',
          zh: `日期「${due}」应写作 2020-12-31`,
          en: `date "${due}" must be written 2020-12-31`,
        });
      const text = (k: (typeof fields)[number] | 'measure' | 'metric' | 'of' | 'public') =>
        row.get(k);
      const of = text('of');
      const pub = text('public');
      into.push({
        id: text('id'),
        name: text('name'),
        unit: text('unit'),
        ...(text('baseline') ? { baseline: text('baseline') } : {}),
        comparison: comparisonOf[text('comparison')] ?? text('comparison'),
        target: text('target'),
        ...(day ? { due: day } : {}),
        measure: measureOf[text('measure')] ?? text('measure'),
        ...(text('metric') ? { metric: metricOf[text('metric')] ?? text('metric') } : {}),
        ...(of ? { of: /^\d+$/.test(of) ? Number(of) : of } : {}),
        ...(pub ? { public: /^(是|公开|true|yes|y|1)$/i.test(pub) } : {}),
      });
    });
  }
  if (problems.length) throw refusal(problems);

  // rows in the order of their 序号, as the definition keeps them: the rules' row indexes are then ours
  const order = main.subprojects.map((s, i) => ({ s, i })).sort((a, b) => a.s.seq - b.s.seq);
  const renumbered = new Map<string, string>();
  for (const [k, c] of cells) {
    const m = /^subprojects\[(\d+)\](.*)$/.exec(k);
    if (!m) renumbered.set(k, c);
    else renumbered.set(`subprojects[${order.findIndex((o) => o.i === Number(m[1]))}]${m[2]}`, c);
  }
  const table: ProgramTableInput = {
    code: v('code'),
    name,
    province: v('province'),
    county: v('county'),
    ...(v('docPrefix') ? { docPrefix: v('docPrefix') } : {}),
    year: Number(year),
    ...(disclosure ? { disclosure } : {}),
    unit: '万元',
    ...(phases ? { phases } : {}),
    unitCaps,
    ...(parcelSubsidy ? { parcelSubsidy } : {}),
    subprojects: order.map((o) => o.s),
    totals: main.totals!,
    ...(policy ? { policy } : {}),
    ...(indicators.length ? { indicators: indicators as never } : {}),
  };
  return { table, cells: renumbered };
}

/** The cell of a field, or of the nearest field above it (`subprojects[1].targets[0].count` → the
 * row's targets cell). */
export function cellOf(cells: Map<string, string>, field: string | undefined): string {
  let f = field ?? '';
  while (f) {
    const c = cells.get(f);
    if (c) return c;
    const cut = Math.max(f.lastIndexOf('.'), f.lastIndexOf('['));
    f = cut > 0 ? f.slice(0, cut) : '';
  }
  return SHEETS.table;
}

const zodField = (path: PropertyKey[]) =>
  path.reduce<string>(
    (acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc ? `${acc}.${String(k)}` : String(k)),
    '',
  );

/** A refusal of the JSON table (zod) or of the definition (money format, R-FUND-*) said in cells. */
export function inCells(e: unknown, cells: Map<string, string>): unknown {
  if (e instanceof ZodError)
    return refusal(
      e.issues.map((i) => {
        const field = zodField(i.path);
        return {
          at: cellOf(cells, field),
          rule: 'INVALID-INPUT',
          zh: `${field ? `（${field}）` : ''}${i.message}`,
          en: `${field ? `(${field}) ` : ''}${i.message}`,
        };
      }),
    );
  if (e instanceof DomainError && e.violations.some((v) => v.field !== undefined)) {
    const kind = e.kind === 'rule' || e.kind === 'conflict' ? e.kind : 'invalid';
    return refusal(
      e.violations.map((v) => ({
        at: cellOf(cells, v.field),
        rule: v.rule,
        zh: v.message,
        en: v.message_en,
      })),
      kind,
    );
  }
  return e;
}

/** The JSON table of a workbook, checked as POST /api/programs checks its body. */
export async function parseBudgetWorkbook(bytes: Buffer) {
  const { table, cells } = await readBudgetWorkbook(bytes);
  try {
    return { table: ProgramTable.parse(table), cells };
  } catch (e) {
    throw inCells(e, cells);
  }
}

// ---------------------------------------------------------------------------------------------------
// writing: the template and a program's table, in the same layout

const THIN: Partial<ExcelJS.Borders> = {
  top: { style: 'thin' },
  left: { style: 'thin' },
  bottom: { style: 'thin' },
  right: { style: 'thin' },
};

/** A 万元 amount as a number cell with as many decimals as it has (141 → "141", 0.5 → "0.5"); an amount
 * with more than 15 significant digits stays text, which a double would not hold exactly. */
export function wanCell(cell: ExcelJS.Cell, wan: string): void {
  const decimals = (wan.split('.')[1] ?? '').length;
  const n = Number(wan);
  if (String(n) === wan) {
    cell.value = n;
    cell.numFmt = decimals ? `#,##0.${'0'.repeat(decimals)}` : '#,##0';
  } else cell.value = wan;
  cell.alignment = { horizontal: 'right', vertical: 'middle' };
}

function printSetup(ws: ExcelJS.Worksheet, headerRows: number) {
  ws.views = [{ state: 'frozen', ySplit: headerRows }];
  ws.pageSetup = {
    paperSize: 9, // A4
    orientation: 'landscape',
    fitToPage: true,
    fitToWidth: 1,
    fitToHeight: 0,
    printTitlesRow: `1:${headerRows}`,
    margins: { left: 0.5, right: 0.5, top: 0.6, bottom: 0.6, header: 0.3, footer: 0.3 },
  };
}

const MAIN_COLUMNS: { key: Col; width: number }[] = [
  { key: 'seq', width: 6 },
  { key: 'name', width: 30 },
  { key: 'goal', width: 44 },
  { key: 'direction', width: 18 },
  { key: 'procurement', width: 12 },
  { key: 'start', width: 12 },
  { key: 'deadline', width: 12 },
  { key: 'total', width: 12 },
  { key: 'central', width: 12 },
  { key: 'local', width: 12 },
  { key: 'enterprise', width: 12 },
  { key: 'targets', width: 28 },
  { key: 'uses', width: 18 },
];

/** The workbook of a table (a template when `t` is null): the same layout the import reads. */
export async function budgetWorkbook(t: ProgramTableParsed | null): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'shifan';
  wb.created = wb.modified = new Date(Date.UTC(2026, 0, 1));
  const ws = wb.addWorksheet(SHEETS.table);
  const last = MAIN_COLUMNS.length;
  ws.columns = MAIN_COLUMNS.map((c) => ({ width: c.width }));
  ws.mergeCells(1, 1, 1, last);
  const title = ws.getCell(1, 1);
  title.value = `${t?.name ?? '××县电子商务进农村综合示范'}资金安排表`;
  title.font = { bold: true, size: 16 };
  title.alignment = { horizontal: 'center' };
  ws.mergeCells(2, 1, 2, last);
  ws.getCell(2, 1).value = '单位：万元';
  ws.getCell(2, 1).alignment = { horizontal: 'right' };
  const moneyFrom = MAIN_COLUMNS.findIndex((c) => c.key === 'total') + 1;
  MAIN_COLUMNS.forEach((c, i) => {
    const col = i + 1;
    if (MONEY_COLS.includes(c.key)) {
      ws.getCell(4, col).value = COL_NAMES[c.key];
    } else {
      ws.mergeCells(3, col, 4, col);
      ws.getCell(3, col).value = COL_NAMES[c.key];
    }
  });
  ws.mergeCells(3, moneyFrom, 3, moneyFrom + 3);
  ws.getCell(3, moneyFrom).value = '资金安排（万元）';
  for (const r of [3, 4])
    for (let c = 1; c <= last; c++) {
      const cell = ws.getCell(r, c);
      cell.font = { bold: true };
      cell.alignment = { horizontal: 'center', vertical: 'middle', wrapText: true };
      cell.border = THIN;
      cell.fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFEFEFEF' } };
    }
  const rows = t?.subprojects ?? [];
  const capName = new Map((t?.unitCaps ?? []).map((c) => [c.item, c.name]));
  rows.forEach((s, i) => {
    const r = 5 + i;
    const values: Record<Col, string> = {
      seq: String(s.seq),
      name: s.name,
      goal: s.goal,
      direction: DIRECTIONS[s.direction],
      procurement: PROCUREMENTS[s.procurement],
      start: s.start ?? '',
      deadline: s.deadline ?? '',
      total: s.funding.total !== undefined ? String(s.funding.total) : '',
      central: String(s.funding.central),
      local: String(s.funding.local),
      enterprise: String(s.funding.enterprise),
      targets: s.targets
        .map(
          (x) => `${capName.get(x.item) ? `${capName.get(x.item)}(${x.item})` : x.item}=${x.count}`,
        )
        .join('；'),
      uses: s.uses.map((u) => (PROHIBITED_USES as Record<string, string>)[u] ?? u).join('；'),
    };
    MAIN_COLUMNS.forEach((c, j) => {
      const cell = ws.getCell(r, j + 1);
      cell.border = THIN;
      if (MONEY_COLS.includes(c.key) && values[c.key]) wanCell(cell, toWan(values[c.key], t!.unit));
      else if (c.key === 'seq') cell.value = s.seq;
      else {
        cell.value = values[c.key];
        cell.alignment = { vertical: 'middle', wrapText: true };
      }
    });
  });
  const tr = 5 + rows.length + (t ? 0 : 7); // the template leaves seven empty rows to fill
  for (let r = 5 + rows.length; r < tr; r++)
    for (let c = 1; c <= last; c++) ws.getCell(r, c).border = THIN;
  ws.mergeCells(tr, 1, tr, moneyFrom - 1);
  ws.getCell(tr, 1).value = '合计';
  ws.getCell(tr, 1).alignment = { horizontal: 'center' };
  for (let c = 1; c <= last; c++) {
    ws.getCell(tr, c).border = THIN;
    ws.getCell(tr, c).font = { bold: true };
  }
  if (t)
    (['total', ...SOURCES] as const).forEach((k, j) =>
      wanCell(ws.getCell(tr, moneyFrom + j), toWan(String(t.totals[k]), t.unit)),
    );
  // the direction and procurement cells offer their words as a list
  const list = (words: string[]) => ({
    type: 'list' as const,
    allowBlank: true,
    formulae: [`"${words.join(',')}"`],
  });
  for (let r = 5; r < tr; r++) {
    ws.getCell(r, 4).dataValidation = list(Object.values(DIRECTIONS));
    ws.getCell(r, 5).dataValidation = list(Object.values(PROCUREMENTS));
  }
  printSetup(ws, 4);

  const info = wb.addWorksheet(SHEETS.info);
  info.columns = [{ width: 22 }, { width: 70 }];
  const d = t?.disclosure;
  const ps = t?.parcelSubsidy;
  const infoRows: [string, string | number][] = [
    ['项目代码', t?.code ?? ''],
    ['项目名称', t?.name ?? ''],
    ['省份', t?.province ?? ''],
    ['县（市、区）', t?.county ?? ''],
    ['年度', t?.year ?? ''],
    ['机关代字', t?.docPrefix ?? ''],
    ['举报电话（多个用；分隔）', d?.phones.join('；') ?? ''],
    ['举报信箱', d?.mailbox ?? ''],
    ['办公地址', d?.address ?? ''],
    ['受理单位', d?.office ?? ''],
    ['物流补贴每单补贴（元）', ps ? String(ps.perParcelYuan) : ''],
    ['物流补贴每户每年上限（万元）', ps ? String(ps.perBusinessPerYear) : ''],
    ['物流补贴总额（万元）', ps ? String(ps.total) : ''],
    ['物流补贴审核周期', ps ? REVIEW_EVERY[ps.reviewEvery] : ''],
    ['物流补贴对象', ps?.eligible ?? ''],
  ];
  infoRows.forEach(([k, val], i) => {
    info.getCell(i + 1, 1).value = k;
    info.getCell(i + 1, 1).font = { bold: true };
    info.getCell(i + 1, 2).value = val;
    info.getCell(i + 1, 2).numFmt = '@';
  });

  const phases = wb.addWorksheet(SHEETS.phases);
  phases.columns = [{ width: 14 }, { width: 20 }, { width: 14 }, { width: 14 }, { width: 60 }];
  phases.addRow(['阶段键', '阶段名称', '开始日期', '结束日期', '关口（缺省按阶段键）']).font = {
    bold: true,
  };
  for (const p of t?.phases ?? [])
    phases.addRow([p.key, p.name, p.start ?? '', p.end ?? '', (p.gates ?? []).join('；')]);

  const caps = wb.addWorksheet(SHEETS.caps);
  caps.columns = [{ width: 18 }, { width: 28 }, { width: 22 }, { width: 26 }, { width: 18 }];
  caps.addRow([
    '事项代码',
    '名称',
    '每单位上限（万元）',
    '平均每单位上限（万元）',
    '资金来源',
  ]).font = { bold: true };
  for (const c of t?.unitCaps ?? []) {
    const row = caps.addRow([c.item, c.name, '', '', SOURCE_NAMES[c.source]]);
    if ('maxPerUnit' in c) wanCell(row.getCell(3), toWan(String(c.maxPerUnit), t!.unit));
    else wanCell(row.getCell(4), toWan(String(c.maxAveragePerUnit), t!.unit));
  }

  if (t?.policy && Object.keys(t.policy).length) {
    const pol = wb.addWorksheet(SHEETS.policy);
    pol.columns = [{ width: 28 }, { width: 70 }];
    pol.addRow(['参数', '值']).font = { bold: true };
    for (const [k, val] of Object.entries(t.policy))
      if (val !== undefined)
        pol.addRow([k, Array.isArray(val) ? val.join('；') : String(val)]).getCell(2).numFmt = '@';
  }

  const targets = wb.addWorksheet(SHEETS.targets);
  targets.columns = [8, 20, 28, 8, 10, 8, 10, 13, 18, 26, 12, 8].map((width) => ({ width }));
  targets.addRow([
    '分项目序号',
    '指标编号',
    '指标名称',
    '单位',
    '基期值',
    '比较',
    '目标值',
    '完成期限',
    '测量方式',
    '台账口径',
    '分母',
    '公开',
  ]).font = { bold: true };
  const targetRow = (seq: number | '', i: IndicatorInputParsed) =>
    targets
      .addRow([
        seq,
        i.id,
        i.name,
        i.unit,
        i.baseline ?? '',
        COMPARISONS[i.comparison],
        i.target,
        i.due ?? '',
        MEASURES[i.measure],
        i.metric ? METRICS[i.metric].name : '',
        i.of ?? '',
        i.public === undefined ? '' : i.public ? '是' : '否',
      ])
      .eachCell((c) => (c.numFmt = '@'));
  for (const i of t?.indicators ?? []) targetRow('', i);
  for (const sp of t?.subprojects ?? []) for (const i of sp.indicators ?? []) targetRow(sp.seq, i);

  const help = wb.addWorksheet(SHEETS.help);
  help.columns = [{ width: 18 }, { width: 90 }];
  const helpRows: [string, string][] = [
    [
      '资金安排表',
      '每个分项目一行，最后一行为「合计」；金额单位万元（标题或表头写明「单位：元」时按元），填数字，不要用公式。',
    ],
    ['支持方向', Object.values(DIRECTIONS).join('、')],
    ['实施方式', Object.values(PROCUREMENTS).join('、')],
    [
      '绩效指标',
      '「事项代码=数量」，多个用；分隔，如 town_station=21；事项代码见「单位限额」（R-FUND-5）',
    ],
    [
      '中央资金用途',
      `申报用途，多个用；分隔；禁止用途（R-FUND-4）：${Object.values(PROHIBITED_USES).join('、')}`,
    ],
    [
      '项目信息',
      '项目代码（小写字母、数字、连字符，如 tengzhou-2019）、省份、县（市、区）、年度必填',
    ],
    ['阶段计划', '可不填：缺省为 启动筹备 → 组织实施 → 绩效评价 → 总结提升'],
    [
      '绩效目标',
      `可不填（R-EV-1）：每行一个目标，分项目序号为空时是项目的目标；比较填 ≥、≤ 或 =；测量方式：${Object.values(MEASURES).join('、')}；由建设台账计算时填台账口径：${Object.values(
        METRICS,
      )
        .map((m) => m.name)
        .join('、')}`,
    ],
  ];
  for (const [k, val] of helpRows) {
    const row = help.addRow([k, val]);
    row.getCell(1).font = { bold: true };
    row.getCell(2).alignment = { wrapText: true };
  }
  return Buffer.from(await wb.xlsx.writeBuffer());
}

/** A table amount (in the table's unit) as 万元 text, exactly. */
const toWan = (amount: string, unit: MoneyUnit) => formatWan(parseMoney(amount, unit));
