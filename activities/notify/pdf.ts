// PDF of an official notice with pdfkit and a CJK font from Debian's packages (fonts-noto-cjk, or
// fonts-wqy-*). A .ttc collection needs the face's PostScript name; the "sc" face gives Simplified
// Chinese glyph forms.
import { existsSync } from 'node:fs';
import PDFDocument from 'pdfkit';

const CANDIDATES: [string, string | undefined][] = [
  ['/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc', 'NotoSerifCJKsc-Regular'],
  ['/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc', 'NotoSansCJKsc-Regular'],
  ['/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc', 'WenQuanYiZenHei'],
  ['/usr/share/fonts/truetype/wqy/wqy-microhei.ttc', 'WenQuanYiMicroHei'],
];

export interface CjkFont {
  file: string;
  face?: string;
}
/** PDF_FONT=/path/font.ttc[#FaceName] wins; otherwise the first Debian CJK font found; null if none. */
export function findCjkFont(setting?: string): CjkFont | null {
  if (setting) {
    const [file, face] = setting.split('#');
    return existsSync(file) ? { file, face } : null;
  }
  const hit = CANDIDATES.find(([f]) => existsSync(f));
  return hit ? { file: hit[0], face: hit[1] } : null;
}

export interface PdfNotice {
  issuer: string;
  docNumber: string;
  title: string;
  paragraphs: string[];
  signature: string[];
  marker: string;
  issuedAt: string;
}

export function renderPdf(n: PdfNotice, font: CjkFont): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const doc = new PDFDocument({
      size: 'A4',
      margins: { top: 72, bottom: 72, left: 80, right: 80 },
      info: { Title: n.title, Subject: n.docNumber, CreationDate: new Date(n.issuedAt) },
    });
    const chunks: Buffer[] = [];
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
    doc.registerFont('cjk', font.file, font.face);
    doc.font('cjk');
    doc
      .fillColor('#b00000')
      .fontSize(n.issuer.length > 24 ? 15 : 20)
      .text(n.issuer, { align: 'center' });
    doc.moveDown(0.3).fillColor('#000000').fontSize(12).text(n.docNumber, { align: 'center' });
    doc.moveDown(1).fontSize(18).text(n.title, { align: 'center' });
    doc.moveDown(1).fontSize(12);
    for (const p of n.paragraphs)
      doc.text(p, { indent: 24, align: 'justify', lineGap: 4 }).moveDown(0.3);
    doc.moveDown(1.5);
    for (const s of n.signature) doc.text(s, { align: 'right' });
    doc.moveDown(2).fontSize(9).fillColor('#555555').text(n.marker);
    doc.end();
  });
}
