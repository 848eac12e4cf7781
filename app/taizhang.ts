// 项目台账 (R-PUB-2): every subproject's status, progress, money and documents as one Excel workbook for
// the office, the finance bureau and the auditors. The money is the ledger's own (programLedger, R-FUND-8):
// the 合计 rows equal GET /api/programs/:code/ledger to the fen. Printed on A4 landscape with the header
// rows repeated and frozen; amounts in 万元 with as many decimals as the sheet's amounts need (exact).
import ExcelJS from 'exceljs';
import { formatWan, sumFen, type Fen } from '../workflows/money';
import { GATES, PROCUREMENTS, DIRECTIONS, SOURCE_NAMES, SOURCES } from '../workflows/program/types';
import { MILESTONE_STATUS_NAMES } from '../workflows/subproject/delivery';
import { SUBPROJECT_STATUS_NAMES, subprojectStatus } from '../workflows/subproject/status';
import { shanghaiDay } from '../workflows/time';
import type { AppContext } from './context';
import { loadProgram, loadSubproject, programLedger } from './queries';
import { NOTICE_KIND_NAMES, type NoticeKind } from '../workflows/notices';

export const TAIZHANG_SHEETS = {
  subprojects: '分项目',
  milestones: '里程碑',
  disbursements: '资金拨付',
  clawbacks: '追回与收回',
  documents: '文件与通知',
} as const;

const THIN: Partial<ExcelJS.Borders> = {
  top: { style: 'thin' },
  left: { style: 'thin' },
  bottom: { style: 'thin' },
  right: { style: 'thin' },
};

/** Decimals 万元 needs to show `fen` exactly (1 fen = 0.000001 万元). */
const decimalsOf = (fen: Fen) => (formatWan(fen).split('.')[1] ?? '').length;

/** A sheet written row by row: title, unit line, one or two header rows, body, and its print setup. */
class Sheet {
  readonly ws: ExcelJS.Worksheet;
  private moneyCells: { cell: ExcelJS.Cell; fen: Fen }[] = [];
  private headerRows = 0;
  constructor(
    wb: ExcelJS.Workbook,
    name: string,
    title: string,
    private readonly widths: number[],
  ) {
    this.ws = wb.addWorksheet(name);
    this.ws.columns = widths.map((width) => ({ width }));
    this.ws.mergeCells(1, 1, 1, widths.length);
    const t = this.ws.getCell(1, 1);
    t.value = title;
    t.font = { bold: true, size: 14 };
    t.alignment = { horizontal: 'center' };
    this.ws.mergeCells(2, 1, 2, widths.length);
    this.ws.getCell(2, 1).value = '单位：万元';
    this.ws.getCell(2, 1).alignment = { horizontal: 'right' };
  }
  /** Header rows: a string spans its own column, [text, n] spans n columns over the row below. */
  header(top: (string | [string, number])[], below?: string[]) {
    const r = 3;
    let c = 1;
    for (const h of top) {
      const [text, span] = typeof h === 'string' ? [h, 1] : h;
      if (below && span === 1) this.ws.mergeCells(r, c, r + 1, c);
      else if (span > 1) this.ws.mergeCells(r, c, r, c + span - 1);
      this.ws.getCell(r, c).value = text;
      c += span;
    }
    if (below) {
      let col = 1;
      for (const h of top) {
        const span = typeof h === 'string' ? 1 : h[1];
        if (span > 1)
          for (let i = 0; i < span; i++)
            this.ws.getCell(r + 1, col + i).value = below.shift() ?? '';
        col += span;
      }
    }
    this.headerRows = below ? 4 : 3;
    for (let row = 3; row <= this.headerRows; row++)
      for (let col = 1; col <= this.widths.length; col++) {
        const cell = this.ws.getCell(row, col);
        cell.font = { bold: true };
        cell.alignment = { horizontal: 'center', vertical: 'middle', wrapText: true };
        cell.border = THIN;
        cell.fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFEFEFEF' } };
      }
  }
  /** A body row: numbers in `money` positions are fen, written as 万元. */
  row(values: (string | number | null)[], money: number[] = [], bold = false) {
    const row = this.ws.addRow(values.map((v, i) => (money.includes(i) ? null : v)));
    values.forEach((v, i) => {
      const cell = row.getCell(i + 1);
      cell.border = THIN;
      if (bold) cell.font = { bold: true };
      if (money.includes(i) && typeof v === 'number') {
        this.moneyCells.push({ cell, fen: v });
        cell.alignment = { horizontal: 'right' };
      } else cell.alignment = { vertical: 'top', wrapText: typeof v === 'string' && v.length > 12 };
    });
    for (let i = values.length; i < this.widths.length; i++) row.getCell(i + 1).border = THIN;
    return row;
  }
  /** Writes the amounts with the decimals the sheet's amounts need, frozen header, A4 landscape. */
  finish(frozenColumns = 0) {
    const d = Math.max(0, ...this.moneyCells.map((m) => decimalsOf(m.fen)));
    const fmt = d ? `#,##0.${'0'.repeat(d)}` : '#,##0';
    for (const { cell, fen } of this.moneyCells) {
      const wan = formatWan(fen);
      const n = Number(wan);
      cell.value = String(n) === wan ? n : wan; // > 15 significant digits stays exact text
      cell.numFmt = fmt;
    }
    this.ws.views = [{ state: 'frozen', ySplit: this.headerRows, xSplit: frozenColumns }];
    this.ws.pageSetup = {
      paperSize: 9, // A4
      orientation: 'landscape',
      fitToPage: true,
      fitToWidth: 1,
      fitToHeight: 0,
      printTitlesRow: `1:${this.headerRows}`,
      horizontalCentered: true,
      margins: { left: 0.4, right: 0.4, top: 0.6, bottom: 0.6, header: 0.3, footer: 0.3 },
    };
    this.ws.headerFooter = { oddFooter: '第 &P 页，共 &N 页' };
  }
}

/** A figure of the ledger view (app/subproject-views.ts ledgerView) for one source, in fen. */
const bySource = (l: { bySource: object[] }, i: number, key: 'budgeted' | 'disbursed') =>
  (l.bySource[i] as Record<typeof key, { fen: Fen }>)[key].fen;

const day = (iso: string | null | undefined) => (iso ? shanghaiDay(iso) : '');

/** The 项目台账 workbook of a program, as of the engine's clock. */
export async function taizhangWorkbook(ctx: AppContext, code: string): Promise<Buffer> {
  const { state: p } = await loadProgram(ctx, code);
  const [ledger, notices, states] = await Promise.all([
    programLedger(ctx, code),
    ctx.prisma.officialNotice.findMany({
      where: { programCode: code },
      orderBy: { id: 'asc' },
      select: {
        id: true,
        docNumber: true,
        kind: true,
        title: true,
        issuedAt: true,
        streamId: true,
        correctsId: true,
        isPublic: true,
      },
    }),
    Promise.all(p.def.subprojects.map((sp) => loadSubproject(ctx, code, sp.seq))),
  ]);
  const asOf = shanghaiDay(ctx.engine.clock.now().toISOString());
  const active = states.map((s) => (s.state.status === 'active' ? s.state : null));
  const wb = new ExcelJS.Workbook();
  wb.creator = 'shifan';
  wb.created = wb.modified = ctx.engine.clock.now();
  const title = (what: string) => `${p.def.name}${what}（截至 ${asOf}）`;

  // 分项目: status, contractor, dates, progress, money per source (the ledger's figures)
  const sub = new Sheet(
    wb,
    TAIZHANG_SHEETS.subprojects,
    title('项目台账'),
    [6, 28, 16, 10, 12, 20, 16, 11, 11, 12, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11],
  );
  const src = SOURCES.map((s) => SOURCE_NAMES[s].slice(0, 2));
  sub.header(
    [
      '序号',
      '项目名称',
      '支持方向',
      '实施方式',
      '状态',
      '承办单位',
      '合同编号',
      '签订日期',
      '完成时限',
      '里程碑进度',
      ['预算', 4],
      ['已拨付', 4],
      ['追回', 3],
    ],
    [...src, '合计', ...src, '合计', '应追回', '已追回', '未追回'],
  );
  const moneyCols = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20];
  const moneyOf = (l: (typeof ledger)['subprojects'][number] | typeof ledger) => [
    ...SOURCES.map((_, i) => bySource(l, i, 'budgeted')),
    l.total.budgeted.fen,
    ...SOURCES.map((_, i) => bySource(l, i, 'disbursed')),
    l.total.disbursed.fen,
    l.total.clawbackDemanded.fen,
    l.total.recovered.fen,
    l.total.outstanding.fen,
  ];
  p.def.subprojects.forEach((sp, i) => {
    const s = active[i];
    const L = ledger.subprojects[i];
    const ms = s ? Object.values(s.delivery.milestones) : [];
    const planned = s?.contract?.milestones.length ?? 0;
    const accepted = ms.filter((m) => m.status === 'accepted').length;
    sub.row(
      [
        sp.seq,
        sp.name,
        DIRECTIONS[sp.direction],
        PROCUREMENTS[sp.procurement],
        SUBPROJECT_STATUS_NAMES[s ? subprojectStatus(s) : 'planned'],
        s?.contract?.org ?? s?.award?.org ?? '',
        s?.contract?.number ?? '',
        day(s?.contract?.signedAt),
        sp.deadline ?? '',
        planned ? `${accepted}/${planned} 已验收` : '',
        ...moneyOf(L),
      ],
      moneyCols,
    );
  });
  if (ledger.parcelSubsidies.fen > 0)
    sub.row(
      [
        '',
        '快递物流补贴（R-FUND-6，中央资金）',
        '',
        '',
        '',
        '',
        '',
        '',
        '',
        '',
        0,
        0,
        0,
        0,
        ledger.parcelSubsidies.fen,
        0,
        0,
        ledger.parcelSubsidies.fen,
        0,
        0,
        0,
      ],
      moneyCols,
    );
  const totals = sub.row(
    ['合计', '', '', '', '', '', '', '', '', '', ...moneyOf(ledger)],
    moneyCols,
    true,
  );
  sub.ws.mergeCells(totals.number, 1, totals.number, 10);
  totals.getCell(1).alignment = { horizontal: 'center' };
  sub.finish(2);

  // 里程碑: each contract milestone with its acceptance and the tranches it releases
  const mil = new Sheet(
    wb,
    TAIZHANG_SHEETS.milestones,
    title('里程碑进度'),
    [6, 26, 12, 26, 11, 18, 8, 11, 22, 11, 11, 12, 12],
  );
  mil.header([
    '序号',
    '分项目',
    '里程碑键',
    '里程碑',
    '计划完成',
    '状态',
    '提交次数',
    '最近提交',
    '最近验收决定',
    '公示截止',
    '整改期限',
    '拨付批次（万元）',
    '已拨付（万元）',
  ]);
  p.def.subprojects.forEach((sp, i) => {
    const s = active[i];
    for (const plan of s?.contract?.milestones ?? []) {
      const m = s!.delivery.milestones[plan.key];
      const last = m?.decisions[m.decisions.length - 1];
      const sub = m?.submissions[m.submissions.length - 1];
      mil.row(
        [
          sp.seq,
          sp.name,
          plan.key,
          plan.title,
          plan.due,
          m ? MILESTONE_STATUS_NAMES[m.status] : MILESTONE_STATUS_NAMES.planned,
          m?.round ?? 0,
          day(sub?.at),
          last ? `${last.decision === 'accept' ? '合格' : '不合格'}（${day(last.at)}）` : '',
          day(m?.publicity?.endsAt),
          day(m?.rectification?.deadline),
          sumFen(
            s!.contract!.tranches.filter((t) => t.milestone === plan.key).map((t) => t.amount),
          ),
          sumFen(
            s!.delivery.disbursements.filter((d) => d.milestone === plan.key).map((d) => d.amount),
          ),
        ],
        [11, 12],
      );
    }
  });
  mil.finish(2);

  // 资金拨付: every disbursement, and the parcel subsidies paid, summing to the ledger's disbursed
  const dis = new Sheet(
    wb,
    TAIZHANG_SHEETS.disbursements,
    title('资金拨付明细'),
    [6, 28, 12, 14, 14, 14, 14, 14, 38],
  );
  dis.header([
    '序号',
    '分项目',
    '拨付日期',
    '批次',
    '里程碑',
    '资金来源',
    '金额',
    '经办人',
    '拨付编号',
  ]);
  p.def.subprojects.forEach((sp, i) => {
    for (const d of active[i]?.delivery.disbursements ?? [])
      dis.row(
        [
          sp.seq,
          sp.name,
          day(d.at),
          d.tranche,
          d.milestone,
          SOURCE_NAMES[d.source],
          d.amount,
          d.by,
          d.id,
        ],
        [6],
      );
  });
  if (ledger.parcelSubsidies.fen > 0)
    dis.row(
      [
        '',
        '快递物流补贴（已付审核合计）',
        '',
        '',
        '',
        SOURCE_NAMES.central,
        ledger.parcelSubsidies.fen,
        '',
        '',
      ],
      [6],
    );
  const dt = dis.row(['合计', '', '', '', '', '', ledger.total.disbursed.fen, '', ''], [6], true);
  dis.ws.mergeCells(dt.number, 1, dt.number, 6);
  dis.finish(2);

  // 追回与收回 (R-FUND-8): what was demanded per source, then each recovery
  const cl = new Sheet(
    wb,
    TAIZHANG_SHEETS.clawbacks,
    title('追回与收回'),
    [6, 28, 10, 12, 12, 14, 14, 14, 40],
  );
  cl.header([
    '序号',
    '分项目',
    '类别',
    '日期',
    '期限',
    '资金来源',
    '应追回',
    '已收回',
    '原因或凭证',
  ]);
  p.def.subprojects.forEach((sp, i) => {
    const c = active[i]?.delivery.clawback;
    if (!c) return;
    for (const s of SOURCES)
      if (c.demanded[s] > 0)
        cl.row(
          [
            sp.seq,
            sp.name,
            '追回',
            day(c.demandedAt),
            day(c.deadline),
            SOURCE_NAMES[s],
            c.demanded[s],
            null,
            c.reason,
          ],
          [6, 7],
        );
    for (const r of c.recoveries)
      cl.row(
        [
          sp.seq,
          sp.name,
          '收回',
          day(r.at),
          '',
          SOURCE_NAMES[r.source],
          null,
          r.amount,
          r.reference ?? '',
        ],
        [6, 7],
      );
  });
  const ct = cl.row(
    [
      '合计',
      '',
      '',
      '',
      '',
      '',
      ledger.total.clawbackDemanded.fen,
      ledger.total.recovered.fen,
      `未追回 ${formatWan(ledger.total.outstanding.fen)} 万元`,
    ],
    [6, 7],
    true,
  );
  cl.ws.mergeCells(ct.number, 1, ct.number, 6);
  cl.finish(2);

  // 文件与通知: the gate acts' documents, awards, contracts and the official notices with their 文号
  const doc = new Sheet(
    wb,
    TAIZHANG_SHEETS.documents,
    title('文件与通知'),
    [16, 46, 26, 12, 8, 30],
  );
  doc.ws.getCell(2, 1).value = '';
  doc.header(['类别', '标题', '文号', '日期', '分项目', '说明']);
  for (const a of p.acts)
    doc.row([
      '关口事项',
      a.document.title,
      a.document.number ?? '',
      a.document.date ?? day(a.at),
      '',
      GATES[a.gate].name,
    ]);
  p.def.subprojects.forEach((sp, i) => {
    const s = active[i];
    if (s?.award?.document)
      doc.row([
        '定标/委托',
        s.award.document.title,
        s.award.document.number ?? '',
        s.award.document.date ?? day(s.award.at),
        sp.seq,
        s.award.org,
      ]);
    if (s?.contract)
      doc.row([
        '合同',
        s.contract.document.title,
        s.contract.number ?? s.contract.document.number ?? '',
        day(s.contract.signedAt),
        sp.seq,
        s.contract.org,
      ]);
  });
  const seqOf = (streamId: string) => {
    const m = new RegExp(`^subproject-${code}-(\\d+)$`).exec(streamId);
    return m ? Number(m[1]) : '';
  };
  const numbers = new Map(notices.map((n) => [n.id, n.docNumber]));
  for (const n of notices)
    doc.row([
      NOTICE_KIND_NAMES[n.kind as NoticeKind] ?? n.kind,
      n.title,
      n.docNumber,
      day(n.issuedAt.toISOString()),
      seqOf(n.streamId),
      [n.correctsId ? `更正 ${numbers.get(n.correctsId) ?? ''}` : '', n.isPublic ? '' : '不公开']
        .filter(Boolean)
        .join('；'),
    ]);
  doc.finish(0);
  return Buffer.from(await wb.xlsx.writeBuffer());
}
