/**
 * The console's ML models page in Chromium: an administrator registers a model with the shipped
 * model's signature, uploads the shipped ONNX file and a second version, promotes one to production
 * (then loaded), sets a 50/50 split and sees it with its per-arm statistics; a member sees it read-only.
 * Needs the compiled inference worker (`npx nest build`, or INFERENCE_WORKER_SCRIPT).
 */
import { readFileSync, rmSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { startApp, TEST_ADMIN, type TestApp } from '../support/app';
import { browserTest, expectNoTrouble, launchBrowser } from '../support/browser';
import { createApiKey, createProject, createUser, signInAdmin } from '../support/fixtures';
import { Api } from '../support/http';
import { mlEnv, onnxBytes, perturbedModel, realFeatures, SHIPPED, tempStore } from '../ml/ml-e2e-support';
import { navigateTo, openConsole, saveScreenshot, signInThroughUi } from './console-harness';

const browserIt = browserTest('the console models page checks');
const MODEL = 'signal-console';

interface Sidecar {
  inputs: { name: string; dtype: string; shape: number[]; feature_names: string[] }[];
  outputs: { name: string; labels?: string[] }[];
  label: { threshold: number };
}

/** The registration of test/ml/*: the shipped model's signature and output mapping, from its sidecar. */
function shippedSignature(): { input: string; output: string } {
  const sidecar = JSON.parse(readFileSync(SHIPPED.sidecar, 'utf8')) as Sidecar;
  const [input] = sidecar.inputs;
  const probabilities = sidecar.outputs.find((o) => o.labels)!;
  return {
    input: JSON.stringify({
      name: input.name,
      dtype: input.dtype,
      shape: input.shape,
      feature_names: input.feature_names,
    }),
    output: JSON.stringify({
      probabilities: probabilities.name,
      labels: probabilities.labels,
      expected_return: 'expected_return',
      threshold: sidecar.label.threshold,
    }),
  };
}

interface ModelDto {
  production_version: string | null;
  split: { version: string; weight: number }[] | null;
  versions: { version: string; stage: string; loaded: boolean }[];
}

describe('the web console: ML models', () => {
  let t: TestApp;
  let api: Api;
  let admin: string;
  let store: string;
  let browser: Browser | undefined;

  beforeAll(async () => {
    store = tempStore();
    t = await startApp({ env: mlEnv(store) });
    api = new Api(t.url);
    admin = await signInAdmin(api);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    rmSync(store, { recursive: true, force: true });
  });

  browserIt(
    'an administrator registers a model, uploads versions, promotes one and splits traffic 50/50',
    async () => {
      const { page, trouble } = await openConsole(browser!, t.url, '/console/models');
      await signInThroughUi(page, TEST_ADMIN.email, TEST_ADMIN.password);
      await page.getByRole('heading', { level: 1, name: 'ML models' }).waitFor();
      await page.getByRole('region', { name: 'trading-signal' }).waitFor();

      const signature = shippedSignature();
      await page.getByLabel('Model name').fill(MODEL);
      await page.getByLabel('Input signature (JSON)').fill(signature.input);
      await page.getByLabel('Output mapping (JSON)').fill(signature.output);
      await page.getByRole('button', { name: 'Register model' }).click();
      const card = page.getByRole('region', { name: MODEL });
      await card.getByText('No version yet').waitFor();

      // The shipped ONNX file as v1, promoted to production: then it is loaded.
      await card.getByLabel(`ONNX file for ${MODEL}`).setInputFiles(SHIPPED.onnx);
      await card.getByLabel(`Version id for ${MODEL}`).fill('v1');
      await card.getByRole('button', { name: 'Upload version' }).click();
      await card.getByRole('status').getByText('Version v1 uploaded (none).').waitFor();
      await card.getByLabel('Stage of v1').selectOption('production');
      await card.getByRole('button', { name: 'Apply stage to v1' }).click();
      await card.getByRole('row', { name: /^v1 production loaded / }).waitFor();

      // A second version (a retrained copy) in staging, then a 50/50 split of v1 and v2.
      await card.getByLabel(`ONNX file for ${MODEL}`).setInputFiles({
        name: 'retrained.onnx',
        mimeType: 'application/octet-stream',
        buffer: onnxBytes(perturbedModel(11)),
      });
      await card.getByLabel(`Version id for ${MODEL}`).fill('v2');
      await card.getByLabel(`Stage of the upload to ${MODEL}`).selectOption('staging');
      await card.getByRole('button', { name: 'Upload version' }).click();
      await card.getByRole('row', { name: /^v2 staging loaded / }).waitFor();

      await expect(card.getByLabel('Version of arm 1').inputValue()).resolves.toBe('v1');
      await card.getByLabel('Weight of arm 1').fill('50');
      await card.getByRole('button', { name: 'Add arm' }).click();
      await expect(card.getByLabel('Version of arm 2').inputValue()).resolves.toBe('v2');
      await card.getByLabel('Weight of arm 2').fill('50');
      await card.getByRole('button', { name: 'Save split' }).click();
      const split = card.getByRole('table', { name: `A/B split of ${MODEL}` });
      await split.getByRole('row', { name: 'v1 50 50 %' }).waitFor();
      await split.getByRole('row', { name: 'v2 50 50 %' }).waitFor();
      const model = await api.get<ModelDto>(`/api/ml/models/${MODEL}`, { token: admin });
      expect(model.body.production_version).toBe('v1');
      expect(model.body.split).toEqual([
        expect.objectContaining({ version: 'v1', weight: 50 }),
        expect.objectContaining({ version: 'v2', weight: 50 }),
      ]);
      expect(model.body.versions.map((v) => [v.version, v.stage, v.loaded])).toEqual([
        ['v1', 'production', true],
        ['v2', 'staging', true],
      ]);

      // Traffic through the split shows in the per-arm statistics after a reload.
      const project = await createProject(api, admin, 'ml-console');
      const apiKey = (await createApiKey(api, admin, project.id)).key;
      const row = realFeatures()[0];
      for (let i = 0; i < 12; i++) {
        const res = await api.post('/predict', { symbol: `S${i}`, features: row, model: MODEL }, { apiKey });
        expect(res.status).toBe(200);
      }
      await card.getByRole('button', { name: `Reload ${MODEL}` }).click();
      await card
        .getByRole('status')
        .getByText(/^Reloaded .*v1/)
        .waitFor();
      const stats = card.getByRole('table', { name: `A/B statistics of ${MODEL}` });
      await stats.getByRole('row', { name: /^v1 50 / }).waitFor();
      await stats.getByRole('row', { name: /^v2 50 / }).waitFor();
      await saveScreenshot(page, 'models');

      await card.getByRole('button', { name: 'Remove split' }).click();
      await card.getByText('No split: the production version serves every request.').waitFor();
      expect((await api.get<ModelDto>(`/api/ml/models/${MODEL}`, { token: admin })).body.split).toBeNull();
      expectNoTrouble(trouble);
    },
    60_000,
  );

  browserIt(
    'a member sees the models read-only, and the API refuses them the changes',
    async () => {
      const member = await createUser(api, admin);
      const { page, trouble } = await openConsole(browser!, t.url, '/console/');
      await signInThroughUi(page, member.email, member.password);
      await navigateTo(page, 'ML models');
      const card = page.getByRole('region', { name: 'trading-signal' });
      await card.getByRole('table', { name: 'Versions of trading-signal' }).waitFor();
      await page.getByText(/^Read only/).waitFor();
      for (const name of [/Register model/, /Upload version/, /Apply stage/, /Save split/, /Reload/]) {
        await expect(page.getByRole('button', { name }).count()).resolves.toBe(0);
      }
      await expect(page.getByLabel(/Stage of/).count()).resolves.toBe(0);
      const refused = await api.post(`/api/ml/models/trading-signal/reload`, undefined, { token: member.token });
      expect(refused.status).toBe(403);
      expectNoTrouble(trouble);
    },
    60_000,
  );
});
