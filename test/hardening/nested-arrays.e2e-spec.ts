import { startApp, type TestApp } from '../support/app';
import { createApiKey, createProject, signInAdmin } from '../support/fixtures';
import { Api } from '../support/http';

/**
 * A list of objects given a list in place of one of its objects (or an object field given a list): the
 * validation refuses it with a 400 naming the field, where it used to pass on to a 500.
 */
describe('nested objects given as arrays', () => {
  let t: TestApp;
  let api: Api;
  let token: string;
  let apiKey: string;

  beforeAll(async () => {
    t = await startApp();
    api = new Api(t.url);
    token = await signInAdmin(api);
    apiKey = (await createApiKey(api, token, (await createProject(api, token)).id)).key;
  });

  afterAll(async () => {
    await t?.close();
  });

  it.each([
    ['/chat', { message: 'hi', history: [[]] }, 'history'],
    ['/v1/chat/completions', { model: 'auto', messages: [[]] }, 'messages'],
    ['/v1/chat/completions', { model: 'auto', messages: [{ role: 'user', content: 'x' }], tools: [[]] }, 'tools'],
    ['/v1/messages', { model: 'auto', max_tokens: 5, messages: [[]] }, 'messages'],
    ['/v1/timeseries/forecast', { inputs: [[]] }, 'inputs'],
    ['/api/ml/models', { name: 'm1', task: 't', input_signature: [], output_mapping: [] }, 'input_signature'],
  ])('POST %s with %j: 400 naming %s', async (path, body, field) => {
    // The gateway routes bill a project: an API key's. The others are the administrator's.
    const res = await api.post(path, body, path.startsWith('/api/ml') ? { token } : { apiKey });
    expect(res.status).toBe(400);
    expect(res.text).toContain(field);
  });
});
