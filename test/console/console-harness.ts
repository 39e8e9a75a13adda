import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { type PageTrouble, watchedPage, type WatchedPageOptions } from '../support/browser';

/**
 * When set, the console tests save a screenshot of each page they check into this folder
 * (`npm run console:screenshots` sets it to the README's screenshots folder).
 */
const SCREENSHOTS_DIR = process.env.CONSOLE_SCREENSHOTS_DIR && resolve(process.env.CONSOLE_SCREENSHOTS_DIR);

/** The widths the console is checked at: a laptop and a phone. */
export const LAPTOP = { width: 1280, height: 860 };
export const PHONE = { width: 390, height: 844 };

/** Opens a console path in a fresh browser context (no cookie, no storage). */
export async function openConsole(
  browser: Browser,
  baseUrl: string,
  path = '/console/',
  options: WatchedPageOptions = {},
): Promise<{ page: Page; trouble: PageTrouble }> {
  const watched = await watchedPage(browser, { viewport: LAPTOP, ...options });
  await watched.page.goto(`${baseUrl}${path}`);
  return watched;
}

/** Signs in through the sign-in page and waits for the console's shell. */
export async function signInThroughUi(page: Page, email: string, password: string): Promise<void> {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  // The shell's top bar (the navigation itself is behind the menu button at phone width).
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/** Goes to a console page through the navigation (no reload: the session stays in memory). */
export async function navigateTo(page: Page, linkName: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: linkName, exact: true }).click();
}

/** Saves a screenshot named `name` when CONSOLE_SCREENSHOTS_DIR is set. */
export async function saveScreenshot(page: Page, name: string): Promise<void> {
  if (!SCREENSHOTS_DIR) return;
  mkdirSync(SCREENSHOTS_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS_DIR, `${name}.png`), fullPage: false });
}
