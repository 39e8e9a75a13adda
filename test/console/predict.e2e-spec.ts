import { rmSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { startApp, type TestApp } from '../support/app';
import { browserTest, expectNoTrouble, launchBrowser } from '../support/browser';
import { signInAdmin, type TestUser } from '../support/fixtures';
import { Api } from '../support/http';
import {
  mlEnv,
  onnxBytes,
  perturbedModel,
  realFeatures,
  reference,
  SHIPPED_MODEL,
  SIDECAR,
  tempStore,
  upload,
} from '../ml/ml-e2e-support';
import { openConsole, PHONE, saveScreenshot, signInThroughUi } from './console-harness';
import { playgroundUser, statsOf, waitUntil } from './playground-support';

const browserIt = browserTest('the ML predict playground checks');

const FEATURE_NAMES = [
  'log_return_1',
  'log_return_2',
  'log_return_3',
  'log_return_4',
  'log_return_5',
  'momentum_5',
  'momentum_20',
  'ma_gap_5',
  'ma_gap_20',
  'volatility_5',
  'volatility_20',
  'rsi_14',
];

/** The confidence as the page shows it (a percentage with at most 2 decimals). */
const percent = (value: number): string => `${(value * 100).toLocaleString('en-US', { maximumFractionDigits: 2 })} %`;

describe('the ML predict playground (/console/predict)', () => {
  let t: TestApp;
  let api: Api;
  let admin: string;
  let user: TestUser;
  let store: string;
  let browser: Browser | undefined;

  beforeAll(async () => {
    store = tempStore();
    t = await startApp({ env: mlEnv(store) });
    api = new Api(t.url);
    admin = await signInAdmin(api);
    ({ user } = await playgroundUser(api, admin));
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    rmSync(store, { recursive: true, force: true });
  });

  /** Predicts, and waits for the new answer (its prediction id differs from the last one shown). */
  async function predict(page: Page): Promise<Record<string, string>> {
    const id = page.getByText(/^Prediction id /);
    const before = (await id.count()) > 0 ? await id.textContent() : null;
    await page.getByRole('button', { name: 'Predict' }).click();
    await waitUntil(async () => (await id.count()) > 0 && (await id.textContent()) !== before, 'a new prediction');
    return statsOf(page, 'Prediction details');
  }

  browserIt(
    'builds the form from the shipped model’s signature, predicts, and names the version and the A/B arm',
    async () => {
      const { page, trouble } = await openConsole(browser!, t.url, '/console/predict');
      await signInThroughUi(page, user.email, user.password);
      await page.getByRole('heading', { name: 'ML predict', level: 1 }).waitFor();
      await expect(page.getByLabel('Model').inputValue()).resolves.toBe('trading-signal');
      await page.getByRole('group', { name: 'Features (12)' }).waitFor();
      for (const name of FEATURE_NAMES) await page.getByLabel(name, { exact: true }).waitFor();

      // A row pasted fills the fields; one field is then typed over.
      const row = [...realFeatures()[40]];
      await page.getByLabel('Row to fill the features').fill(row.join(', '));
      await page.getByRole('button', { name: 'Fill the features' }).click();
      await expect(page.getByLabel('rsi_14', { exact: true }).inputValue()).resolves.toBe(String(row[11]));
      row[0] = 0.0125;
      await page.getByLabel('log_return_1', { exact: true }).fill('0.0125');
      await page.getByLabel('Symbol').fill('DAX');

      const expected = reference(SHIPPED_MODEL, row);
      expect(await predict(page)).toEqual({
        Direction: expected.direction,
        Confidence: percent(expected.confidence),
        'Expected return': expect.stringMatching(/^-?[\d.]+ %$/),
        Version: SIDECAR.version,
        'A/B arm': `none (no split: production ${SIDECAR.version})`,
        'Served by': 'local',
        Latency: expect.stringMatching(/^[\d.]+ ms$/),
        'Round trip': expect.stringMatching(/^[\d,.]+ (ms|s)$/),
      });
      await page.evaluate('window.scrollTo(0, 0)');
      await saveScreenshot(page, 'predict');

      // A 50/50 split: the answer names the arm the symbol is routed to, and the same one again.
      const v2 = await upload(t.url, admin, 'trading-signal', onnxBytes(perturbedModel(3)), {
        version: 'v2',
        stage: 'staging',
      });
      expect(v2.status).toBe(201);
      const split = await api.request('PUT', '/api/ml/models/trading-signal/split', {
        token: admin,
        body: {
          arms: [
            { version: SIDECAR.version, weight: 1 },
            { version: 'v2', weight: 1 },
          ],
        },
      });
      expect(split.status).toBe(200);
      const routed = await predict(page);
      expect([SIDECAR.version, 'v2']).toContain(routed.Version);
      expect(routed['A/B arm']).toBe(`${routed.Version} (50 % of traffic)`);
      expect((await predict(page)).Version).toBe(routed.Version);

      // A version asked for by id is served without the split.
      const other = routed.Version === 'v2' ? SIDECAR.version : 'v2';
      await page.getByLabel('Version').selectOption(other);
      const pinned = await predict(page);
      expect({ version: pinned.Version, arm: pinned['A/B arm'] }).toEqual({
        version: other,
        arm: `none (version ${other} asked for)`,
      });
      expectNoTrouble(trouble);
    },
  );

  browserIt('fits every playground, with its results, on a phone', async () => {
    const { page, trouble } = await openConsole(browser!, t.url, '/console/chat', { viewport: PHONE });
    await signInThroughUi(page, user.email, user.password);
    const overflow = (): Promise<number> => page.evaluate('document.documentElement.scrollWidth - window.innerWidth');
    await page.getByLabel('Message').waitFor();
    expect(await overflow()).toBeLessThanOrEqual(0);

    await page.goto(`${t.url}/console/image`);
    await page.getByLabel('Image', { exact: true }).waitFor();
    expect(await overflow()).toBeLessThanOrEqual(0);

    await page.goto(`${t.url}/console/forecast`);
    await page.getByRole('button', { name: 'Use an example' }).click();
    await page.getByLabel('Quantiles').fill('0.05, 0.25, 0.5, 0.75, 0.95');
    await page.getByRole('button', { name: 'Forecast', exact: true }).click();
    await page.getByRole('table', { name: 'Forecast of the next 12 steps' }).waitFor();
    await page.getByRole('img', { name: /^History of 20 points/ }).waitFor();
    expect(await overflow()).toBeLessThanOrEqual(0);

    await page.goto(`${t.url}/console/predict`);
    await page.getByLabel('Row to fill the features').fill(realFeatures()[3].join(' '));
    await page.getByRole('button', { name: 'Fill the features' }).click();
    await page.getByRole('button', { name: 'Predict' }).click();
    await page.getByRole('group', { name: 'Prediction details' }).waitFor();
    expect(await overflow()).toBeLessThanOrEqual(0);
    expectNoTrouble(trouble);
  });
});
