import { Api } from './http';
import { TEST_ADMIN } from './app';

export interface TestUser {
  id: string;
  email: string;
  password: string;
  token: string;
}

let counter = 0;

export async function signInAdmin(api: Api): Promise<string> {
  return (await api.login(TEST_ADMIN.email, TEST_ADMIN.password)).access_token;
}

/** Creates a user through the admin API and signs them in. */
export async function createUser(api: Api, adminToken: string, role: 'admin' | 'member' = 'member'): Promise<TestUser> {
  counter += 1;
  const email = `user${counter}-${Date.now()}@conflux.test`;
  const password = `password-of-user-${counter}`;
  const res = await api.post<{ id: string }>('/admin/users', { email, password, role }, { token: adminToken });
  if (res.status !== 201) throw new Error(`create user failed: ${res.status} ${res.text}`);
  const { access_token } = await api.login(email, password);
  return { id: res.body.id, email, password, token: access_token };
}

export async function createProject(api: Api, token: string, name = 'project'): Promise<{ id: string; name: string }> {
  const res = await api.post<{ id: string; name: string }>('/projects', { name }, { token });
  if (res.status !== 201) throw new Error(`create project failed: ${res.status} ${res.text}`);
  return res.body;
}

export interface IssuedKey {
  id: string;
  key: string;
  prefix: string;
  previous_key_expires_at?: string;
}

export async function createApiKey(api: Api, token: string, projectId: string, name = 'key'): Promise<IssuedKey> {
  const res = await api.post<IssuedKey>(`/projects/${projectId}/api-keys`, { name }, { token });
  if (res.status !== 201) throw new Error(`create key failed: ${res.status} ${res.text}`);
  return res.body;
}
