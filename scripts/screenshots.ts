// `npm run screenshots`: the README's pictures, from the demo's data. A throwaway embedded PostgreSQL,
// the demo (`shifan demo`) run to a fixed moment so the pictures do not change from run to run, the
// server on that clock, and Debian's chromium (playwright-core) logging in as each role; the PNGs go to
// docs/screenshots/ (SCREENSHOT_DIR to put them elsewhere). Needs /usr/bin/chromium (CHROMIUM_PATH).
import { mkdirSync, mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createApp } from '../api/app';
import { DEMO_PROGRAM, DEMO_USERS, runDemo } from '../app/demo';
import { ManualClock } from '../engine/clock';
import { ensureDatabase, startEmbeddedPostgres } from '../engine/embedded-pg';
import { applyMigrations } from '../engine/migrate';
import { createRuntime } from '../engine/runtime';
import { freePort } from '../test/support/free-port';

const ROOT = path.resolve(__dirname, '..');
const OUT = process.env.SCREENSHOT_DIR ?? path.join(ROOT, 'docs', 'screenshots');
const END = '2026-12-03T09:00:00.000Z'; // 17:00 in Beijing: where the demo's clock stops
const SP = (seq: number) => `/programs/${DEMO_PROGRAM}/subprojects/${seq}`;

/** file name, who (null: the public, no log-in), which page; `phone`: a phone's window (contractors
 * work in villages, the public reads the column on its phones) */
const SHOTS: {
  name: string;
  user: string | null;
  url: string;
  phone?: boolean;
  /** the top of the page only, a window's height (the column is a long page) */
  window?: boolean;
  /** one element only (a CSS selector) */
  element?: string;
}[] = [
  { name: 'inbox-office', user: 'office1', url: '/' },
  { name: 'program-office', user: 'office1', url: `/programs/${DEMO_PROGRAM}` },
  { name: 'tender-sealed-office', user: 'office1', url: SP(4) },
  { name: 'milestone-publicity-supervisor', user: 'supervisor1', url: SP(3) },
  { name: 'release-finance', user: 'finance1', url: SP(3) },
  { name: 'inbox-finance', user: 'finance1', url: '/' },
  { name: 'inbox-contractor-phone', user: 'post1', url: '/', phone: true },
  { name: 'rectification-contractor-phone', user: 'post1', url: SP(1), phone: true },
  { name: 'bid-contractor-phone', user: 'kuaidi1', url: SP(4), phone: true },
  { name: 'clawback-office', user: 'office1', url: SP(6) },
  { name: 'users-office', user: 'office1', url: '/users' },
  { name: 'public-program', user: null, url: `/gongkai/${DEMO_PROGRAM}`, window: true },
  {
    name: 'public-program-phone',
    user: null,
    url: `/gongkai/${DEMO_PROGRAM}`,
    phone: true,
    element: '#publicity',
  },
];

const log = (m: string) => process.stderr.write(`[screenshots] ${m}\n`);

async function logIn(page: Page, base: string, username: string, url: string): Promise<void> {
  const user = DEMO_USERS.find((u) => u.username === username);
  if (!user) throw new Error(`no demo user ${username}`);
  await page.goto(`${base}${url}`);
  await page.fill('input[name=username]', user.username);
  await page.fill('input[name=password]', user.password);
  await Promise.all([page.waitForEvent('load'), page.click('button:has-text("登录")')]);
  if (new URL(page.url()).pathname === '/login') throw new Error(`${username} could not log in`);
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'shifan-shots-'));
  const pg = await startEmbeddedPostgres({
    dir,
    port: await freePort(),
    persistent: false,
    fast: true,
  });
  let browser: Browser | null = null;
  try {
    await ensureDatabase(pg.adminUrl, 'shifan');
    const url = pg.url('shifan');
    await applyMigrations(url);
    const clock = new ManualClock(END);
    const rt = createRuntime(url, { clock, notify: { font: null } });
    const ctx = { ...rt, log: pino({ level: 'silent' }) };
    try {
      log('running the demo …');
      await runDemo(ctx, { clock, end: END });
      // the notices (招标公告, 公示, 通报 …) the server's dispatcher would issue within seconds
      for (let i = 0; i < 10 && (await rt.notifier.runOnce()).outbox > 0; i++);
      const server = createApp(ctx).listen(0);
      await new Promise<void>((r) => server.once('listening', () => r()));
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      try {
        browser = await chromium.launch({
          executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
          args: ['--no-sandbox', '--disable-dev-shm-usage', '--lang=zh-CN'],
          env: { ...process.env, LANG: 'zh_CN.UTF-8', LANGUAGE: 'zh_CN' },
        });
        for (const s of SHOTS) {
          const context = await browser.newContext({
            locale: 'zh-CN',
            timezoneId: 'Asia/Shanghai',
            viewport: s.phone ? { width: 390, height: 844 } : { width: 1200, height: 900 },
            deviceScaleFactor: 1,
          });
          const page = await context.newPage();
          if (s.user) await logIn(page, base, s.user, s.url);
          else await page.goto(`${base}${s.url}`);
          const file = path.join(OUT, `${s.name}.png`);
          if (s.element) await page.locator(s.element).screenshot({ path: file });
          else if (s.window)
            await page.screenshot({ path: file, clip: { x: 0, y: 0, width: 1200, height: 900 } });
          else await page.screenshot({ path: file, fullPage: true });
          log(`${path.relative(ROOT, file)} (${s.user ?? 'public'} ${s.url})`);
          await context.close();
        }
      } finally {
        server.close();
      }
    } finally {
      await rt.close();
    }
  } finally {
    await browser?.close();
    await pg.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
