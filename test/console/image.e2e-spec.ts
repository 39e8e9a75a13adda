import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import type { Browser, Page } from 'playwright-core';
import { Gateway, NO_RETRY, startGateway } from '../gateway/gateway-support';
import { browserTest, expectNoTrouble, launchBrowser } from '../support/browser';
import { FakeUpstream, startFakeUpstream } from '../support/fake-upstreams';
import type { TestUser } from '../support/fixtures';
import { openConsole, saveScreenshot, signInThroughUi } from './console-harness';
import { countRequests, playgroundUser, statsOf, VISIT_CONSOLE_ERRORS } from './playground-support';

const browserIt = browserTest('the image analysis playground checks');

const MiB = 1024 * 1024;
const ROUTE = '/api/v1/image/analyze';

function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** A real RGB PNG of about `size` bytes (stored, not compressed): a colour gradient, so it previews. */
function png(size: number): Buffer {
  const width = 1024;
  const row = 1 + 3 * width;
  const height = Math.max(1, Math.floor(size / row));
  const raw = Buffer.alloc(row * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      raw.set([x >> 2, (y * 255) / height, 160], y * row + 1 + 3 * x);
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8 bits, RGB, deflate, adaptive filtering, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(raw, { level: 0 })),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

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
  let upstream: FakeUpstream;
  let gw: Gateway;
  let user: TestUser;
  let browser: Browser | undefined;
  let dir: string;
  const files = { photo: '', big: '', pdf: '' };
  let photo: Buffer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'conflux-images-'));
    photo = png(15 * MiB);
    files.photo = join(dir, 'photo.png');
    files.big = join(dir, 'big.png');
    files.pdf = join(dir, 'scan.png');
    writeFileSync(files.photo, photo);
    writeFileSync(files.big, png(17 * MiB));
    writeFileSync(files.pdf, Buffer.from('%PDF-1.7\n%âãÏÓ\n1 0 obj\n<<>>\nendobj\n'.repeat(200), 'latin1'));
    upstream = await startFakeUpstream('openai', {
      models: ['gpt-4o'],
      reply: { text: 'A colour gradient from blue to pink.', usage: { input_tokens: 812, output_tokens: 9 } },
    });
    gw = await startGateway({
      providers: [{ id: 'openai', kind: 'openai', base_url: upstream.baseUrl, models: ['gpt-4o'], retry: NO_RETRY }],
    });
    ({ user } = await playgroundUser(gw.api, gw.adminToken));
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await gw?.close();
    await upstream?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  browserIt(
    'opens at /avision, analyzes a 15 MB PNG, and refuses a 17 MB one and a PDF named .png before any upload',
    async () => {
      const { page, trouble } = await openConsole(browser!, gw.t.url, '/avision', {
        // The probe of the released preview below fails to load, as it should.
        expectedConsoleErrors: [...VISIT_CONSOLE_ERRORS, /net::ERR_FILE_NOT_FOUND/],
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
      expect(await statsOf(page, 'Answer measurements')).toEqual({
        Model: 'gpt-4o',
        Provider: 'openai',
        'Cost (credits)': '—',
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

      expect(uploads.count).toBe(1);
      expect(upstream.requestsTo('/chat/completions')).toHaveLength(1);
      expectNoTrouble(trouble);
    },
  );
});
