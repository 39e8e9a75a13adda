import { startApp, TestApp } from './support/app';
import { createApiKey, createProject, createUser, signInAdmin, TestUser } from './support/fixtures';
import { Api, expectEnvelope } from './support/http';

describe('project isolation between members', () => {
  let t: TestApp;
  let api: Api;
  let admin: string;
  let alice: TestUser;
  let bob: TestUser;
  let aliceProject: string;
  let bobProject: string;
  let aliceKey: string;
  let aliceKeyId: string;
  let bobKey: string;

  beforeAll(async () => {
    t = await startApp();
    api = new Api(t.url);
    admin = await signInAdmin(api);
    alice = await createUser(api, admin);
    bob = await createUser(api, admin);
    aliceProject = (await createProject(api, alice.token, 'alice-project')).id;
    bobProject = (await createProject(api, bob.token, 'bob-project')).id;
    const ak = await createApiKey(api, alice.token, aliceProject, 'alice-key');
    aliceKey = ak.key;
    aliceKeyId = ak.id;
    bobKey = (await createApiKey(api, bob.token, bobProject, 'bob-key')).key;
  });
  afterAll(() => t.close());

  it('lists only my projects; an admin sees all; a key sees its own', async () => {
    const mine = await api.get<{ id: string }[]>('/projects', { token: bob.token });
    expect(mine.body.map((p) => p.id)).toEqual([bobProject]);
    const all = await api.get<{ id: string }[]>('/projects', { token: admin });
    expect(all.body.map((p) => p.id)).toEqual(expect.arrayContaining([aliceProject, bobProject]));
    const viaKey = await api.get<{ id: string }[]>('/projects', { apiKey: aliceKey });
    expect(viaKey.body.map((p) => p.id)).toEqual([aliceProject]);
  });

  it('a member cannot read another project or its keys (404, existence not revealed)', async () => {
    expectEnvelope(await api.get(`/projects/${aliceProject}`, { token: bob.token }), 404, 'not_found');
    expectEnvelope(await api.get(`/projects/${aliceProject}/api-keys`, { token: bob.token }), 404, 'not_found');
    const unknown = await api.get('/projects/00000000-0000-4000-8000-000000000000', { token: bob.token });
    expectEnvelope(unknown, 404, 'not_found');
    expect(unknown.body.message).toBe((await api.get(`/projects/${aliceProject}`, { token: bob.token })).body.message);
  });

  it("a member cannot create, rotate or revoke another project's keys", async () => {
    expectEnvelope(
      await api.post(`/projects/${aliceProject}/api-keys`, { name: 'x' }, { token: bob.token }),
      404,
      'not_found',
    );
    expectEnvelope(
      await api.post(`/projects/${aliceProject}/api-keys/${aliceKeyId}/rotate`, undefined, { token: bob.token }),
      404,
      'not_found',
    );
    expectEnvelope(
      await api.delete(`/projects/${aliceProject}/api-keys/${aliceKeyId}`, { token: bob.token }),
      404,
      'not_found',
    );
    // A key id of another project through my own project is not found either.
    expectEnvelope(
      await api.delete(`/projects/${bobProject}/api-keys/${aliceKeyId}`, { token: bob.token }),
      404,
      'not_found',
    );
    expect((await api.get('/auth/me', { apiKey: aliceKey })).status).toBe(200);
  });

  it("an API key cannot be used on another project's data", async () => {
    expectEnvelope(await api.get(`/projects/${aliceProject}`, { apiKey: bobKey }), 404, 'not_found');
    expect((await api.get(`/projects/${bobProject}`, { apiKey: bobKey })).status).toBe(200);
  });

  it('only the owner (or an admin) adds members; a member then sees the project but cannot add others', async () => {
    const carol = await createUser(api, admin);
    expectEnvelope(
      await api.post(`/projects/${aliceProject}/members`, { email: carol.email }, { token: bob.token }),
      404,
      'not_found',
    );
    const added = await api.post(`/projects/${aliceProject}/members`, { email: bob.email }, { token: alice.token });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ email: bob.email, role: 'member' });
    expectEnvelope(
      await api.post(`/projects/${aliceProject}/members`, { email: bob.email }, { token: alice.token }),
      409,
      'conflict',
    );

    const detail = await api.get<{ members: { email: string; role: string }[] }>(`/projects/${aliceProject}`, {
      token: bob.token,
    });
    expect(detail.status).toBe(200);
    expect(detail.body.members.map((m) => [m.email, m.role])).toEqual([
      [alice.email, 'owner'],
      [bob.email, 'member'],
    ]);
    expectEnvelope(
      await api.post(`/projects/${aliceProject}/members`, { email: carol.email }, { token: bob.token }),
      403,
      'forbidden',
    );
    expect((await api.post(`/projects/${aliceProject}/members`, { email: carol.email }, { token: admin })).status).toBe(
      201,
    );
    expectEnvelope(
      await api.post(`/projects/${aliceProject}/members`, { email: 'ghost@conflux.test' }, { token: alice.token }),
      404,
      'not_found',
    );
  });

  it('admin endpoints are for admins only', async () => {
    expectEnvelope(await api.get('/admin/users', { token: alice.token }), 403, 'forbidden');
    expectEnvelope(
      await api.post(
        '/admin/users',
        { email: 'x@conflux.test', password: 'long-enough-password', role: 'admin' },
        { token: alice.token },
      ),
      403,
      'forbidden',
    );
    const users = await api.get<{ email: string }[]>('/admin/users', { token: admin });
    expect(users.status).toBe(200);
    expect(users.body.map((u) => u.email)).toEqual(expect.arrayContaining([alice.email, bob.email]));
    expect(users.text).not.toMatch(/password/i);
  });

  it('refuses duplicate users (case-insensitive) and weak passwords', async () => {
    const dup = await api.post(
      '/admin/users',
      { email: alice.email.toUpperCase(), password: 'long-enough-password', role: 'member' },
      { token: admin },
    );
    expectEnvelope(dup, 409, 'conflict');
    const weak = await api.post(
      '/admin/users',
      { email: 'weak@conflux.test', password: 'short', role: 'member' },
      { token: admin },
    );
    expectEnvelope(weak, 400, 'validation_failed');
    const badRole = await api.post(
      '/admin/users',
      { email: 'r@conflux.test', password: 'long-enough-password', role: 'root' },
      { token: admin },
    );
    expectEnvelope(badRole, 400, 'validation_failed');
  });
});
