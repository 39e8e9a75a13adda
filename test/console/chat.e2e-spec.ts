import type { Browser, Page } from 'playwright-core';
import { type Gateway, waitForLedger } from '../gateway/gateway-support';
import { browserTest, expectNoTrouble, launchBrowser } from '../support/browser';
import type { FakeUpstream } from '../support/fake-upstreams';
import type { TestUser } from '../support/fixtures';
import { openConsole, saveScreenshot, signInThroughUi } from './console-harness';
import { type LlmPlayground, startLlmPlayground, statsOf, waitUntil } from './playground-support';

const browserIt = browserTest('the chat playground checks');

const ANSWER = 'one two three four five six seven eight';

interface SentChat {
  model: string;
  stream: boolean;
  stream_options: { include_usage: boolean };
  temperature: number;
  max_tokens: number;
  messages: { role: string; content: string }[];
}

describe('the chat playground (/console/chat, /avibe)', () => {
  let playground: LlmPlayground;
  let upstream: FakeUpstream;
  let gw: Gateway;
  let user: TestUser;
  let projectId: string;
  let browser: Browser | undefined;

  beforeAll(async () => {
    playground = await startLlmPlayground(['gpt-4o-mini', 'gpt-4o', 'text-embedding-3-small']);
    ({ upstream, gw, user, projectId } = playground);
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await playground?.close();
  });

  beforeEach(() => upstream.reset());

  const chats = (): SentChat[] => upstream.requestsTo('/chat/completions').map((r) => r.body as SentChat);
  const message = (page: Page) => page.getByLabel('Message');
  const conversation = (page: Page) => page.getByRole('log', { name: 'Conversation' });

  async function send(page: Page, text: string): Promise<void> {
    await message(page).fill(text);
    await page.getByRole('button', { name: 'Send' }).click();
  }

  browserIt(
    'opens at /avibe, streams an answer as it comes, and shows its model, provider, cost, tokens, latency and speed',
    async () => {
      upstream.reply = {
        ...upstream.reply,
        text: ANSWER,
        usage: { input_tokens: 20, output_tokens: 8 },
        chunkDelayMs: 150,
      };
      const { page, trouble } = await openConsole(browser!, gw.t.url, '/avibe');
      await signInThroughUi(page, user.email, user.password);
      await page.getByRole('heading', { name: 'Chat', level: 1 }).waitFor();

      // The chat models the gateway serves (not its embeddings model), and auto.
      const options = page.getByLabel('Model').locator('option');
      await waitUntil(async () => (await options.count()) > 1, 'the model list');
      expect((await options.allTextContents()).sort()).toEqual(['auto (routed by strategy)', 'gpt-4o', 'gpt-4o-mini']);
      await page.getByLabel('Model').selectOption('auto');
      await page.getByLabel('Strategy').selectOption('cost_optimized');
      await page.getByLabel('System prompt').fill('Answer briefly.');
      await send(page, 'Count to eight.');

      // Seen part-way: the first words are on the page before the last one arrived.
      await waitUntil(async () => {
        const text = (await conversation(page).textContent()) ?? '';
        return text.includes('one two') && !text.includes('seven');
      }, 'part of the answer on the page');
      await conversation(page).getByText(ANSWER).waitFor();
      const stats = await statsOf(page, 'Answer 1 measurements');
      // The cost is the ledger's, to the micro-credit: 20 × 15 + 8 × 60 micro-credits for gpt-4o-mini.
      const [row] = await waitForLedger(gw.t.db.url, (r) => r.length === 1, 'project_id = $1', [projectId]);
      expect(Number(row.micro_credits)).toBe(20 * 15 + 8 * 60);
      expect(stats).toEqual({
        Model: 'gpt-4o-mini',
        Provider: 'openai',
        'Cost (credits)': String(Number(row.micro_credits) / 1_000_000),
        'Prompt tokens': '20',
        'Completion tokens': '8',
        'First token': expect.stringMatching(/^[\d,.]+ (ms|s)$/),
        'Total time': expect.stringMatching(/^[\d,.]+ s$/),
        'Tokens/s': expect.stringMatching(/^[\d.]+$/),
      });
      // 8 tokens over more than the 7 pauses of 150 ms between the chunks.
      expect(Number(stats['Tokens/s'])).toBeGreaterThan(0);
      expect(Number(stats['Tokens/s'])).toBeLessThan(8 / 1.05);
      expect(await message(page).inputValue()).toBe('');
      expect(chats()).toEqual([
        expect.objectContaining({
          model: 'gpt-4o-mini',
          stream: true,
          temperature: 0.7,
          max_tokens: 256,
          messages: [
            { role: 'system', content: 'Answer briefly.' },
            { role: 'user', content: 'Count to eight.' },
          ],
        }),
      ]);

      // The next turn carries the conversation.
      upstream.reply = { ...upstream.reply, text: 'eight seven six', chunkDelayMs: 0 };
      await send(page, 'And back?');
      await statsOf(page, 'Answer 2 measurements');
      expect(chats()[1].messages).toEqual([
        { role: 'system', content: 'Answer briefly.' },
        { role: 'user', content: 'Count to eight.' },
        { role: 'assistant', content: ANSWER },
        { role: 'user', content: 'And back?' },
      ]);
      await saveScreenshot(page, 'chat');
      expectNoTrouble(trouble);
    },
  );

  browserIt(
    'stops an answer on Stop, and explains a spent budget and a rate limit without losing the prompt',
    async () => {
      upstream.reply = { ...upstream.reply, text: 'a b c d e f g h i j k l m n o p', chunkDelayMs: 300 };
      const { page, trouble } = await openConsole(browser!, gw.t.url, '/console/chat', {
        // Chromium logs each refused request as a failed resource.
        expectedConsoleErrors: [/status of 402/, /status of 429/],
      });
      await signInThroughUi(page, user.email, user.password);
      await page.getByRole('heading', { name: 'Chat', level: 1 }).waitFor();

      await send(page, 'Say the alphabet.');
      await conversation(page).getByText('a b', { exact: false }).waitFor();
      await page.getByRole('button', { name: 'Stop' }).click();
      await conversation(page).getByText('Stopped before the end.').waitFor();
      await upstream.requestsTo('/chat/completions')[0].aborted;
      expect(await conversation(page).textContent()).not.toContain(' p');

      // A spent budget: 402, said with what to do; the prompt stays typed, the conversation as it was.
      const put = await gw.api.request('PUT', `/projects/${projectId}/quota`, {
        token: gw.adminToken,
        body: { daily_credits: 0 },
      });
      expect(put.status).toBe(200);
      await send(page, 'Over budget?');
      const refusal = page.getByRole('alert');
      await refusal.getByText(/budget is spent/).waitFor();
      expect(await message(page).inputValue()).toBe('Over budget?');
      expect(await conversation(page).getByRole('listitem').count()).toBe(2);

      // A rate limit: the wait the answer asks for is said.
      await page.route('**/v1/chat/completions', (route) =>
        route.fulfill({
          status: 429,
          headers: { 'content-type': 'application/json', 'retry-after': '7' },
          body: JSON.stringify({
            error: { message: 'Rate limit exceeded', type: 'rate_limit_error', param: null, code: 'rate_limited' },
            request_id: 'req-429',
          }),
        }),
      );
      await page.getByRole('button', { name: 'Send' }).click();
      await refusal.getByText('Too many requests: try again in 7 s.').waitFor();
      expect(await refusal.textContent()).toContain('Rate limit exceeded');
      expect(await message(page).inputValue()).toBe('Over budget?');
      expect(await conversation(page).getByRole('listitem').count()).toBe(2);
      expectNoTrouble(trouble);

      await gw.api.request('PUT', `/projects/${projectId}/quota`, {
        token: gw.adminToken,
        body: { daily_credits: null },
      });
    },
  );
});
