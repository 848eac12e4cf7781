// Handlebars rendering of notices and mails (templates/, zh-CN), in strict mode: a missing variable is
// an error, never an empty gap in an official document. Helpers format money (万元 / 元 with thousands
// separators), Beijing dates (2020年12月31日) and countdowns.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import { formatWan, formatYuan } from '../workflows/money';
import { daysBetween, endOfDayShanghai, shanghaiDay } from '../workflows/time';
import { ROOT } from './paths';

export const TEMPLATES_DIR = path.join(ROOT, 'templates');
const SHANGHAI = 8 * 3600_000;

const cnDate = (v: string) => {
  const day = /^\d{4}-\d{2}-\d{2}$/.test(v) ? v : shanghaiDay(v);
  const [y, m, d] = day.split('-').map(Number);
  return `${y}年${m}月${d}日`;
};
const cnDateTime = (iso: string) => {
  const s = new Date(Date.parse(iso) + SHANGHAI).toISOString();
  return `${cnDate(iso)} ${s.slice(11, 16)}`;
};
/** Whole Beijing calendar days from `now` to `deadline`. */
export function countdownText(deadline: string, now: string): string {
  const end = /^\d{4}-\d{2}-\d{2}$/.test(deadline) ? deadline : shanghaiDay(deadline);
  const days = daysBetween(shanghaiDay(now), end);
  if (days > 0) return `还有 ${days} 天`;
  const endsAt = /^\d{4}-\d{2}-\d{2}$/.test(deadline)
    ? endOfDayShanghai(deadline)
    : Date.parse(deadline);
  if (days === 0) return endsAt < Date.parse(now) ? '已逾期' : '今天到期';
  return `已逾期 ${-days} 天`;
}

function fen(v: unknown, helper: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v))
    throw new Error(`${helper}: expected an amount in fen, got ${JSON.stringify(v)}`);
  return v;
}

function createEngine() {
  const hb = Handlebars.create();
  hb.registerHelper('wan', (v: unknown) => `${formatWan(fen(v, 'wan'))}万元`);
  hb.registerHelper('yuan', (v: unknown) => `${formatYuan(fen(v, 'yuan'))}元`);
  hb.registerHelper('date', (v: unknown) => {
    if (typeof v !== 'string') throw new Error('date: expected a date');
    return cnDate(v);
  });
  hb.registerHelper('datetime', (v: unknown) => {
    if (typeof v !== 'string') throw new Error('datetime: expected an instant');
    return cnDateTime(v);
  });
  hb.registerHelper('countdown', (deadline: unknown, now: unknown) => {
    if (typeof deadline !== 'string' || typeof now !== 'string')
      throw new Error('countdown: expected (deadline, now)');
    return countdownText(deadline, now);
  });
  for (const f of readdirSync(path.join(TEMPLATES_DIR, 'partials'))) {
    hb.registerPartial(
      path.basename(f, '.hbs'),
      readFileSync(path.join(TEMPLATES_DIR, 'partials', f), 'utf8'),
    );
  }
  return hb;
}

const hb = createEngine();
const cache = new Map<string, Handlebars.TemplateDelegate>();
function template(rel: string, noEscape = false): Handlebars.TemplateDelegate {
  const key = `${rel}:${noEscape}`;
  let t = cache.get(key);
  if (!t) {
    t = hb.compile(readFileSync(path.join(TEMPLATES_DIR, rel), 'utf8'), { strict: true, noEscape });
    cache.set(key, t);
  }
  return t;
}

export const NOTICE_TEMPLATES = readdirSync(path.join(TEMPLATES_DIR, 'notices'))
  .map((f) => path.basename(f, '.hbs'))
  .sort();
export const MAIL_TEMPLATES = readdirSync(path.join(TEMPLATES_DIR, 'mail'))
  .map((f) => path.basename(f, '.hbs'))
  .sort();

/** HTML → plain text for mail bodies and search: block ends become line breaks, tags go. */
export function htmlToText(html: string): string {
  return html
    .replace(/<li[^>]*>/gi, '• ')
    .replace(/<(br|\/p|\/tr|\/li|\/h1|\/div|\/table)[^>]*>/gi, '\n')
    .replace(/<\/t[dh]>/gi, '  ')
    .replace(/<[^>]+>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/&#x3D;/g, '=')
    .replace(/&amp;/g, '&')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join('\n');
}

export interface NoticeData {
  title: string;
  docNumber: string;
  issuedAt: string;
  program: { name: string; county: string; reportPhone: string };
  [k: string]: unknown;
}

export function renderNotice(kind: string, data: NoticeData): { html: string; bodyText: string } {
  if (!NOTICE_TEMPLATES.includes(kind)) throw new Error(`no notice template ${kind}`);
  const body = template(`notices/${kind}.hbs`)(data);
  const html = template('layouts/notice.hbs')({ ...data, body });
  return { html, bodyText: htmlToText(body) };
}

export function renderMail(
  kind: string,
  data: {
    recipientName: string;
    program: { county: string; reportPhone: string };
    [k: string]: unknown;
  },
): string {
  if (!MAIL_TEMPLATES.includes(kind)) throw new Error(`no mail template ${kind}`);
  const body = template(`mail/${kind}.hbs`, true)(data).trim();
  return template('layouts/mail.hbs', true)({ ...data, body });
}

/** Sample data for previews and tests (templates/samples.json). */
export function samples(): Record<string, Record<string, unknown>> {
  return JSON.parse(readFileSync(path.join(TEMPLATES_DIR, 'samples.json'), 'utf8')) as Record<
    string,
    Record<string, unknown>
  >;
}
