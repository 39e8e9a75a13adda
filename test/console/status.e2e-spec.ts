import { rmSync } from 'node:fs';
import type { Browser, Locator, Page } from 'playwright-core';
import { NO_RETRY, startGateway, type Gateway } from '../gateway/gateway-support';
import { TEST_ADMIN } from '../support/app';
import {
  browserTest,
  expectNoTrouble,
  launchBrowser,
  type PageTrouble,
  watchedPage,
  type WatchedPageOptions,
} from '../support/browser';
import { startFakeForecaster, type FakeForecaster } from '../support/fake-forecaster';
import { startFakeMlWorker, type FakeMlWorker } from '../support/fake-ml-worker';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstreams';
import { tempStore } from '../ml/ml-e2e-support';
import { LAPTOP, PHONE, saveScreenshot, signInThroughUi } from './console-harness';

const browserIt = browserTest('the status page checks');

interface InstanceStatus {
  id: string;
  status: string;
}
interface Health {
  services: Record<string, { instances: InstanceStatus[] }>;
}

/** Asks /health until the instance has the status (the server probes every second). */
async function waitForInstance(gw: Gateway, id: string, status: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const health = (await gw.api.get<Health>('/health')).body;
    const instance = Object.values(health.services)
      .flatMap((s) => s.instances)
      .find((i) => i.id === id);
    if (instance?.status === status) return;
    if (Date.now() > deadline) throw new Error(`${id} is not ${status}: ${JSON.stringify(instance)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The row of a provider instance in its service's table. */
function instanceRow(page: Page, service: string, id: string): Locator {
  return page.getByRole('table', { name: `${service} instances` }).getByRole('row', { name: new RegExp(`^${id}\\b`) });
}

/**
 * The status page with a fake clock (installed before the page's scripts run), signed in, its first
 * read of /health shown; `reads()` counts the page's reads of /health.
 */
async function openStatus(
  browser: Browser,
  gw: Gateway,
  options: WatchedPageOptions = {},
): Promise<{ page: Page; trouble: PageTrouble; reads: () => number }> {
  const { page, trouble } = await watchedPage(browser, { viewport: LAPTOP, ...options });
  let reads = 0;
  page.on('request', (req) => {
    if (new URL(req.url()).pathname === '/health') reads += 1;
  });
  await page.clock.install();
  await page.goto(`${gw.t.url}/console/`);
  await signInThroughUi(page, TEST_ADMIN.email, TEST_ADMIN.password);
  await page.getByRole('heading', { level: 1, name: 'Status' }).waitFor();
  await page.getByText(/last updated/).waitFor();
  return { page, trouble, reads: () => reads };
}

describe('the status page', () => {
  let vllm: FakeUpstream;
  let ollama: FakeUpstream;
  let mlWorker: FakeMlWorker;
  let forecaster: FakeForecaster;
  let store: string;
  let gw: Gateway;
  let browser: Browser | undefined;

  beforeAll(async () => {
    vllm = await startFakeUpstream('openai', { models: ['qwen2.5-7b-instruct'] });
    ollama = await startFakeUpstream('ollama', { models: ['llama3.2:3b', 'bge-m3:latest'] });
    mlWorker = await startFakeMlWorker();
    forecaster = await startFakeForecaster();
    store = tempStore();
    gw = await startGateway({
      providers: [
        {
          id: 'gpu-vllm',
          kind: 'openai',
          self_hosted: true,
          base_url: vllm.baseUrl,
          models: vllm.models,
          retry: NO_RETRY,
        },
        { id: 'local-ollama', kind: 'ollama', base_url: ollama.baseUrl, retry: NO_RETRY },
      ],
      env: {
        PROVIDER_PROBE_INTERVAL_MS: '1000',
        MODEL_STORE_DIR: store,
        ML_REGISTRY_REFRESH_MS: '0',
        ML_REMOTE_WORKERS: JSON.stringify([
          { model: 'trading-signal', version: 'gpu-1', url: `${mlWorker.baseUrl}/serving`, protocol: 'v2' },
        ]),
        FORECAST_REMOTE_URL: `${forecaster.baseUrl}/toto`,
      },
    });
    browser = await launchBrowser();
    await waitForInstance(gw, 'gpu-vllm', 'healthy');
    await waitForInstance(gw, 'local-ollama', 'healthy');
  });
  afterAll(async () => {
    await browser?.close();
    await gw?.close();
    await Promise.all([vllm?.close(), ollama?.close(), mlWorker?.close(), forecaster?.close()]);
    if (store) rmSync(store, { recursive: true, force: true });
  });

  browserIt(
    'shows the dependencies and every instance, and an instance gone down within one refresh, without a reload',
    async () => {
      const { page, trouble, reads } = await openStatus(browser!, gw);
      const vllmRow = instanceRow(page, 'vLLM (self-hosted)', 'gpu-vllm');
      await vllmRow.getByText('healthy', { exact: true }).waitFor();
      await instanceRow(page, 'Ollama', 'local-ollama').getByText('healthy', { exact: true }).waitFor();
      await expect(vllmRow.getByText('closed', { exact: true }).count()).resolves.toBe(1);
      await expect(vllmRow.textContent()).resolves.toMatch(/\d+ ms/);
      // Each instance lists its models.
      await instanceRow(page, 'Ollama', 'local-ollama').getByText('bge-m3:latest', { exact: true }).waitFor();
      await vllmRow.getByText('qwen2.5-7b-instruct', { exact: true }).waitFor();
      // The remote workers: an ML model worker and the forecaster, not called yet.
      for (const [table, id] of [
        ['ML remote workers', 'trading-signal@gpu-1'],
        ['Remote forecasters', 'forecast-remote'],
      ]) {
        const row = page.getByRole('table', { name: table }).getByRole('row', { name: new RegExp(`^${id}\\b`) });
        await expect(row.getByText('healthy', { exact: true }).count()).resolves.toBe(1);
        await expect(row.getByText('closed', { exact: true }).count()).resolves.toBe(1);
      }
      // Postgres and Redis: state, mode, latency.
      const dependencies = page.getByRole('table', { name: 'Dependencies' });
      for (const [name, mode] of [
        ['Postgres', 'postgres'],
        ['Redis', 'redis'],
      ]) {
        const row = dependencies.getByRole('row', { name: new RegExp(`^${name}`) });
        await expect(row.getByText('up', { exact: true }).count()).resolves.toBe(1);
        await expect(row.textContent()).resolves.toMatch(new RegExp(`${mode}\\s*\\d+ ms`));
      }
      await page
        .getByText(/^\d+\.\d+\.\d+/)
        .first()
        .waitFor();
      await expect(page.locator('[aria-live="polite"]').first().textContent()).resolves.toMatch(
        /last updated \d\d:\d\d:\d\d/,
      );
      await saveScreenshot(page, 'status');

      // The upstream goes away; the server's probes see it within a second or two.
      await page.evaluate('window.statusMarker = "same page"');
      const readsBefore = reads();
      await vllm.close();
      await waitForInstance(gw, 'gpu-vllm', 'unhealthy');
      // The page has not read /health since: it still shows what it read.
      await expect(vllmRow.getByText('healthy', { exact: true }).count()).resolves.toBe(1);

      // One refresh: the 30 s timer fires once.
      await page.clock.fastForward('00:30');
      await vllmRow.getByText('unhealthy', { exact: true }).waitFor({ timeout: 5_000 });
      await expect(vllmRow.textContent()).resolves.not.toMatch(/\d+ ms/);
      await instanceRow(page, 'Ollama', 'local-ollama').getByText('healthy', { exact: true }).waitFor();
      expect(reads() - readsBefore).toBe(1);
      await expect(page.evaluate('window.statusMarker')).resolves.toBe('same page');
      expectNoTrouble(trouble);
    },
    60_000,
  );

  browserIt(
    'keeps the last status when a read fails, refreshes on demand, and pauses while the tab is hidden',
    async () => {
      const { page, trouble, reads } = await openStatus(browser!, gw, {
        // The failed read below is answered 503, which Chromium logs as a failed resource.
        expectedConsoleErrors: [/status of 503/],
      });
      expect(reads()).toBe(1);
      const ollamaRow = instanceRow(page, 'Ollama', 'local-ollama');
      await ollamaRow.getByText('healthy', { exact: true }).waitFor();

      await page.route('**/health', (route) =>
        route.fulfill({
          status: 503,
          contentType: 'application/json',
          body: JSON.stringify({ error: 'service_unavailable', message: 'Try again later', request_id: 'req-1' }),
        }),
      );
      await page.clock.fastForward('00:30');
      const alert = page.getByRole('alert');
      await alert.getByText(/could not be read: Try again later\. The last status read is shown\./).waitFor();
      await expect(ollamaRow.getByText('healthy', { exact: true }).count()).resolves.toBe(1);

      await page.unroute('**/health');
      await page.getByRole('button', { name: 'Refresh now' }).click();
      await alert.waitFor({ state: 'detached' });
      const afterButton = reads();
      expect(afterButton).toBe(3);

      // Hidden: no read however long; shown again after the interval: one read at once.
      const setVisibility = (state: 'hidden' | 'visible') =>
        page.evaluate(`Object.defineProperty(document, 'visibilityState', { value: '${state}', configurable: true });
          document.dispatchEvent(new Event('visibilitychange'));`);
      await setVisibility('hidden');
      await page.clock.fastForward('01:30');
      await page.waitForTimeout(300);
      expect(reads()).toBe(afterButton);
      await setVisibility('visible');
      const deadline = Date.now() + 5_000;
      while (reads() === afterButton && Date.now() < deadline) await page.waitForTimeout(50);
      expect(reads()).toBe(afterButton + 1);
      expectNoTrouble(trouble);
    },
    60_000,
  );

  browserIt(
    'fits a phone: no horizontal page overflow',
    async () => {
      const { page, trouble } = await openStatus(browser!, gw, { viewport: PHONE });
      await instanceRow(page, 'Ollama', 'local-ollama').getByText('healthy', { exact: true }).waitFor();
      const overflow: number = await page.evaluate('document.documentElement.scrollWidth - window.innerWidth');
      expect(overflow).toBeLessThanOrEqual(0);
      expectNoTrouble(trouble);
    },
    60_000,
  );
});
