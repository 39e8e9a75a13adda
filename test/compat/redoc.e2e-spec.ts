import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';
import { startApp, type TestApp } from '../support/app';
import { Api } from '../support/http';

const CHROMIUM = '/usr/bin/chromium';
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

interface OpenApiDocument {
  info: { title: string };
  paths: Record<string, Record<string, { summary?: string; operationId?: string }>>;
}

/** What a page did that it must not: console errors, uncaught errors, CSP violations, requests off this host. */
interface PageTrouble {
  consoleErrors: string[];
  pageErrors: string[];
  violations: string[];
  offHost: string[];
}

/** A page on which every request to a non-loopback host fails, and all trouble is recorded. */
async function watchedPage(browser: Browser): Promise<{ page: Page; trouble: PageTrouble }> {
  const trouble: PageTrouble = { consoleErrors: [], pageErrors: [], violations: [], offHost: [] };
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.route('**/*', async (route) => {
    const url = new URL(route.request().url());
    if (LOOPBACK.has(url.hostname) || url.protocol === 'blob:' || url.protocol === 'data:') {
      await route.continue();
    } else {
      trouble.offHost.push(url.href);
      await route.abort('blockedbyclient');
    }
  });
  page.on('console', (msg) => {
    if (msg.type() === 'error') trouble.consoleErrors.push(msg.text());
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

/** ReDoc's heading of an operation (its share link's label is not part of the text). */
function operationHeading(page: Page, name: string): Locator {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return page.locator('h2').filter({ hasText: new RegExp(`^\\s*${escaped}\\s*$`) });
}

function expectNoTrouble(trouble: PageTrouble): void {
  expect(trouble).toEqual({ consoleErrors: [], pageErrors: [], violations: [], offHost: [] });
}

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && !process.env.CI) {
  console.warn(`Skipping the documentation browser checks: ${CHROMIUM} is missing (apt-get install chromium).`);
}
const browserIt = haveChromium || process.env.CI ? it : it.skip;

describe('the documentation pages in a browser', () => {
  let t: TestApp;
  let doc: OpenApiDocument;
  let browser: Browser | undefined;
  const screenshots = mkdtempSync(join(tmpdir(), 'conflux-docs-'));

  beforeAll(async () => {
    t = await startApp();
    doc = (await new Api(t.url).get<OpenApiDocument>('/docs-json')).body;
    if (!haveChromium) {
      if (process.env.CI) throw new Error(`${CHROMIUM} is missing: CI must install chromium (see .ci/run)`);
      return;
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  browserIt(
    'renders /redoc offline: the API title and its operations, without CSP violations',
    async () => {
      const { page, trouble } = await watchedPage(browser!);
      await page.goto(`${t.url}/redoc`);
      await page.getByRole('heading', { level: 1, name: new RegExp(`^${doc.info.title}`) }).waitFor();
      // Operations are named by their summary, else their operation id.
      const name = (path: string, method: string): string => {
        const op = doc.paths[path][method];
        return op.summary ?? op.operationId!;
      };
      for (const [path, method] of [
        ['/auth/login', 'post'],
        ['/projects/{id}/usage', 'get'],
      ]) {
        await operationHeading(page, name(path, method)).waitFor();
      }
      // Search runs in ReDoc's web worker (started from a blob: URL); a result leads to its operation.
      const estimate = name('/api/v1/estimate', 'post');
      await page.getByPlaceholder('Search...').fill('estimate');
      await page.locator('[data-role="search:results"]').getByText(estimate).first().click();
      await operationHeading(page, estimate).waitFor();
      await page.screenshot({ path: join(screenshots, 'redoc.png'), fullPage: false });
      console.log(`ReDoc screenshot: ${join(screenshots, 'redoc.png')}`);
      expectNoTrouble(trouble);
    },
    60_000,
  );

  browserIt(
    'renders Swagger UI at /docs offline, without CSP violations',
    async () => {
      const { page, trouble } = await watchedPage(browser!);
      await page.goto(`${t.url}/docs`);
      await page.locator('.swagger-ui .info .title').getByText(doc.info.title).waitFor();
      await page
        .locator('.opblock-summary-path', { hasText: /^\/api\/v1\/estimate$/ })
        .first()
        .waitFor();
      await page.screenshot({ path: join(screenshots, 'swagger-ui.png'), fullPage: false });
      expectNoTrouble(trouble);
    },
    60_000,
  );
});
