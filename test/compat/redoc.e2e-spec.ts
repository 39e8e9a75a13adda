import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { startApp, type TestApp } from '../support/app';
import { browserTest, expectNoTrouble, launchBrowser, watchedPage } from '../support/browser';
import { Api } from '../support/http';

interface OpenApiDocument {
  info: { title: string };
  paths: Record<string, Record<string, { summary?: string; operationId?: string }>>;
}

/** ReDoc's heading of an operation (its share link's label is not part of the text). */
function operationHeading(page: Page, name: string): Locator {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return page.locator('h2').filter({ hasText: new RegExp(`^\\s*${escaped}\\s*$`) });
}

const browserIt = browserTest('the documentation browser checks');

describe('the documentation pages in a browser', () => {
  let t: TestApp;
  let doc: OpenApiDocument;
  let browser: Browser | undefined;
  const screenshots = mkdtempSync(join(tmpdir(), 'conflux-docs-'));

  beforeAll(async () => {
    t = await startApp();
    doc = (await new Api(t.url).get<OpenApiDocument>('/docs-json')).body;
    browser = await launchBrowser();
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
