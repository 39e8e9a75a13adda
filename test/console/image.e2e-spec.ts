import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { type Gateway, waitForLedger } from '../gateway/gateway-support';
import { browserTest, expectNoTrouble, launchBrowser } from '../support/browser';
import type { FakeUpstream } from '../support/fake-upstreams';
import { png } from '../support/images';
import type { TestUser } from '../support/fixtures';
import { openConsole, saveScreenshot, signInThroughUi } from './console-harness';
import { countRequests, type LlmPlayground, startLlmPlayground, statsOf } from './playground-support';

const browserIt = browserTest('the image analysis playground checks');

const MiB = 1024 * 1024;
const ROUTE = '/api/v1/image/analyze';

/** Whether an image URL still loads in the page (a revoked blob: URL does not). */
function loads(page: Page, url: string): Promise<string> {
  // Source text: the tests are typed for Node, not the DOM. An image, as the policy lets blob: images load.
  return page.evaluate(`new Promise((resolve) => {
    const image = new Image();
    image.onload = () => resolve('readable');
    image.onerror = () => resolve('released');
    image.src = ${JSON.stringify(url)};
  })`);
}

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

describe('the image analysis playground (/console/image, /avision)', () => {
  let playground: LlmPlayground;
  let upstream: FakeUpstream;
  let gw: Gateway;
  let user: TestUser;
  let projectId: string;
  let browser: Browser | undefined;
  let dir: string;
  const files = { photo: '', big: '', pdf: '' };
  let photo: Buffer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'conflux-images-'));
    photo = png(15 * MiB, 'gradient');
    files.photo = join(dir, 'photo.png');
    files.big = join(dir, 'big.png');
    files.pdf = join(dir, 'scan.png');
    writeFileSync(files.photo, photo);
    writeFileSync(files.big, png(17 * MiB));
    writeFileSync(files.pdf, Buffer.from('%PDF-1.7\n%âãÏÓ\n1 0 obj\n<<>>\nendobj\n'.repeat(200), 'latin1'));
    playground = await startLlmPlayground(['gpt-4o'], {
      text: 'A colour gradient from blue to pink.',
      usage: { input_tokens: 812, output_tokens: 9 },
    });
    ({ upstream, gw, user, projectId } = playground);
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await playground?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  browserIt(
    'opens at /avision, analyzes a 15 MB PNG, refuses a 17 MB one and a PDF named .png before any upload, takes a drop',
    async () => {
      const { page, trouble } = await openConsole(browser!, gw.t.url, '/avision', {
        // The probe of the released preview below fails to load, as it should.
        expectedConsoleErrors: [/net::ERR_FILE_NOT_FOUND/],
      });
      await signInThroughUi(page, user.email, user.password);
      await page.getByRole('heading', { name: 'Image analysis', level: 1 }).waitFor();
      const uploads = countRequests(page, ROUTE);
      const input = page.getByLabel('Image', { exact: true });
      const analyze = page.getByRole('button', { name: 'Analyze' });

      // 15 MB: previewed through a blob: URL, sent, answered with the route's metrics.
      await input.setInputFiles(files.photo);
      const preview = page.getByRole('img', { name: 'Preview of photo.png' });
      await preview.waitFor();
      const blobUrl = (await preview.getAttribute('src')) ?? '';
      expect(blobUrl).toMatch(/^blob:/);
      await page.getByLabel('Prompt').fill('What is in the picture?');
      await analyze.click();
      await page.getByText('A colour gradient from blue to pink.').waitFor();
      // The cost is the ledger's: 812 × 250 + 9 × 1000 micro-credits for gpt-4o.
      const [row] = await waitForLedger(gw.t.db.url, (r) => r.length === 1, 'project_id = $1', [projectId]);
      const credits = Number(row.micro_credits) / 1_000_000;
      expect(credits).toBe((812 * 250 + 9 * 1000) / 1_000_000);
      expect(await statsOf(page, 'Answer measurements')).toEqual({
        Model: 'gpt-4o',
        Provider: 'openai',
        'Cost (credits)': String(credits),
        'Input tokens': '812',
        'Generated tokens': '9',
        'Generation time': expect.stringMatching(/^[\d.]+ s$/),
        'Total time': expect.stringMatching(/^[\d.]+ s$/),
        'Tokens/s': expect.stringMatching(/^[\d,.]+$/),
      });
      expect(uploads.count).toBe(1);
      const sent = upstream.requestsTo('/chat/completions')[0].body as {
        messages: { content: ({ type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } })[] }[];
      };
      const [text, image] = sent.messages[0].content;
      expect(text).toEqual({ type: 'text', text: 'What is in the picture?' });
      const url = image.type === 'image_url' ? image.image_url.url : '';
      expect(url.startsWith('data:image/png;base64,')).toBe(true);
      expect(sha256(Buffer.from(url.slice(url.indexOf(',') + 1), 'base64'))).toBe(sha256(photo));
      await page.evaluate('window.scrollTo(0, 0)');
      await saveScreenshot(page, 'image');
      expect(await loads(page, blobUrl)).toBe('readable');

      // 17 MB: refused in the page with the replaced service's words; the previous preview is released.
      await input.setInputFiles(files.big);
      await page.getByRole('alert').getByText('File too large. Maximum size: 16 MB', { exact: true }).waitFor();
      await expect(preview.count()).resolves.toBe(0);
      expect(await analyze.isDisabled()).toBe(true);
      expect(await loads(page, blobUrl)).toBe('released');

      // A PDF named .png: told by its first bytes, as the server does.
      await input.setInputFiles(files.pdf);
      await page
        .getByRole('alert')
        .getByText(/^Unsupported image type: the file content is not PNG, JPEG/)
        .waitFor();
      expect(await analyze.isDisabled()).toBe(true);
      await analyze.click({ force: true }).catch(() => undefined);

      // An image dropped on the zone is taken as a chosen one.
      const dropped = png(4 * 1024, 'gradient').toString('base64');
      // Source text: the tests are typed for Node, not the DOM.
      const transfer = await page.evaluateHandle(`(() => {
        const bytes = Uint8Array.from(atob(${JSON.stringify(dropped)}), (c) => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], 'dropped.png', { type: 'image/png' }));
        return transfer;
      })()`);
      await page.getByText('Drop an image here').dispatchEvent('drop', { dataTransfer: transfer });
      await page.getByRole('img', { name: 'Preview of dropped.png' }).waitFor();
      await expect(page.getByRole('alert').count()).resolves.toBe(0);
      expect(await analyze.isEnabled()).toBe(true);

      expect(uploads.count).toBe(1);
      expect(upstream.requestsTo('/chat/completions')).toHaveLength(1);
      expectNoTrouble(trouble);
    },
  );
});
