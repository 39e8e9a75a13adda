import { startApp, TestApp } from '../support/app';
import { createApiKey, createProject, signInAdmin } from '../support/fixtures';
import { Api, expectEnvelope, expectOpenAiError } from '../support/http';

/** `[[[…]]]`, `depth` arrays deep: about 2 bytes per level. */
function nestedArrays(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

describe('Hostile inputs are refused with 400, never 500', () => {
  let t: TestApp;
  let api: Api;
  let adminToken: string;

  beforeAll(async () => {
    t = await startApp();
    api = new Api(t.url);
    adminToken = await signInAdmin(api);
  });
  afterAll(() => t.close());

  describe('JSON nesting depth', () => {
    it('refuses 100,000 nested arrays before authentication, naming the limit', async () => {
      const res = await api.request('POST', '/auth/login', { raw: nestedArrays(100_000) });
      expectEnvelope(res, 400, 'malformed_json');
      expect(res.body.message).toMatch(/nest.*64/i);
    });

    it('refuses deep nesting inside a field, in the dialect of a compatible route', async () => {
      const raw = `{"model":"m","messages":[{"role":"user","content":${nestedArrays(5_000)}}]}`;
      const res = await api.request('POST', '/v1/chat/completions', { raw });
      expectOpenAiError(res, 400, 'malformed_json');
    });

    it('still takes a body nested up to the limit', async () => {
      // 64 levels: the body object plus 63 arrays; refused by validation, not by the parser.
      const raw = `{"email":${nestedArrays(63)},"password":"x"}`;
      const res = await api.request('POST', '/auth/login', { raw });
      expectEnvelope(res, 400, 'validation_failed');
      const deeper = `{"email":${nestedArrays(64)},"password":"x"}`;
      expectEnvelope(await api.request('POST', '/auth/login', { raw: deeper }), 400, 'malformed_json');
    });
  });

  describe('lone surrogates', () => {
    it('refuses a lone surrogate in an email before authentication, naming the field', async () => {
      const raw = '{"email":"a\\ud800@conflux.test","password":"secret-password"}';
      const res = await api.request('POST', '/auth/login', { raw });
      expectEnvelope(res, 400, 'validation_failed');
      expect(res.body.message).toContain('email');
    });

    it('refuses a lone surrogate in a project name', async () => {
      const raw = '{"name":"proj\\udc00ect"}';
      const res = await api.request('POST', '/projects', { raw, token: adminToken });
      expectEnvelope(res, 400, 'validation_failed');
      expect(res.body.message).toContain('name');
    });

    it('still takes a well-formed astral character', async () => {
      const res = await api.post(
        '/projects',
        { name: 'rocket \u{1F680} \u05e9\u05dc\u05d5\u05dd' },
        { token: adminToken },
      );
      expect(res.status).toBe(201);
      expect(res.body.name).toBe('rocket \u{1F680} \u05e9\u05dc\u05d5\u05dd');
    });
  });

  describe('NUL characters', () => {
    it('refuses a NUL in a project name, naming the field', async () => {
      const res = await api.post('/projects', { name: 'a\u0000b' }, { token: adminToken });
      expectEnvelope(res, 400, 'validation_failed');
      expect(res.body.message).toContain('name');
    });

    it('refuses a NUL deep in a body, naming its path in the dialect of a compatible route', async () => {
      const project = await createProject(api, adminToken, 'nul-body');
      const { key } = await createApiKey(api, adminToken, project.id, 'nul-body');
      const body = { model: 'm', messages: [{ role: 'user', content: 'hello\u0000' }] };
      const res = await api.post('/v1/chat/completions', body, { apiKey: key });
      expectOpenAiError(res, 400, 'validation_failed');
      expect((res.body.error as { param: string }).param).toBe('messages.0.content');
    });

    it('refuses a NUL in a path parameter', async () => {
      const res = await api.get('/api/ml/models/ab%00cd', { token: adminToken });
      expectEnvelope(res, 400, 'validation_failed');
      expect(res.body.details).toEqual([{ field: 'path', messages: ['must not contain a NUL character'] }]);
    });

    it('refuses a NUL in a query parameter, naming it', async () => {
      const project = await createProject(api, adminToken, 'nul-query');
      const res = await api.get(`/projects/${project.id}/usage?from=2026-01-01&to=2026-01-02%00`, {
        token: adminToken,
      });
      expectEnvelope(res, 400, 'validation_failed');
      expect(res.body.details).toEqual([{ field: 'query.to', messages: ['must not contain a NUL character'] }]);
    });
  });
});
