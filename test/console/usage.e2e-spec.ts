import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { NO_RETRY, startGateway, type Gateway } from '../gateway/gateway-support';
import { TEST_ADMIN } from '../support/app';
import { browserTest, expectNoTrouble, launchBrowser, type PageTrouble, watchedPage } from '../support/browser';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstreams';
import { createApiKey } from '../support/fixtures';
import { LAPTOP, PHONE, saveScreenshot, signInThroughUi } from './console-harness';

const browserIt = browserTest('the usage page checks');

interface UsageGroup {
  key: string | null;
  requests: number;
  credits: number;
  api_key_name?: string | null;
}
interface UsageReport {
  from: string;
  to: string;
  totals: { requests: number; credits: number; input_tokens: number; output_tokens: number };
  groups: UsageGroup[];
}
interface QuotaWindow {
  limit: number | null;
  spent: number;
  reserved: number;
}

const DAY_MS = 86_400_000;
const day = (offsetDays: number): string => new Date(Date.now() + offsetDays * DAY_MS).toISOString().slice(0, 10);

/** Credits as the page writes them. */
const credits = (value: number): string =>
  value.toLocaleString('en-US', { maximumFractionDigits: Math.abs(value) >= 100 ? 0 : 4 });

async function chat(gw: Gateway, key: string, model: string): Promise<void> {
  const res = await fetch(`${gw.t.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 4000 }),
  });
  if (res.status !== 200) throw new Error(`chat ${model}: ${res.status} ${await res.text()}`);
}

async function usage(gw: Gateway, groupBy: string): Promise<UsageReport> {
  const res = await gw.api.get<UsageReport>(`/projects/${gw.projectId}/usage?group_by=${groupBy}`, {
    token: gw.adminToken,
  });
  if (res.status !== 200) throw new Error(`usage: ${res.status} ${res.text}`);
  return res.body;
}

/** The usage page, signed in through its own path. */
async function openUsage(
  browser: Browser,
  gw: Gateway,
  viewport = LAPTOP,
): Promise<{ page: Page; trouble: PageTrouble }> {
  const watched = await watchedPage(browser, { viewport });
  const { page } = watched;
  await page.goto(`${gw.t.url}/console/usage`);
  await signInThroughUi(page, TEST_ADMIN.email, TEST_ADMIN.password);
  await page.getByRole('heading', { level: 1, name: 'Usage' }).waitFor();
  await page.getByRole('table', { name: 'By model' }).waitFor();
  return watched;
}

/** Pixels of the chart's canvas in the first series' color (#4f7cf0): its bars are drawn. */
async function barPixels(page: Page, chart: string): Promise<number> {
  return page.evaluate(`(() => {
    const canvas = document.querySelector('[role="img"][aria-label^="${chart}"] canvas');
    if (!canvas) return -1;
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    for (let i = 0; i < data.length; i += 4) {
      const near = Math.abs(data[i] - 79) < 16 && Math.abs(data[i + 1] - 124) < 16 && Math.abs(data[i + 2] - 240) < 16;
      if (data[i + 3] > 100 && near) n += 1;
    }
    return n;
  })()`);
}

function canvasWidth(page: Page, chart: string): Promise<number> {
  return page.evaluate(
    `document.querySelector('[role="img"][aria-label^="${chart}"] canvas').getBoundingClientRect().width`,
  );
}

describe('the usage page', () => {
  let upstream: FakeUpstream;
  let gw: Gateway;
  let browser: Browser | undefined;
  let byModel: UsageReport;
  let byKey: UsageReport;

  beforeAll(async () => {
    upstream = await startFakeUpstream('openai', {
      models: ['gpt-4o', 'gpt-4o-mini'],
      reply: { usage: { input_tokens: 12_000, output_tokens: 3_000 } },
    });
    gw = await startGateway({
      providers: [{ id: 'oa', kind: 'openai', base_url: upstream.baseUrl, models: upstream.models, retry: NO_RETRY }],
    });
    const limits = await gw.api.request('PUT', `/projects/${gw.projectId}/quota`, {
      token: gw.adminToken,
      body: { daily_credits: 100, monthly_credits: 1000 },
    });
    if (limits.status !== 200) throw new Error(`quota: ${limits.status} ${limits.text}`);
    const batch = await createApiKey(gw.api, gw.adminToken, gw.projectId, 'batch');
    await chat(gw, gw.apiKey, 'gpt-4o');
    await chat(gw, gw.apiKey, 'gpt-4o');
    await chat(gw, batch.key, 'gpt-4o-mini');
    // The ledger is written off the request path: within about a second.
    const deadline = Date.now() + 10_000;
    do {
      byModel = await usage(gw, 'model');
      if (byModel.totals.requests === 3) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    } while (Date.now() < deadline);
    expect(byModel.totals.requests).toBe(3);
    byKey = await usage(gw, 'api_key');
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await gw?.close();
    await upstream?.close();
  });

  browserIt(
    "shows the project's requests: totals, charts, by model and by key, quota; exports them as CSV",
    async () => {
      const { page, trouble } = await openUsage(browser!, gw);
      // The default range: the last 30 days, today included.
      await expect(page.getByLabel('From', { exact: true }).inputValue()).resolves.toBe(day(-29));
      await expect(page.getByLabel('To', { exact: true }).inputValue()).resolves.toBe(day(0));
      await expect(page.getByRole('button', { name: 'Last 30 days' }).getAttribute('aria-pressed')).resolves.toBe(
        'true',
      );

      // Totals: the API's numbers.
      const stat = (label: string) =>
        page
          .locator('.usage-totals > div')
          .filter({ has: page.locator('dt', { hasText: new RegExp(`^${label}$`) }) })
          .locator('dd');
      await expect(stat('Requests').textContent()).resolves.toBe(String(byModel.totals.requests));
      await expect(stat('Credits').textContent()).resolves.toBe(credits(byModel.totals.credits));
      await expect(stat('Input tokens').textContent()).resolves.toBe(
        byModel.totals.input_tokens.toLocaleString('en-US'),
      );

      // By model and by key: one row per group of the API.
      const models = page.getByRole('table', { name: 'By model' });
      expect(byModel.groups.map((g) => g.key)).toEqual(['gpt-4o', 'gpt-4o-mini']);
      for (const g of byModel.groups) {
        await models.getByRole('row', { name: new RegExp(`^${g.key} ${g.requests} `) }).waitFor();
        await expect(models.getByRole('row', { name: new RegExp(`^${g.key} `) }).textContent()).resolves.toContain(
          credits(g.credits),
        );
      }
      await expect(models.locator('tbody tr').count()).resolves.toBe(2);
      const keys = page.getByRole('table', { name: 'By API key' });
      expect(byKey.groups.map((g) => g.api_key_name)).toEqual(['gateway', 'batch']);
      for (const g of byKey.groups) await keys.getByRole('row', { name: new RegExp(`^${g.api_key_name} `) }).waitFor();

      // The charts are drawn, and their numbers are in a table too.
      for (const chart of ['Credits per day', 'Tokens per day']) {
        await page.getByRole('img', { name: new RegExp(`^${chart}`) }).waitFor();
        expect(await barPixels(page, chart)).toBeGreaterThan(200);
      }
      await page.evaluate('window.scrollTo(0, 0)');
      await saveScreenshot(page, 'usage');
      await page.getByText('Table: Credits per day').click();
      const today = page
        .getByRole('table', { name: 'Credits per day' })
        .getByRole('row', { name: new RegExp(`^${day(0)}`) });
      await expect(today.getByRole('cell').first().textContent()).resolves.toBe(credits(byModel.groups[0].credits));

      // Quota: a bar per window, at what the quota says.
      const quota = (
        await gw.api.get<{ daily: QuotaWindow; monthly: QuotaWindow }>(`/projects/${gw.projectId}/quota`, {
          token: gw.adminToken,
        })
      ).body;
      for (const [name, window] of [
        ['Today (UTC)', quota.daily],
        ['This month (UTC)', quota.monthly],
      ] as const) {
        const meter = page.getByRole('meter', { name });
        await expect(meter.getAttribute('aria-valuemax')).resolves.toBe(String(window.limit));
        await expect(meter.getAttribute('aria-valuenow')).resolves.toBe(String(window.spent + window.reserved));
      }

      // CSV: the server's file, rows as in the JSON report.
      await page.getByLabel('CSV rows by').selectOption({ label: 'Model' });
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name: 'Export CSV' }).click(),
      ]);
      expect(download.suggestedFilename()).toBe(`usage-${gw.projectId}-${day(-29)}-${day(0)}.csv`);
      const csv = readFileSync(await download.path(), 'utf8');
      const [header, ...rows] = csv
        .trimEnd()
        .split('\r\n')
        .map((line) => line.split(','));
      const column = (name: string) => header.indexOf(name);
      expect(
        rows.map((r) => [r[column('model')], Number(r[column('requests')]), Number(r[column('credits')])]),
      ).toEqual(byModel.groups.map((g) => [g.key, g.requests, g.credits]));
      await page.getByText(`Saved usage-${gw.projectId}`).waitFor();

      // A quick range: the last 7 days, still with today's requests.
      await page.getByRole('button', { name: 'Last 7 days' }).click();
      await expect(page.getByLabel('From', { exact: true }).inputValue()).resolves.toBe(day(-6));
      await expect(page.getByRole('button', { name: 'Last 7 days' }).getAttribute('aria-pressed')).resolves.toBe(
        'true',
      );
      await page.getByRole('img', { name: new RegExp(`^Credits per day.*${day(-6)} to ${day(0)}`) }).waitFor();
      await expect(stat('Requests').textContent()).resolves.toBe('3');
      expectNoTrouble(trouble);
    },
    60_000,
  );

  browserIt(
    'fits a phone: the charts follow the width of their container, no horizontal page overflow',
    async () => {
      const { page, trouble } = await openUsage(browser!, gw);
      const wide = await canvasWidth(page, 'Credits per day');
      expect(wide).toBeGreaterThan(PHONE.width);
      await page.setViewportSize(PHONE);
      const deadline = Date.now() + 5_000;
      while ((await canvasWidth(page, 'Credits per day')) >= PHONE.width && Date.now() < deadline) {
        await page.waitForTimeout(50);
      }
      expect(await canvasWidth(page, 'Credits per day')).toBeLessThan(PHONE.width - 24);
      expect(await barPixels(page, 'Credits per day')).toBeGreaterThan(200);
      const overflow: number = await page.evaluate('document.documentElement.scrollWidth - window.innerWidth');
      expect(overflow).toBeLessThanOrEqual(0);
      expectNoTrouble(trouble);
    },
    60_000,
  );
});
