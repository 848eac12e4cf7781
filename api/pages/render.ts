// Server-rendered pages (Handlebars, zh-CN): templates/pages/*.hbs inside layouts/main.hbs, partials
// from templates/pages/partials. Compiled once at start; complete without JavaScript (htmx, served by
// the app itself, only makes some forms nicer).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import { ROOT } from '../../app/paths';
import { formatWan, formatYuan } from '../../workflows/money';
import { shanghaiDay } from '../../workflows/time';

const DIR = path.join(ROOT, 'templates', 'pages');
const SHANGHAI = 8 * 3600_000;

type Money = { fen: number; wan?: string } | number;
const fenOf = (v: unknown): number | null =>
  typeof v === 'number'
    ? v
    : v && typeof v === 'object' && 'fen' in v
      ? Number((v as { fen: number }).fen)
      : null;

function cnDate(v: unknown): string {
  if (typeof v !== 'string' || !v) return '—';
  const day = /^\d{4}-\d{2}-\d{2}$/.test(v) ? v : shanghaiDay(v);
  const [y, m, d] = day.split('-').map(Number);
  return `${y}年${m}月${d}日`;
}

function createEngine() {
  const hb = Handlebars.create();
  hb.registerHelper('wan', (v: Money) => {
    const f = fenOf(v);
    return f === null ? '—' : `${formatWan(f)}万元`;
  });
  hb.registerHelper('yuan', (v: Money) => {
    const f = fenOf(v);
    return f === null ? '—' : `${formatYuan(f)}元`;
  });
  hb.registerHelper('date', cnDate);
  hb.registerHelper('datetime', (v: unknown) => {
    if (typeof v !== 'string' || !v) return '—';
    const s = new Date(Date.parse(v) + SHANGHAI).toISOString();
    return `${cnDate(v)} ${s.slice(11, 16)}`;
  });
  hb.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  hb.registerHelper('array', (...args: unknown[]) => args.slice(0, -1));
  hb.registerHelper('concat', (...args: unknown[]) => args.slice(0, -1).join(''));
  hb.registerHelper('not', (a: unknown) => !a);
  hb.registerHelper('abs', (a: unknown) => (typeof a === 'number' ? Math.abs(a) : a));
  hb.registerHelper('gt', (a: unknown, b: unknown) => Number(a) > Number(b));
  hb.registerHelper('or', (...args: unknown[]) => args.slice(0, -1).some(Boolean));
  hb.registerHelper('and', (...args: unknown[]) => args.slice(0, -1).every(Boolean));
  hb.registerHelper(
    'includes',
    (list: unknown, x: unknown) => Array.isArray(list) && list.includes(x),
  );
  hb.registerHelper('json', (v: unknown) => JSON.stringify(v ?? null));
  hb.registerHelper('lines', (v: unknown) =>
    Array.isArray(v) ? v.join('\n') : typeof v === 'string' ? v : '',
  );
  /** The problem text for a form field, if the last answer named it. */
  hb.registerHelper('err', (errors: unknown, field: string) =>
    errors && typeof errors === 'object' ? ((errors as Record<string, string>)[field] ?? '') : '',
  );
  /** What the user typed into a field (kept after a refusal), else the default. */
  hb.registerHelper('val', (values: unknown, field: string, fallback?: unknown) => {
    const v =
      values && typeof values === 'object' ? (values as Record<string, unknown>)[field] : undefined;
    if (typeof v === 'string') return v;
    return typeof fallback === 'string' || typeof fallback === 'number' ? String(fallback) : '';
  });
  const partials = path.join(DIR, 'partials');
  for (const f of readdirSync(partials))
    hb.registerPartial(path.basename(f, '.hbs'), readFileSync(path.join(partials, f), 'utf8'));
  return hb;
}

export interface PageRenderer {
  render(page: string, data: Record<string, unknown>, opts?: { layout?: string | false }): string;
  /** One partial alone (templates/pages/partials/NAME.hbs): the fragment an htmx request swaps in. */
  partial(name: string, data: Record<string, unknown>): string;
}

export function createPageRenderer(): PageRenderer {
  const hb = createEngine();
  const compile = (file: string) => hb.compile(readFileSync(file, 'utf8'), { strict: false });
  const pages = new Map(
    readdirSync(DIR)
      .filter((f) => f.endsWith('.hbs'))
      .map((f) => [path.basename(f, '.hbs'), compile(path.join(DIR, f))]),
  );
  const layouts = new Map(
    readdirSync(path.join(DIR, 'layouts')).map((f) => [
      path.basename(f, '.hbs'),
      compile(path.join(DIR, 'layouts', f)),
    ]),
  );
  const fragments = new Map<string, HandlebarsTemplateDelegate>();
  return {
    partial(name, data) {
      let tpl = fragments.get(name);
      if (!tpl) {
        // registered as source text; Handlebars keeps its compiled form there once a page used it
        const source: unknown = hb.partials[name];
        if (typeof source === 'function') tpl = source as HandlebarsTemplateDelegate;
        else if (typeof source === 'string') tpl = hb.compile(source, { strict: false });
        else throw new Error(`no partial ${name}`);
        fragments.set(name, tpl);
      }
      return tpl(data);
    },
    render(page, data, opts = {}) {
      const tpl = pages.get(page);
      if (!tpl) throw new Error(`no page template ${page}`);
      const body = tpl(data);
      if (opts.layout === false) return body;
      const layout = layouts.get(opts.layout ?? 'main');
      if (!layout) throw new Error(`no layout ${String(opts.layout)}`);
      return layout({ ...data, body });
    },
  };
}
