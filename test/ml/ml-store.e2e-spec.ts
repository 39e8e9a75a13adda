/**
 * A model store that cannot be created does not stop the service: it starts, serves everything else,
 * and says why no model is served. (Its own file: the start-up log lines are asserted, and the
 * logger is per process.)
 */
import { startApp, TestApp } from '../support/app';
import { signInAdmin } from '../support/fixtures';
import { Api, expectEnvelope } from '../support/http';
import { mlEnv, realFeatures } from './ml-e2e-support';

describe('model serving with an unusable model store', () => {
  let app: TestApp;

  afterAll(async () => {
    await app?.close();
  });

  it('does not stop the service from starting, and says why no model is served', async () => {
    // A folder below a regular file cannot be created, whoever runs the test.
    app = await startApp({ env: mlEnv(`${__filename}/models`) });
    const api = new Api(app.url);
    const admin = await signInAdmin(api);
    expect((await api.get('/health/live')).status).toBe(200);
    const res = await api.post('/predict', { symbol: 'DAX', features: realFeatures()[0] }, { token: admin });
    expectEnvelope(res, 404, 'model_not_found');
    expect((await api.get<{ models: unknown[] }>('/api/ml/models', { token: admin })).body.models).toEqual([]);
    expect(app.logs.text).toContain('is not writable');
    expect(app.logs.text).toContain('The shipped model could not be registered');
  });
});
