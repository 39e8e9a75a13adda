import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`), driven by playwright-core. */
export const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

export const haveChromium = existsSync(CHROMIUM);

/**
 * `it`, or `it.skip` with a warning when Chromium is missing outside CI (CI must have it: the browser
 * tests then fail in launchBrowser instead of being skipped).
 */
export function browserTest(what: string): jest.It {
  if (haveChromium || process.env.CI) return it;
  console.warn(`Skipping ${what}: ${CHROMIUM} is missing (apt-get install chromium).`);
  return it.skip;
}

/** Starts Chromium, or fails saying what CI lacks; undefined (tests skipped) outside CI without it. */
export async function launchBrowser(): Promise<Browser | undefined> {
  if (!haveChromium) {
    if (process.env.CI) throw new Error(`${CHROMIUM} is missing: CI must install chromium (see .ci/run)`);
    return undefined;
  }
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** What a page did that it must not: console errors, uncaught errors, CSP violations, requests off this host. */
export interface PageTrouble {
  consoleErrors: string[];
  pageErrors: string[];
  violations: string[];
  offHost: string[];
}

export interface WatchedPageOptions {
  viewport?: { width: number; height: number };
  /** Console error messages that are expected (e.g. the 401 of a deliberately expired token). */
  expectedConsoleErrors?: RegExp[];
}

/** A page on which every request to a non-loopback host fails, and all trouble is recorded. */
export async function watchedPage(
  browser: Browser,
  options: WatchedPageOptions = {},
): Promise<{ page: Page; trouble: PageTrouble }> {
  const trouble: PageTrouble = { consoleErrors: [], pageErrors: [], violations: [], offHost: [] };
  const context = await browser.newContext({ viewport: options.viewport ?? { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.route('**/*', async (route) => {
    const url = new URL(route.request().url());
    if (LOOPBACK.has(url.hostname) || url.protocol === 'blob:' || url.protocol === 'data:') {
      await route.continue();
    } else {
      trouble.offHost.push(url.href);
      await route.abort('blockedbyclient');
    }
  });
  const expected = options.expectedConsoleErrors ?? [];
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !expected.some((re) => re.test(msg.text()))) trouble.consoleErrors.push(msg.text());
  });
  page.on('pageerror', (error) => trouble.pageErrors.push(error.message));
  await page.exposeFunction('reportCspViolation', (text: string) => trouble.violations.push(text));
  // In the page (run before its scripts), so as source text: the test runs with Node's types only.
  await page.addInitScript({
    content: `document.addEventListener('securitypolicyviolation', (e) =>
      window.reportCspViolation(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') +
        ' (' + e.sourceFile + ':' + e.lineNumber + ')'));`,
  });
  return { page, trouble };
}

export function expectNoTrouble(trouble: PageTrouble): void {
  expect(trouble).toEqual({ consoleErrors: [], pageErrors: [], violations: [], offHost: [] });
}
