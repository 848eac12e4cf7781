// What the browser tests share: Debian's chromium through playwright-core, a test server with users of
// every role (./server.ts) and the log-in form of the web console, and where screenshots go.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { loadTable } from './fixtures';
import { importProgram } from './flows';
import { PASSWORD, startTestServer, type TestServer } from './server';

const SHOTS =
  process.env.SCREENSHOT_DIR ?? path.join(__dirname, '..', '..', '.data', 'screenshots');

/** Saves the whole page as SHOTS/<name>.png. */
export const shot = (page: Page, name: string) =>
  page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

export interface WebConsole {
  /** The server and the browser: both set by the suite's beforeAll. */
  t: TestServer;
  browser: Browser;
  /** A browser context as a user in Beijing has it: Chinese, China's time, a laptop's window. */
  newContext(): Promise<BrowserContext>;
  /** A fresh context's page: the inbox sends it to the log-in form, it logs in, it is back on the inbox. */
  loginAs(username: string): Promise<Page>;
}

/**
 * Registers the suite's beforeAll and afterAll: a test server on the engine's clock at `now`, the
 * office's `program` imported, then `setup`, and chromium. `chineseControls`: the browser's own
 * controls (date fields, file pickers) in Chinese, as a user's browser shows them in the screenshots
 * (needs Debian's chromium-l10n; without it they stay in English).
 */
export function webConsole(opts: {
  now: string;
  program?: Parameters<typeof loadTable>[0];
  chineseControls?: boolean;
  setup?: (t: TestServer) => Promise<unknown>;
}): WebConsole {
  const web: WebConsole = {
    t: undefined as unknown as TestServer,
    browser: undefined as unknown as Browser,
    newContext: () =>
      web.browser.newContext({
        locale: 'zh-CN',
        timezoneId: 'Asia/Shanghai',
        viewport: { width: 1200, height: 900 },
      }),
    loginAs: async (username) => {
      const page = await (await web.newContext()).newPage();
      await page.goto(`${web.t.base}/`);
      await page.waitForURL(/\/login/);
      await logIn(page, username);
      await page.waitForURL(`${web.t.base}/`);
      return page;
    },
  };
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    web.t = await startTestServer({ now: opts.now });
    if (opts.program) await importProgram(web.t, opts.program);
    await opts.setup?.(web.t);
    web.browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-dev-shm-usage'].concat(
        opts.chineseControls ? ['--lang=zh-CN'] : [],
      ),
      env: opts.chineseControls
        ? { ...process.env, LANG: 'zh_CN.UTF-8', LANGUAGE: 'zh_CN' }
        : undefined,
    });
  }, 60_000);
  afterAll(async () => {
    await web.browser?.close();
    await web.t?.close();
  });
  return web;
}

/** On the log-in form: the user's name and the test password, sent; waits until the form lets go. */
export async function logIn(page: Page, username: string): Promise<void> {
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', PASSWORD);
  await Promise.all([
    page.waitForURL((u) => u.pathname !== '/login'),
    page.click('button:has-text("登录")'),
  ]);
}
