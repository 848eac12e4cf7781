// Template use cases: the list of notice and mail templates, and a preview of any of them with sample
// data (templates/samples.json) or given data, as HTML and text, or as the PDF a notice is issued as.
import {
  MAIL_TEMPLATES,
  NOTICE_TEMPLATES,
  renderMail,
  renderNotice,
  samples,
} from '../activities/render';
import { findCjkFont, renderPdf } from '../activities/notify/pdf';
import { DomainError } from '../workflows/errors';

export const listTemplates = () => ({ notices: NOTICE_TEMPLATES, mails: MAIL_TEMPLATES });

type NoticeData = Parameters<typeof renderNotice>[1];
type MailData = Parameters<typeof renderMail>[1];

/** The template's sample data, the sample program, then what the caller gives (given fields win). */
function previewData(name: string, given: Record<string, unknown> = {}): Record<string, unknown> {
  const all = samples();
  const own = Object.hasOwn(all, name) ? all[name] : {};
  return { ...own, program: all._program, ...given };
}

const incomplete = (e: unknown) =>
  new DomainError(
    'TEMPLATE-DATA',
    'invalid',
    `模板数据不完整：${(e as Error).message}`,
    `template data incomplete: ${(e as Error).message}`,
    { field: 'data' },
  );

export function previewTemplate(
  name: string,
  given?: Record<string, unknown>,
):
  | { name: string; kind: 'notice'; html: string; text: string }
  | { name: string; kind: 'mail'; text: string } {
  const data = previewData(name, given);
  try {
    if (NOTICE_TEMPLATES.includes(name)) {
      const r = renderNotice(name, data as NoticeData);
      return { name, kind: 'notice', html: r.html, text: r.bodyText };
    }
    if (MAIL_TEMPLATES.includes(name))
      return { name, kind: 'mail', text: renderMail(name, data as MailData) };
  } catch (e) {
    throw incomplete(e);
  }
  throw new DomainError(
    'NOT-FOUND',
    'not_found',
    `没有模板「${name}」。通知：${NOTICE_TEMPLATES.join('、')}；邮件：${MAIL_TEMPLATES.join('、')}`,
    `no template ${name}`,
  );
}

/** A notice template rendered as the PDF it would be issued as (needs a CJK font). */
export async function previewNoticePdf(
  name: string,
  given: Record<string, unknown> | undefined,
  fontSetting?: string,
): Promise<Buffer> {
  const preview = previewTemplate(name, given);
  if (preview.kind !== 'notice')
    throw new DomainError(
      'TEMPLATE-KIND',
      'invalid',
      `「${name}」是邮件模板，不能生成 PDF`,
      `${name} is a mail template: no PDF`,
    );
  const font = findCjkFont(fontSetting);
  if (!font)
    throw new DomainError(
      'NO-CJK-FONT',
      'conflict',
      '没有可用的中文字体：apt-get install fonts-noto-cjk，或设置 PDF_FONT',
      'no CJK font: apt-get install fonts-noto-cjk, or set PDF_FONT',
    );
  const data = previewData(name, given) as {
    program: { county: string; reportPhone: string };
    docNumber: string;
    title: string;
    issuedAt: string;
  };
  return renderPdf(
    {
      issuer: `${data.program.county}电子商务进农村综合示范工作领导小组办公室文件`,
      docNumber: data.docNumber,
      title: data.title,
      paragraphs: preview.text.split('\n'),
      signature: [`${data.program.county}电子商务进农村综合示范工作领导小组办公室`],
      marker: `全国电子商务进农村综合示范项目 · 监督举报电话：${data.program.reportPhone}`,
      issuedAt: data.issuedAt,
    },
    font,
  );
}
