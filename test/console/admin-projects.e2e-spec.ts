/**
 * The console's projects page in Chromium: a project and its keys (the secret shown once, then gone
 * from the page; rotation and revocation proven against the API), members, a member's read-only view,
 * and the quota form with the API's validation message.
 */
import type { Browser, Page } from 'playwright-core';
import { startApp, TEST_ADMIN, type TestApp } from '../support/app';
import { browserTest, expectNoTrouble, launchBrowser } from '../support/browser';
import { createProject, createUser, signInAdmin } from '../support/fixtures';
import { Api } from '../support/http';
import { navigateTo, openConsole, saveScreenshot, signInThroughUi } from './console-harness';

const browserIt = browserTest('the console projects page checks');
const KEY_FORMAT = /^cfx_[A-Za-z0-9]{12}_[A-Za-z0-9_-]{43}$/;

/** Everything the page holds: its DOM and its storage (source text: the tests are typed for Node). */
function pageText(page: Page): Promise<string> {
  return page.evaluate(`document.documentElement.outerHTML + ' ' +
    [localStorage, sessionStorage].flatMap((s) => Object.keys(s).map((k) => s.getItem(k))).join(' ')`);
}

describe('the web console: projects, keys and quotas', () => {
  let t: TestApp;
  let api: Api;
  let admin: string;
  let browser: Browser | undefined;

  beforeAll(async () => {
    t = await startApp();
    api = new Api(t.url);
    admin = await signInAdmin(api);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  const secretIn = async (page: Page, panelName: RegExp): Promise<string> => {
    const panel = page.getByRole('region', { name: panelName });
    await panel.getByText(/you will not see it again/i).waitFor();
    return ((await panel.locator('code.secret').textContent()) ?? '').trim();
  };

  browserIt(
    'an administrator creates a project, adds a member, and creates, rotates and revokes a key',
    async () => {
      const member = await createUser(api, admin);
      const { page, trouble } = await openConsole(browser!, t.url, '/console/projects', {
        // A user that does not exist is answered 404, which Chromium logs as a failed resource.
        expectedConsoleErrors: [/status of 404/],
      });
      await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: t.url });
      await signInThroughUi(page, TEST_ADMIN.email, TEST_ADMIN.password);
      await page.getByRole('heading', { level: 1, name: 'Projects & keys' }).waitFor();

      await page.getByLabel('Project name').fill('console-team');
      await page.getByRole('button', { name: 'Create project' }).click();
      const view = page.getByRole('region', { name: 'console-team' });
      await view.waitFor();
      const projects = await api.get<{ id: string; name: string }[]>('/projects', { token: admin });
      const project = projects.body.find((p) => p.name === 'console-team');
      expect(project).toBeDefined();
      // The top bar's picker lists the new project and has it selected.
      await expect(page.getByRole('banner').getByRole('combobox').inputValue()).resolves.toBe(project!.id);

      // Members: an unknown email is refused by the API, a user's email adds them.
      await page.getByLabel("Member's email").fill('nobody@conflux.test');
      await page.getByRole('button', { name: 'Add member' }).click();
      await view.getByRole('alert').getByText('User not found').waitFor();
      await page.getByLabel("Member's email").fill(member.email);
      await page.getByRole('button', { name: 'Add member' }).click();
      await view.getByRole('row', { name: new RegExp(`${member.email} member`) }).waitFor();

      // A key: its secret is shown once, in the key format, and authenticates.
      await page.getByLabel('Key name').fill('ci');
      await page.getByRole('button', { name: 'Create key' }).click();
      const secret = await secretIn(page, /API key “ci” created/);
      expect(secret).toMatch(KEY_FORMAT);
      const me = await api.get('/auth/me', { apiKey: secret });
      expect({ status: me.status, project: me.body.project_id }).toEqual({ status: 200, project: project!.id });
      await page.getByRole('button', { name: 'Copy key' }).click();
      await page.getByRole('button', { name: 'Copied' }).waitFor();
      await expect(page.evaluate('navigator.clipboard.readText()')).resolves.toBe(secret);
      await view
        .getByRole('row', { name: /^ci / })
        .getByText(`${secret.slice(0, 16)}…`)
        .waitFor();

      await page.getByRole('button', { name: 'I have stored it, close' }).click();
      await page.locator('.secret-panel').waitFor({ state: 'detached' });
      expect(await pageText(page)).not.toContain(secret);
      await page.reload();
      await page.getByRole('region', { name: 'console-team' }).getByRole('row', { name: /^ci / }).waitFor();
      expect(await pageText(page)).not.toContain(secret);
      expect(await pageText(page)).not.toContain(secret.slice(17));

      // Rotation: confirmed in a dialog, the new secret shown once with the old one's end of validity.
      await page.getByRole('button', { name: 'Rotate ci' }).click();
      await page.getByRole('dialog', { name: 'Rotate “ci”?' }).getByRole('button', { name: 'Rotate key' }).click();
      const rotated = await secretIn(page, /New secret of “ci”/);
      expect(rotated).toMatch(KEY_FORMAT);
      expect(rotated).not.toBe(secret);
      await page.getByText(/The previous secret keeps working until/).waitFor();
      expect((await api.get('/auth/me', { apiKey: rotated })).status).toBe(200);
      expect((await api.get('/auth/me', { apiKey: secret })).status).toBe(200); // within its grace period
      await view
        .getByRole('row', { name: /^ci / })
        .getByText(/previous secret valid until/)
        .waitFor();
      await page.getByRole('button', { name: 'I have stored it, close' }).click();

      // Revocation: Cancel keeps the key, confirming revokes it at once (both secrets).
      await page.getByRole('button', { name: 'Revoke ci' }).click();
      await page.getByRole('dialog', { name: 'Revoke “ci”?' }).waitFor();
      // The safe choice has the focus: Enter does not revoke.
      await expect(page.evaluate('document.activeElement.textContent')).resolves.toBe('Cancel');
      await page.getByRole('dialog', { name: 'Revoke “ci”?' }).getByRole('button', { name: 'Cancel' }).click();
      await page.getByRole('dialog').waitFor({ state: 'detached' });
      expect((await api.get('/auth/me', { apiKey: rotated })).status).toBe(200);
      await page.getByRole('button', { name: 'Revoke ci' }).click();
      await page.getByRole('dialog', { name: 'Revoke “ci”?' }).getByRole('button', { name: 'Revoke key' }).click();
      await page.getByRole('status').getByText('“ci” was revoked').waitFor();
      await view.getByRole('row', { name: /^ci / }).waitFor({ state: 'detached' });
      expect((await api.get('/auth/me', { apiKey: rotated })).status).toBe(401);
      expect((await api.get('/auth/me', { apiKey: secret })).status).toBe(401);

      // Leaving the page also drops a secret shown; back on it, the list shows the key without it.
      await page.getByLabel('Key name').fill('deploy-bot');
      await page.getByRole('button', { name: 'Create key' }).click();
      const deploySecret = await secretIn(page, /API key “deploy-bot” created/);
      await navigateTo(page, 'Usage');
      await navigateTo(page, 'Projects & keys');
      await view.getByRole('row', { name: /^deploy-bot / }).waitFor();
      await expect(page.locator('.secret-panel, code.secret').count()).resolves.toBe(0);
      expect(await pageText(page)).not.toContain(deploySecret);
      await saveScreenshot(page, 'projects');
      expectNoTrouble(trouble);
    },
    60_000,
  );

  browserIt(
    'a member sees their project without the owner and administrator actions, which the API refuses',
    async () => {
      const member = await createUser(api, admin);
      const project = await createProject(api, admin, 'shared-project');
      const added = await api.post(`/projects/${project.id}/members`, { email: member.email }, { token: admin });
      expect(added.status).toBe(201);

      const { page, trouble } = await openConsole(browser!, t.url, '/console/');
      await signInThroughUi(page, member.email, member.password);
      await navigateTo(page, 'Projects & keys');
      const view = page.getByRole('region', { name: 'shared-project' });
      await view.getByText('You are').waitFor();
      await view.getByRole('definition').getByText('member', { exact: true }).waitFor();
      await view.getByText("Only the project's owner or an administrator adds members.").waitFor();
      await view.getByText('Only administrators change the limits.').waitFor();
      for (const name of ['Add member', 'Save limits']) {
        await expect(page.getByRole('button', { name }).count()).resolves.toBe(0);
      }
      await expect(page.getByLabel("Member's email").count()).resolves.toBe(0);
      // Members may manage the project's keys.
      await view.getByRole('button', { name: 'Create key' }).waitFor();
      // What the page hides, the API refuses.
      const other = await createUser(api, admin);
      const refusedMember = await api.post(
        `/projects/${project.id}/members`,
        { email: other.email },
        { token: member.token },
      );
      expect(refusedMember.status).toBe(403);
      const refusedQuota = await api.request('PUT', `/projects/${project.id}/quota`, {
        token: member.token,
        body: { rpm: 1 },
      });
      expect(refusedQuota.status).toBe(403);
      expectNoTrouble(trouble);
    },
    60_000,
  );

  browserIt(
    'an administrator sets quota limits, and sees the API refuse an invalid one',
    async () => {
      const project = await createProject(api, admin, 'quota-project');
      const { page, trouble } = await openConsole(browser!, t.url, '/console/projects', {
        // The refused limit is answered 400, which Chromium logs as a failed resource.
        expectedConsoleErrors: [/status of 400/],
      });
      await signInThroughUi(page, TEST_ADMIN.email, TEST_ADMIN.password);
      await page.getByRole('button', { name: 'Open quota-project' }).click();
      const form = page.locator('.quota-form');
      await form.waitFor();

      await form.getByLabel('Credits per day').fill('50');
      await form.getByLabel('Requests per minute, per key').fill('60');
      await form.getByRole('button', { name: 'Save limits' }).click();
      await form.getByRole('status').getByText('Limits saved.').waitFor();
      await page.getByRole('meter', { name: 'Today' }).waitFor();
      await page.getByText('0 of 50 credits').waitFor();
      const quota = await api.get<{ limits: Record<string, number | null> }>(`/projects/${project.id}/quota`, {
        token: admin,
      });
      expect(quota.body.limits).toEqual({ daily_credits: 50, monthly_credits: null, rpm: 60, tpm: null });

      await form.getByLabel('Credits per day').fill('-5');
      await form.getByRole('button', { name: 'Save limits' }).click();
      await form
        .getByRole('alert')
        .getByText(/daily_credits must not be less than 0/)
        .waitFor();
      await expect(form.getByRole('status').count()).resolves.toBe(0);
      const after = await api.get<{ limits: Record<string, number | null> }>(`/projects/${project.id}/quota`, {
        token: admin,
      });
      expect(after.body.limits.daily_credits).toBe(50);
      expectNoTrouble(trouble);
    },
    60_000,
  );
});
