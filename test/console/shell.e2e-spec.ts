import type { Browser } from 'playwright-core';
import { startApp, TEST_ADMIN, type TestApp } from '../support/app';
import { browserTest, expectNoTrouble, launchBrowser } from '../support/browser';
import { Api } from '../support/http';
import { openConsole, PHONE, saveScreenshot, signInThroughUi } from './console-harness';

const browserIt = browserTest('the console shell checks');

/** The console's page paths: its own, and the replaced service's forms. */
const PAGE_PATHS = ['/console', '/console/', '/console/usage', '/console/no-such-page', '/avibe', '/avision'];

describe('the web console: serving, policy and session', () => {
  let t: TestApp;
  let api: Api;
  let browser: Browser | undefined;

  beforeAll(async () => {
    t = await startApp();
    api = new Api(t.url);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('answers every console path with the page, not cached, under a policy without unsafe-inline', async () => {
    for (const path of PAGE_PATHS) {
      const res = await fetch(`${t.url}${path}`);
      const body = await res.text();
      expect({ path, status: res.status, type: res.headers.get('content-type') }).toEqual({
        path,
        status: 200,
        type: 'text/html; charset=utf-8',
      });
      expect(body).toContain('<div id="app"></div>');
      expect(res.headers.get('cache-control')).toBe('no-cache');
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("style-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).not.toContain('unsafe-eval');
      // No inline script at all: every script is a file of the console's.
      expect(body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    }
  });

  it('serves the hashed assets cached for a year, and 404s an unknown one', async () => {
    const page = await (await fetch(`${t.url}/console/`)).text();
    const assets = [...page.matchAll(/(?:src|href)="(\/console\/assets\/[^"]+)"/g)].map((m) => m[1]);
    expect(assets.length).toBeGreaterThanOrEqual(2);
    for (const asset of assets) {
      expect(asset).toMatch(/-[A-Za-z0-9_-]{8}\.(js|css|svg)$/);
      const res = await fetch(`${t.url}${asset}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    }
    const missing = await api.get('/console/assets/index-00000000.js');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ error: 'not_found' });
  });

  it('answers a wrong method on a console path 405 with Allow', async () => {
    const res = await api.post('/console/usage', {});
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
  });

  it('keeps the API policy on API answers', async () => {
    const res = await api.get('/health/live');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
  });

  browserIt(
    'signs in, keeps the session across a reload through the HttpOnly cookie only, and signs out',
    async () => {
      const { page, trouble } = await openConsole(browser!, t.url, '/console/', {
        // The wrong password below is answered 401, which Chromium logs as a failed resource.
        expectedConsoleErrors: [/status of 401/],
      });
      await page.getByRole('heading', { name: 'Conflux' }).waitFor();
      await saveScreenshot(page, 'sign-in');

      await page.getByLabel('Email').fill(TEST_ADMIN.email);
      await page.getByLabel('Password').fill('not-the-password');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page
        .getByRole('alert')
        .getByText(/invalid email or password/i)
        .waitFor();

      await signInThroughUi(page, TEST_ADMIN.email, TEST_ADMIN.password);
      await page.getByText(TEST_ADMIN.email).waitFor();

      // Neither token is readable by the page's scripts or kept in storage.
      // Source text: the tests are typed for Node, not the DOM.
      const exposed: { cookie: string; storage: string } = await page.evaluate(`({
        cookie: document.cookie,
        storage: [localStorage, sessionStorage]
          .flatMap((store) => Object.keys(store).map((key) => store.getItem(key)))
          .join(' '),
      })`);
      expect(exposed.cookie).toBe('');
      expect(exposed.storage).not.toMatch(/eyJ|cfx_/);
      const cookies = await page.context().cookies();
      expect(cookies.map((c) => ({ ...c, value: '', expires: 0 }))).toEqual([
        expect.objectContaining({ path: '/auth/session', httpOnly: true, secure: true, sameSite: 'Strict' }),
      ]);

      await page.reload();
      await page.getByRole('navigation', { name: 'Console' }).waitFor();
      await page.getByText(TEST_ADMIN.email).waitFor();

      const oldCookie = (await page.context().cookies())[0];
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('button', { name: 'Sign in' }).waitFor();
      await page.reload();
      await page.getByRole('button', { name: 'Sign in' }).waitFor();
      // The session is revoked on the server, not only forgotten by the page.
      const replay = await fetch(`${t.url}/auth/session/refresh`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie: `${oldCookie.name}=${oldCookie.value}` },
        body: '{}',
      });
      expect(replay.status).toBe(401);
      expectNoTrouble(trouble);
    },
    60_000,
  );

  browserIt(
    'an expired session asks for the password again over the page, keeps what was typed and finishes the action',
    async () => {
      const { page, trouble } = await openConsole(browser!, t.url, '/console/projects', {
        // The call made after the session ended is refused once (then resumed), as is the refresh.
        expectedConsoleErrors: [/status of 401/],
      });
      await signInThroughUi(page, TEST_ADMIN.email, TEST_ADMIN.password);
      await page.getByLabel('Project name').fill('typed before expiry');
      // The session ends behind the page's back (another tab signed out, or the session expired).
      const ended: number = await page.evaluate(
        `fetch('/auth/session', { method: 'DELETE', headers: { 'Content-Type': 'application/json' } }).then((r) => r.status)`,
      );
      expect(ended).toBe(204);
      await page.getByRole('button', { name: 'Create project' }).click();
      const dialog = page.getByRole('dialog', { name: 'Your session expired' });
      await dialog.waitFor();
      await expect(dialog.getByLabel('Email').inputValue()).resolves.toBe(TEST_ADMIN.email);
      await dialog.getByLabel('Password').fill(TEST_ADMIN.password);
      await dialog.getByRole('button', { name: 'Sign in and continue' }).click();
      await dialog.waitFor({ state: 'detached' });
      // The waiting call ran once more with the new session: the project exists, once.
      await page.getByRole('table', { name: 'Projects' }).getByText('typed before expiry').waitFor();
      const token = (await api.login(TEST_ADMIN.email, TEST_ADMIN.password)).access_token;
      const projects = await api.get<Array<{ name: string }>>('/projects', { token });
      expect(projects.body.filter((p) => p.name === 'typed before expiry')).toHaveLength(1);
      expectNoTrouble(trouble);
    },
    60_000,
  );

  browserIt(
    'works at phone width: the navigation opens from the menu button and nothing overflows',
    async () => {
      const { page, trouble } = await openConsole(browser!, t.url, '/console/', { viewport: PHONE });
      await signInThroughUi(page, TEST_ADMIN.email, TEST_ADMIN.password);
      // At phone width the navigation is hidden until the menu opens.
      await expect(page.getByRole('navigation', { name: 'Console' }).isVisible()).resolves.toBe(false);
      const menu = page.getByRole('button', { name: 'Menu' });
      await expect(menu.getAttribute('aria-expanded')).resolves.toBe('false');
      await menu.click();
      await expect(menu.getAttribute('aria-expanded')).resolves.toBe('true');
      await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Usage' }).click();
      await expect(menu.getAttribute('aria-expanded')).resolves.toBe('false');
      await page.waitForURL(/\/console\/usage$/);
      const overflow: number = await page.evaluate('document.documentElement.scrollWidth - window.innerWidth');
      expect(overflow).toBeLessThanOrEqual(0);
      expectNoTrouble(trouble);
    },
    60_000,
  );

  browserIt(
    'a browser asking for / is sent to the console; /avibe and /avision open their forms',
    async () => {
      const { page, trouble } = await openConsole(browser!, t.url, '/');
      await page.waitForURL(`${t.url}/console/`);
      await signInThroughUi(page, TEST_ADMIN.email, TEST_ADMIN.password);
      for (const [path, title] of [
        ['/avibe', 'Chat'],
        ['/avision', 'Image analysis'],
      ]) {
        await page.goto(`${t.url}${path}`);
        await page.getByRole('heading', { level: 1, name: title }).waitFor();
        const current = page.getByRole('navigation', { name: 'Console' }).locator('[aria-current="page"]');
        await expect(current.textContent()).resolves.toBe(title);
      }
      expectNoTrouble(trouble);
    },
    60_000,
  );
});
