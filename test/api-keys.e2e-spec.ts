import { createHash } from 'node:crypto';
import { Client } from 'pg';
import { startApp, TestApp } from './support/app';
import { createApiKey, createProject, IssuedKey, signInAdmin } from './support/fixtures';
import { Api, expectEnvelope } from './support/http';

async function secretRows(url: string, keyId: string): Promise<Record<string, unknown>[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const keys = await client.query('SELECT * FROM api_keys WHERE id = $1', [keyId]);
    const secrets = await client.query('SELECT * FROM api_key_secrets WHERE api_key_id = $1', [keyId]);
    return [...keys.rows, ...secrets.rows] as Record<string, unknown>[];
  } finally {
    await client.end();
  }
}

describe('API keys', () => {
  let t: TestApp;
  let api: Api;
  let token: string;
  let projectId: string;

  beforeAll(async () => {
    t = await startApp({ env: { API_KEY_ROTATION_GRACE_SECONDS: '2' } });
    api = new Api(t.url);
    token = await signInAdmin(api);
    projectId = (await createProject(api, token, 'keys-project')).id;
  });
  afterAll(() => t.close());

  it('shows the secret once and stores only its hash and prefix', async () => {
    const issued = await createApiKey(api, token, projectId, 'ci');
    expect(issued.key).toMatch(/^cfx_[A-Za-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
    expect(issued.key.startsWith(issued.prefix)).toBe(true);

    const rows = await secretRows(t.db.url, issued.id);
    expect(rows).toHaveLength(2);
    const stored = JSON.stringify(rows);
    expect(stored).not.toContain(issued.key);
    expect(stored).not.toContain(issued.key.slice(issued.prefix.length + 1)); // the secret part alone
    const secret = rows.find((r) => 'secret_hash' in r);
    expect(secret?.secret_hash).toBe(createHash('sha256').update(issued.key).digest('hex'));
    expect(secret?.prefix).toBe(issued.prefix);

    const list = await api.get<Record<string, unknown>[]>(`/projects/${projectId}/api-keys`, { token });
    expect(list.status).toBe(200);
    const listed = list.body.find((k) => k.id === issued.id);
    expect(listed).toMatchObject({
      name: 'ci',
      prefix: issued.prefix,
      last_used_at: null,
      expires_at: null,
      previous_key_expires_at: null,
    });
    expect(listed).not.toHaveProperty('key');
    expect(list.text).not.toContain(issued.key);
  });

  it('authenticates with X-API-Key and with Authorization: Bearer, scoped to its project', async () => {
    const issued = await createApiKey(api, token, projectId, 'both-headers');
    const viaHeader = await api.get('/auth/me', { apiKey: issued.key });
    const viaBearer = await api.get('/auth/me', { token: issued.key });
    for (const res of [viaHeader, viaBearer]) {
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ kind: 'api_key', key_id: issued.id, project_id: projectId });
    }
    expect((await api.get(`/projects/${projectId}`, { apiKey: issued.key })).status).toBe(200);
    const list = await api.get<Record<string, unknown>[]>(`/projects/${projectId}/api-keys`, { token });
    expect(list.body.find((k) => k.id === issued.id)?.last_used_at).not.toBeNull();
  });

  it('refuses unknown, malformed and tampered keys', async () => {
    const issued = await createApiKey(api, token, projectId, 'tamper');
    const tampered = `${issued.key.slice(0, -1)}${issued.key.endsWith('A') ? 'B' : 'A'}`;
    for (const key of [tampered, 'cfx_nope', `${issued.prefix}_${'x'.repeat(43)}`]) {
      expectEnvelope(await api.get('/auth/me', { apiKey: key }), 401, 'invalid_token');
    }
  });

  it('cannot manage keys, projects or members with an API key', async () => {
    const issued = await createApiKey(api, token, projectId, 'limited');
    expectEnvelope(
      await api.post(`/projects/${projectId}/api-keys`, { name: 'x' }, { apiKey: issued.key }),
      403,
      'forbidden',
    );
    expectEnvelope(await api.get(`/projects/${projectId}/api-keys`, { apiKey: issued.key }), 403, 'forbidden');
    expectEnvelope(await api.post('/projects', { name: 'x' }, { apiKey: issued.key }), 403, 'forbidden');
    expectEnvelope(await api.get('/admin/users', { apiKey: issued.key }), 403, 'forbidden');
  });

  it('rotates: a new secret, the old one valid within the grace period and refused after it', async () => {
    const issued = await createApiKey(api, token, projectId, 'rotating');
    const rotated = await api.post<IssuedKey & { previous_key_expires_at: string }>(
      `/projects/${projectId}/api-keys/${issued.id}/rotate`,
      undefined,
      { token },
    );
    expect(rotated.status).toBe(200);
    expect(rotated.body.id).toBe(issued.id);
    expect(rotated.body.key).not.toBe(issued.key);
    expect(rotated.body.prefix).not.toBe(issued.prefix);
    const graceEnds = Date.parse(rotated.body.previous_key_expires_at);
    expect(graceEnds - Date.now()).toBeGreaterThan(0);
    expect(graceEnds - Date.now()).toBeLessThanOrEqual(2000);

    expect((await api.get('/auth/me', { apiKey: rotated.body.key })).status).toBe(200);
    expect((await api.get('/auth/me', { apiKey: issued.key })).status).toBe(200);
    const during = await api.get<Record<string, unknown>[]>(`/projects/${projectId}/api-keys`, { token });
    expect(during.body.find((k) => k.id === issued.id)).toMatchObject({
      prefix: rotated.body.prefix,
      previous_key_expires_at: rotated.body.previous_key_expires_at,
    });

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, graceEnds - Date.now()) + 300));
    expectEnvelope(await api.get('/auth/me', { apiKey: issued.key }), 401, 'invalid_token');
    expect((await api.get('/auth/me', { apiKey: rotated.body.key })).status).toBe(200);

    const list = await api.get<Record<string, unknown>[]>(`/projects/${projectId}/api-keys`, { token });
    expect(list.body.find((k) => k.id === issued.id)).toMatchObject({
      prefix: rotated.body.prefix,
      previous_key_expires_at: null,
    });
  });

  it('revokes at once, including secrets still in their grace period', async () => {
    const issued = await createApiKey(api, token, projectId, 'doomed');
    const rotated = await api.post<IssuedKey>(`/projects/${projectId}/api-keys/${issued.id}/rotate`, undefined, {
      token,
    });
    expect((await api.get('/auth/me', { apiKey: issued.key })).status).toBe(200);
    const del = await api.delete(`/projects/${projectId}/api-keys/${issued.id}`, { token });
    expect(del.status).toBe(204);
    expectEnvelope(await api.get('/auth/me', { apiKey: issued.key }), 401, 'invalid_token');
    expectEnvelope(await api.get('/auth/me', { apiKey: rotated.body.key }), 401, 'invalid_token');
    const list = await api.get<Record<string, unknown>[]>(`/projects/${projectId}/api-keys`, { token });
    expect(list.body.some((k) => k.id === issued.id)).toBe(false);
    expectEnvelope(await api.delete(`/projects/${projectId}/api-keys/${issued.id}`, { token }), 404, 'not_found');
  });

  it('honours expires_at and refuses one in the past', async () => {
    const past = await api.post(
      `/projects/${projectId}/api-keys`,
      { name: 'old', expires_at: '2020-01-01T00:00:00Z' },
      { token },
    );
    expectEnvelope(past, 400, 'validation_failed');
    const soon = new Date(Date.now() + 1500).toISOString();
    const res = await api.post<IssuedKey>(
      `/projects/${projectId}/api-keys`,
      { name: 'short', expires_at: soon },
      { token },
    );
    expect(res.status).toBe(201);
    expect((await api.get('/auth/me', { apiKey: res.body.key })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, Date.parse(soon) - Date.now() + 300));
    expectEnvelope(await api.get('/auth/me', { apiKey: res.body.key }), 401, 'invalid_token');
  });
});

describe('API key revocation across instances', () => {
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    const env = { REDIS_KEY_PREFIX: `t:revoke-${Date.now()}:` };
    a = await startApp({ env });
    b = await startApp({ env, db: a.db });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('a key revoked on one instance stops working on the other at once, despite its cache', async () => {
    const apiA = new Api(a.url);
    const apiB = new Api(b.url);
    const token = await signInAdmin(apiA);
    const projectId = (await createProject(apiA, token, 'revoke-everywhere')).id;
    const issued = await createApiKey(apiA, token, projectId, 'shared');
    expect((await apiB.get('/auth/me', { apiKey: issued.key })).status).toBe(200); // now cached on B
    expect((await apiA.delete(`/projects/${projectId}/api-keys/${issued.id}`, { token })).status).toBe(204);
    let status = 200;
    for (let i = 0; i < 20 && status === 200; i += 1) {
      status = (await apiB.get('/auth/me', { apiKey: issued.key })).status;
      if (status === 200) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(status).toBe(401);
  });
});
