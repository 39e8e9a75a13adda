/**
 * The model registry end to end: uploads validated by loading them, stages, A/B splits sticky by
 * routing key, reloads under traffic, failed reloads, deletion and a restart on the same registry.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startApp, TestApp } from '../support/app';
import { createApiKey, createProject, signInAdmin } from '../support/fixtures';
import { Api, expectEnvelope } from '../support/http';
import {
  metricValue,
  mlEnv,
  onnxBytes,
  perturbedModel,
  query,
  realFeatures,
  reference,
  registryRows,
  sha256,
  SHIPPED_MODEL,
  SIDECAR,
  storeFiles,
  tempStore,
  upload,
  wrongSignatureBytes,
} from './ml-e2e-support';

interface Prediction extends Record<string, unknown> {
  prediction: { direction: string; confidence: number; expected_return: number };
  model_version: string;
}

interface VersionDto {
  version: string;
  stage: string;
  sha256: string;
  artifact: string;
  loaded: boolean;
  size_bytes: number;
  metrics: Record<string, unknown>;
  load_error?: string;
}

interface ModelDto {
  name: string;
  production_version: string | null;
  split: { version: string; weight: number; share: number }[] | null;
  versions: VersionDto[];
}

const V1 = SIDECAR.version;
const V2_MODEL = perturbedModel(7);
const V2_BYTES = onnxBytes(V2_MODEL);

describe('model registry', () => {
  let app: TestApp;
  let api: Api;
  let admin: string;
  let apiKey: string;
  let store: string;
  const features = realFeatures();
  const env = (): Record<string, string> => mlEnv(store);

  const model = async (): Promise<ModelDto> => {
    const res = await api.get<ModelDto>('/api/ml/models/trading-signal', { token: admin });
    expect(res.status).toBe(200);
    return res.body;
  };
  const predict = (symbol: string, row: number[], extra: Record<string, unknown> = {}) =>
    api.post<Prediction>('/predict', { symbol, features: row, ...extra }, { apiKey });

  beforeAll(async () => {
    store = tempStore();
    app = await startApp({ env: env() });
    api = new Api(app.url);
    admin = await signInAdmin(api);
    const project = await createProject(api, admin, 'bots');
    apiKey = (await createApiKey(api, admin, project.id)).key;
  });

  afterAll(async () => {
    await app?.close();
    rmSync(store, { recursive: true, force: true });
  });

  describe('refused uploads change nothing', () => {
    const expectUnchanged = async (before: unknown[], files: string[]): Promise<void> => {
      expect(await registryRows(app.db.url)).toEqual(before);
      expect(storeFiles(store)).toEqual(files);
      expect(files.some((f) => f.startsWith('.incoming'))).toBe(false);
    };

    it('a corrupt file, a wrong signature, a wrong name or no file: 400; an unknown model: 404', async () => {
      const before = await registryRows(app.db.url);
      const files = storeFiles(store);
      const corrupt = Buffer.concat([V2_BYTES.subarray(0, 200), Buffer.from('definitely not protobuf')]);
      for (const bytes of [corrupt, Buffer.from('hello'), Buffer.alloc(0)]) {
        const res = await upload(app.url, admin, 'trading-signal', bytes, { version: 'broken' });
        expect({ status: res.status, error: res.body.error }).toEqual({ status: 400, error: 'validation_failed' });
        expect(res.body.message).toMatch(/not a model the runtime can load/);
        expect(res.body.message).not.toContain(store);
      }
      await expectUnchanged(before, files);

      const wrong = await upload(app.url, admin, 'trading-signal', wrongSignatureBytes(), { version: 'eight' });
      expect({ status: wrong.status, error: wrong.body.error }).toEqual({ status: 400, error: 'validation_failed' });
      expect(wrong.body.message).toMatch(
        /does not match the signature.*"features" has shape \[\?, 8\], not \[\?, 12\]/,
      );
      await expectUnchanged(before, files);

      const named = await upload(app.url, admin, 'trading-signal', V2_BYTES, {}, 'model.bin');
      expect({ status: named.status, error: named.body.error }).toEqual({ status: 400, error: 'validation_failed' });
      const none = await upload(app.url, admin, 'trading-signal', undefined, { version: 'x' });
      expect({ status: none.status, error: none.body.error }).toEqual({ status: 400, error: 'validation_failed' });
      const badStage = await upload(app.url, admin, 'trading-signal', V2_BYTES, { stage: 'prod' });
      expect({ status: badStage.status, error: badStage.body.error }).toEqual({
        status: 400,
        error: 'validation_failed',
      });
      const badMetrics = await upload(app.url, admin, 'trading-signal', V2_BYTES, { metrics: '[1]' });
      expect({ status: badMetrics.status, error: badMetrics.body.error }).toEqual({
        status: 400,
        error: 'validation_failed',
      });
      const unknown = await upload(app.url, admin, 'no-such-model', V2_BYTES);
      expect({ status: unknown.status, error: unknown.body.error }).toEqual({ status: 404, error: 'model_not_found' });
      await expectUnchanged(before, files);
    });
  });

  describe('versions, stages and splits', () => {
    it('registers an uploaded version without serving it until it is staged', async () => {
      const res = await upload(app.url, admin, 'trading-signal', V2_BYTES, {
        version: 'v2',
        metrics: JSON.stringify({ accuracy: 0.37 }),
        description: 'perturbed weights',
      });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        version: 'v2',
        stage: 'none',
        sha256: sha256(V2_BYTES),
        size_bytes: V2_BYTES.length,
        artifact: 'trading-signal/v2.onnx',
        metrics: { accuracy: 0.37 },
        loaded: false,
      });
      expect(readFileSync(join(store, 'trading-signal', 'v2.onnx')).equals(V2_BYTES)).toBe(true);
      expect(storeFiles(store).filter((f) => f.startsWith('.incoming'))).toEqual([]);

      const unserved = await predict('DAX', features[0], { model_version: 'v2' });
      expectEnvelope(unserved, 409, 'conflict');

      const again = await upload(app.url, admin, 'trading-signal', onnxBytes(perturbedModel(8)), { version: 'v2' });
      expect({ status: again.status, error: again.body.error }).toEqual({ status: 409, error: 'conflict' });
      const twin = await upload(app.url, admin, 'trading-signal', V2_BYTES, { version: 'v2-copy' });
      expect({ status: twin.status, error: twin.body.error }).toEqual({ status: 409, error: 'conflict' });
      expect(storeFiles(store)).toEqual([`trading-signal/${V1}.onnx`, 'trading-signal/v2.onnx']);
    });

    it('serves a staged version by id, with its own weights', async () => {
      const staged = await api.request<VersionDto>('PATCH', '/api/ml/models/trading-signal/versions/v2', {
        token: admin,
        body: { stage: 'staging' },
      });
      expect(staged.status).toBe(200);
      expect(staged.body).toMatchObject({ version: 'v2', stage: 'staging', loaded: true });
      const row = features[30];
      const byId = await predict('DAX', row, { model_version: 'v2' });
      expect(byId.body.model_version).toBe('v2');
      expect(byId.body.prediction.confidence).toBeCloseTo(reference(V2_MODEL, row).confidence, 5);
      const latest = await predict('DAX', row, { model_version: 'latest' });
      expect(latest.body.model_version).toBe(V1);
      expect(latest.body.prediction.confidence).toBeCloseTo(reference(SHIPPED_MODEL, row).confidence, 5);
      expect(latest.body.prediction.confidence).not.toBeCloseTo(byId.body.prediction.confidence, 5);
    });

    it('splits traffic 50/50 by a stable hash of the symbol, sticky per symbol', async () => {
      const res = await api.request<ModelDto>('PUT', '/api/ml/models/trading-signal/split', {
        token: admin,
        body: {
          arms: [
            { version: V1, weight: 50 },
            { version: 'v2', weight: 50 },
          ],
        },
      });
      expect(res.status).toBe(200);
      expect(res.body.split).toEqual(
        expect.arrayContaining([
          { version: V1, weight: 50, share: 0.5 },
          { version: 'v2', weight: 50, share: 0.5 },
        ]),
      );
      const symbols = Array.from({ length: 400 }, (_, i) => `SYM-${i}`);
      const row = features[31];
      const first = new Map<string, string>();
      for (let i = 0; i < symbols.length; i += 40) {
        const answers = await Promise.all(symbols.slice(i, i + 40).map((s) => predict(s, row)));
        answers.forEach((a, k) => {
          expect(a.status).toBe(200);
          first.set(symbols[i + k], a.body.model_version);
          const expected = reference(a.body.model_version === 'v2' ? V2_MODEL : SHIPPED_MODEL, row);
          expect(a.body.prediction.confidence).toBeCloseTo(expected.confidence, 5);
        });
      }
      const counts = { [V1]: 0, v2: 0 } as Record<string, number>;
      for (const version of first.values()) counts[version] += 1;
      expect(Object.keys(counts).sort()).toEqual([V1, 'v2'].sort());
      expect(counts[V1] + counts.v2).toBe(400);
      // 400 keys, p = 0.5: the standard deviation is 10.
      expect(counts.v2).toBeGreaterThan(160);
      expect(counts.v2).toBeLessThan(240);
      // Sticky: the same symbol goes to the same version, every time.
      for (const symbol of symbols.slice(0, 60)) {
        expect((await predict(symbol, features[32])).body.model_version).toBe(first.get(symbol));
      }
      const text = (await api.get('/metrics')).text;
      expect(
        metricValue(text, /conflux_ml_ab_assignments_total\{model="trading-signal",arm="v2"\} (\d+)/),
      ).toBeGreaterThanOrEqual(counts.v2);

      const stats = await api.get<{ split: unknown; arms: { version: string; weight: number; predictions: number }[] }>(
        '/api/ml/models/trading-signal/ab',
        { token: admin },
      );
      const v2Arm = stats.body.arms.find((a) => a.version === 'v2')!;
      expect(v2Arm.weight).toBe(50);
      expect(v2Arm.predictions).toBeGreaterThanOrEqual(counts.v2);
    });

    it('refuses splits over unknown or archived versions and the archiving of an arm', async () => {
      const before = await registryRows(app.db.url);
      const unknown = await api.request('PUT', '/api/ml/models/trading-signal/split', {
        token: admin,
        body: { arms: [{ version: 'v404', weight: 1 }] },
      });
      expectEnvelope(unknown, 404, 'model_not_found');
      const bad = await api.request('PUT', '/api/ml/models/trading-signal/split', {
        token: admin,
        body: { arms: [{ version: 'v2', weight: 0 }] },
      });
      expectEnvelope(bad, 400, 'validation_failed');
      const archive = await api.request('PATCH', '/api/ml/models/trading-signal/versions/v2', {
        token: admin,
        body: { stage: 'archived' },
      });
      expectEnvelope(archive, 409, 'conflict');
      const remove = await api.delete('/api/ml/models/trading-signal/versions/v2', { token: admin });
      expectEnvelope(remove, 409, 'conflict');
      expect(await registryRows(app.db.url)).toEqual(before);
    });
  });

  describe('reloads', () => {
    it('keep serving: no request fails while the versions are reloaded', async () => {
      let stop = false;
      const failures: string[] = [];
      const versions = new Set<string>();
      let answered = 0;
      const loop = async (lane: number): Promise<void> => {
        let i = 0;
        while (!stop) {
          const res = await predict(`LANE-${lane}-${i % 20}`, features[(lane * 7 + i) % features.length]);
          i += 1;
          answered += 1;
          if (res.status !== 200) failures.push(`${res.status} ${JSON.stringify(res.body)}`);
          else versions.add(res.body.model_version);
        }
      };
      const lanes = Array.from({ length: 6 }, (_, lane) => loop(lane));
      for (let k = 0; k < 3; k++) {
        const reload = await api.post<{ model: string; reloaded: { version: string }[] }>(
          '/api/ml/models/trading-signal/reload',
          {},
          { token: admin },
        );
        expect(reload.status).toBe(200);
        expect(reload.body.reloaded.map((r) => r.version).sort()).toEqual([V1, 'v2'].sort());
      }
      stop = true;
      await Promise.all(lanes);
      expect(failures).toEqual([]);
      expect(answered).toBeGreaterThan(20);
      expect([...versions].sort()).toEqual([V1, 'v2'].sort());
    });

    it('that fail keep the loaded version serving', async () => {
      const path = join(store, 'trading-signal', 'v2.onnx');
      writeFileSync(path, Buffer.from('corrupted on disk'));
      try {
        const reload = await api.post('/api/ml/models/trading-signal/reload', {}, { token: admin });
        expectEnvelope(reload, 422, 'unprocessable_entity');
        expect(reload.body.message).toMatch(/v2: .*sha256.*keep serving/);
        const res = await predict('DAX', features[33], { model_version: 'v2' });
        expect(res.status).toBe(200);
        expect(res.body.prediction.confidence).toBeCloseTo(reference(V2_MODEL, features[33]).confidence, 5);
        expect((await model()).versions.find((v) => v.version === 'v2')?.loaded).toBe(true);
      } finally {
        writeFileSync(path, V2_BYTES);
      }
      expect((await api.post('/api/ml/models/trading-signal/reload', {}, { token: admin })).status).toBe(200);
    });
  });

  describe('promotion and deletion', () => {
    it('promotes a version (the previous production moves to none) with one production version at most', async () => {
      const promoted = await api.request<VersionDto>('PATCH', '/api/ml/models/trading-signal/versions/v2', {
        token: admin,
        body: { stage: 'production' },
      });
      expect(promoted.status).toBe(200);
      expect(promoted.body.stage).toBe('production');
      const state = await model();
      expect(state.production_version).toBe('v2');
      expect(state.versions.find((v) => v.version === V1)?.stage).toBe('none');
      // The database itself refuses a second production version.
      await expect(
        query(app.db.url, `UPDATE ml_model_versions SET stage = 'production' WHERE version = $1`, [V1]),
      ).rejects.toMatchObject({ code: '23505' });

      const cleared = await api.delete<ModelDto>('/api/ml/models/trading-signal/split', { token: admin });
      expect(cleared.status).toBe(200);
      expect(cleared.body.split).toBeNull();
      for (const symbol of ['A', 'B', 'C', 'D'])
        expect((await predict(symbol, features[1])).body.model_version).toBe('v2');
      // V1 is neither staged, in production nor an arm any more: unloaded.
      expect((await model()).versions.find((v) => v.version === V1)?.loaded).toBe(false);
    });

    it('deletes a version and its artifact, refusing the production one', async () => {
      expectEnvelope(await api.delete('/api/ml/models/trading-signal/versions/v2', { token: admin }), 409, 'conflict');
      const third = await upload(app.url, admin, 'trading-signal', onnxBytes(perturbedModel(9)), { version: 'v3' });
      expect(third.status).toBe(201);
      expect(storeFiles(store)).toContain('trading-signal/v3.onnx');
      const archived = await api.request<VersionDto>('PATCH', '/api/ml/models/trading-signal/versions/v3', {
        token: admin,
        body: { stage: 'archived' },
      });
      expect(archived.body.stage).toBe('archived');
      const removed = await api.delete('/api/ml/models/trading-signal/versions/v3', { token: admin });
      expect(removed.status).toBe(204);
      expect(storeFiles(store)).not.toContain('trading-signal/v3.onnx');
      expect((await model()).versions.map((v) => v.version).sort()).toEqual([V1, 'v2'].sort());
      expectEnvelope(
        await api.delete('/api/ml/models/trading-signal/versions/v3', { token: admin }),
        404,
        'model_not_found',
      );
      expectEnvelope(await api.delete('/api/ml/models/trading-signal', { token: admin }), 409, 'conflict');
    });

    it('a new instance on the same registry loads the production version on start', async () => {
      const second = await startApp({ db: app.db, env: env() });
      try {
        const secondApi = new Api(second.url);
        const token = await signInAdmin(secondApi);
        const res = await secondApi.post<Prediction>('/predict', { symbol: 'DAX', features: features[2] }, { token });
        expect(res.status).toBe(200);
        expect(res.body.model_version).toBe('v2');
        const listed = await secondApi.get<{ models: ModelDto[] }>('/api/ml/models', { token });
        expect(listed.body.models.map((m) => m.name)).toEqual(['trading-signal']);
        expect(listed.body.models[0].versions.map((v) => [v.version, v.stage, v.loaded]).sort()).toEqual(
          [
            [V1, 'none', false],
            ['v2', 'production', true],
          ].sort(),
        );
      } finally {
        await second.close();
      }
    });
  });

  describe('other models', () => {
    it('registers a model by its signature, then serves an uploaded version of it', async () => {
      const created = await api.post<ModelDto>(
        '/api/ml/models',
        {
          name: 'signal-lite',
          task: 'classification: next-day direction',
          input_signature: { name: 'features', dtype: 'float32', shape: [-1, 12] },
          output_mapping: {
            probabilities: 'probabilities',
            labels: ['SELL', 'HOLD', 'BUY'],
            expected_return: 'expected_return',
          },
        },
        { token: admin },
      );
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ name: 'signal-lite', production_version: null, versions: [] });
      const duplicate = await api.post(
        '/api/ml/models',
        {
          name: 'signal-lite',
          task: 't',
          input_signature: { name: 'features', dtype: 'float32', shape: [-1, 12] },
          output_mapping: { probabilities: 'probabilities', labels: ['SELL', 'HOLD', 'BUY'] },
        },
        { token: admin },
      );
      expectEnvelope(duplicate, 409, 'conflict');
      const noProduction = await predict('DAX', features[0], { model: 'signal-lite' });
      expectEnvelope(noProduction, 503, 'service_unavailable');
      const up = await upload(app.url, admin, 'signal-lite', onnxBytes(perturbedModel(11)), {
        version: '1',
        stage: 'production',
      });
      expect(up.status).toBe(201);
      expect(up.body).toMatchObject({ stage: 'production', loaded: true });
      const res = await predict('DAX', features[4], { model: 'signal-lite' });
      expect(res.status).toBe(200);
      expect(res.body.prediction.confidence).toBeCloseTo(reference(perturbedModel(11), features[4]).confidence, 5);
      const v2 = await api.get<{ name: string; versions: string[] }>('/v2/models/signal-lite', { apiKey });
      expect(v2.body).toMatchObject({ name: 'signal-lite', versions: ['1'] });
    });
  });
});
