import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startApp, type TestApp } from '../support/app';
import { browserTest, expectNoTrouble, launchBrowser } from '../support/browser';
import { signInAdmin, type TestUser } from '../support/fixtures';
import { Api } from '../support/http';
import { openConsole, saveScreenshot, signInThroughUi } from './console-harness';
import { playgroundUser, statsOf } from './playground-support';

const browserIt = browserTest('the forecast playground checks');

/** Monthly airline passengers, 1949–1951 (Box & Jenkins): a trend and a yearly season. */
const PASSENGERS = [
  112, 118, 132, 129, 121, 135, 148, 148, 136, 119, 104, 118, 115, 126, 141, 135, 125, 149, 170, 170, 158, 133, 114,
  140, 145, 150, 178, 163, 172, 178, 199, 199, 184, 162, 146, 166,
];
const month = (i: number): string => `${1949 + Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}-01`;

interface Forecast {
  predictions: number[];
  quantiles: Record<string, number[]>;
  engine: string;
}

/** What the page shows of a number (formatNumber with 4 digits). */
const shown = (n: number): string => n.toLocaleString('en-US', { maximumFractionDigits: 4 });

/** Painted pixels of the chart's canvas: a drawn chart has many. */
async function paintedPixels(page: Page): Promise<number> {
  // Source text: the tests are typed for Node, not the DOM.
  return page.evaluate(`(() => {
    const canvas = document.querySelector('.chart-canvas canvas');
    if (!canvas || canvas.width === 0) return 0;
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) painted += 1;
    return painted;
  })()`);
}

/** The table's body rows, cell texts. */
async function tableRows(page: Page): Promise<string[][]> {
  const rows = page.getByRole('table', { name: /^Forecast of the next/ }).locator('tbody tr');
  const out: string[][] = [];
  for (let i = 0; i < (await rows.count()); i++) out.push(await rows.nth(i).locator('th, td').allTextContents());
  return out;
}

describe('the forecast playground (/console/forecast)', () => {
  let t: TestApp;
  let api: Api;
  let user: TestUser;
  let browser: Browser | undefined;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'conflux-series-'));
    t = await startApp();
    api = new Api(t.url);
    ({ user } = await playgroundUser(api, await signInAdmin(api)));
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  browserIt(
    'forecasts a pasted CSV with times: a chart with its band, and a table of the horizon with the quantiles',
    async () => {
      const { page, trouble } = await openConsole(browser!, t.url, '/console/forecast');
      await signInThroughUi(page, user.email, user.password);
      await page.getByRole('heading', { name: 'Forecast', level: 1 }).waitFor();

      const csv = ['month,passengers', ...PASSENGERS.map((v, i) => `${month(i)},${v}`)].join('\n');
      await page.getByLabel('Series').fill(csv);
      await page.getByText('36 points, times from “month”, values from “passengers”.').waitFor();
      await page.getByLabel('Engine').selectOption('ets');
      await page.getByLabel('Horizon').fill('6');
      await page.getByLabel('Quantiles').fill('0.1, 0.5, 0.9');
      await page.getByRole('button', { name: 'Forecast', exact: true }).click();

      await page.getByRole('table', { name: 'Forecast of the next 6 steps' }).waitFor();
      const expected = await api.post<Forecast>(
        '/forecast',
        { series: PASSENGERS, horizon: 6, engine: 'ets', quantiles: [0.1, 0.5, 0.9] },
        { token: user.token },
      );
      expect(expected.status).toBe(200);
      const q = expected.body.quantiles;
      expect(await tableRows(page)).toEqual(
        expected.body.predictions.map((p, i) => [
          String(i + 1),
          month(36 + i),
          shown(p),
          shown(q['0.1'][i]),
          shown(q['0.5'][i]),
          shown(q['0.9'][i]),
        ]),
      );
      expect(
        await page.getByRole('table', { name: 'Forecast of the next 6 steps' }).locator('thead th').allTextContents(),
      ).toEqual(['Step', 'Time', 'Forecast', 'q10', 'q50', 'q90']);
      expect((await statsOf(page, 'Forecast details')).Engine).toBe(expected.body.engine);

      const chart = page.getByRole('img', { name: 'History of 36 points and a forecast of 6 steps' });
      await chart.waitFor();
      expect(await paintedPixels(page)).toBeGreaterThan(2000);
      await expect(chart.locator('.u-legend').textContent()).resolves.toMatch(/History.*Forecast/);
      await page.evaluate('window.scrollTo(0, 0)');
      await saveScreenshot(page, 'forecast');
      expectNoTrouble(trouble);
    },
  );

  browserIt('reads an uploaded CSV file, with a value column to choose, and one number per line', async () => {
    const file = join(dir, 'sales.csv');
    writeFileSync(file, ['day;visits;sales', ...PASSENGERS.map((v, i) => `${i + 1};${v};${v * 2}`)].join('\r\n'));
    const { page, trouble } = await openConsole(browser!, t.url, '/console/forecast');
    await signInThroughUi(page, user.email, user.password);
    await page.getByLabel('CSV file').setInputFiles(file);
    await page.getByText('36 points, values from “sales”.').waitFor();
    await page.getByLabel('Value column').selectOption('visits');
    await page.getByText('36 points, values from “visits”.').waitFor();
    await page.getByLabel('Horizon').fill('4');
    await page.getByRole('button', { name: 'Forecast', exact: true }).click();
    await page.getByRole('table', { name: 'Forecast of the next 4 steps' }).waitFor();
    expect((await tableRows(page)).map((row) => row[0])).toEqual(['1', '2', '3', '4']);

    // One number per line, with a line that is not one: said before anything is sent.
    await page.getByLabel('Series').fill('1\n2\nthree\n4');
    await page.getByRole('alert').getByText('Line 3: “three” is not a number').waitFor();
    expectNoTrouble(trouble);
  });
});
