import type { Page } from 'playwright-core';
import { type Gateway, NO_RETRY, startGateway } from '../gateway/gateway-support';
import { type FakeReply, type FakeUpstream, startFakeUpstream } from '../support/fake-upstreams';
import { createProject, createUser, type TestUser } from '../support/fixtures';
import type { Api } from '../support/http';

/** A member with a project of their own: who signs in to the playgrounds (they bill that project). */
export async function playgroundUser(
  api: Api,
  adminToken: string,
): Promise<{ user: TestUser; project: { id: string; name: string } }> {
  const user = await createUser(api, adminToken, 'member');
  const project = await createProject(api, user.token, 'playground');
  return { user, project };
}

/** The gateway in front of a fake OpenAI upstream serving `models`, and a member who bills a project. */
export interface LlmPlayground {
  upstream: FakeUpstream;
  gw: Gateway;
  user: TestUser;
  projectId: string;
  close(): Promise<void>;
}

export async function startLlmPlayground(models: string[], reply?: Partial<FakeReply>): Promise<LlmPlayground> {
  const upstream = await startFakeUpstream('openai', { models, reply });
  const gw = await startGateway({
    providers: [{ id: 'openai', kind: 'openai', base_url: upstream.baseUrl, models, retry: NO_RETRY }],
  });
  const { user, project } = await playgroundUser(gw.api, gw.adminToken);
  return {
    upstream,
    gw,
    user,
    projectId: project.id,
    close: async () => {
      await gw.close();
      await upstream.close();
    },
  };
}

/** The measurements of a named Stats group, label → value. */
export async function statsOf(page: Page, group: string): Promise<Record<string, string>> {
  const box = page.getByRole('group', { name: group });
  await box.waitFor();
  const labels = await box.locator('dt').allTextContents();
  const values = await box.locator('dd').allTextContents();
  return Object.fromEntries(labels.map((label, i) => [label, values[i]]));
}

/** Requests the page sent to a path (counted from when this is called). */
export function countRequests(page: Page, path: string): { readonly count: number } {
  const seen = { count: 0 };
  page.on('request', (req) => {
    if (new URL(req.url()).pathname === path) seen.count += 1;
  });
  return seen;
}

/** Polls `check` from the test (a page's CSP forbids the evaluated polling of waitForFunction). */
export async function waitUntil(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
