import { Client } from 'pg';
import OpenAI from 'openai';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstreams';
import { Gateway, NO_RETRY, startGateway } from './gateway-support';

interface DetailRow {
  input_tokens: number;
  output_tokens: number;
  cached_input_tokens: number;
  cache_write_input_tokens: number;
  reasoning_tokens: number;
  micro_credits: string;
}

async function detailRows(url: string): Promise<DetailRow[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const res = await client.query<DetailRow>(
      `SELECT input_tokens, output_tokens, cached_input_tokens, cache_write_input_tokens, reasoning_tokens,
              micro_credits::text AS micro_credits
         FROM usage_ledger WHERE attempt = 1 ORDER BY id`,
    );
    return res.rows;
  } finally {
    await client.end();
  }
}

async function waitForRows(url: string, count: number): Promise<DetailRow[]> {
  const deadline = Date.now() + 10_000;
  let rows = await detailRows(url);
  while (rows.length < count && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    rows = await detailRows(url);
  }
  return rows;
}

/** Cached input and reasoning tokens, read from each kind, priced at their own prices and kept in the ledger. */
describe('usage details: cached and reasoning tokens', () => {
  let openaiUp: FakeUpstream;
  let anthropicUp: FakeUpstream;
  let gw: Gateway;
  let client: OpenAI;

  beforeAll(async () => {
    openaiUp = await startFakeUpstream('openai');
    anthropicUp = await startFakeUpstream('anthropic');
    gw = await startGateway({
      providers: [
        { id: 'oa', kind: 'openai', base_url: openaiUp.baseUrl, models: ['gpt-4o'], retry: NO_RETRY },
        { id: 'an', kind: 'anthropic', base_url: anthropicUp.baseUrl, models: ['claude-3-haiku'], retry: NO_RETRY },
      ],
    });
    client = new OpenAI({ apiKey: gw.apiKey, baseURL: `${gw.t.url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw?.close();
    await openaiUp?.close();
    await anthropicUp?.close();
  });

  it('an OpenAI-kind upstream: cached tokens at the cache price, reasoning tokens billed once as output', async () => {
    openaiUp.reply.usage = { input_tokens: 1000, output_tokens: 500 };
    openaiUp.reply.openai = { cachedTokens: 800, reasoningTokens: 300 };
    const answer = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 600,
    });
    expect(answer.usage).toMatchObject({
      prompt_tokens: 1000,
      completion_tokens: 500,
      prompt_tokens_details: { cached_tokens: 800 },
      completion_tokens_details: { reasoning_tokens: 300 },
    });
    const [row] = await waitForRows(gw.t.db.url, 1);
    expect(row).toMatchObject({
      input_tokens: 1000,
      output_tokens: 500,
      cached_input_tokens: 800,
      cache_write_input_tokens: 0,
      reasoning_tokens: 300,
    });
    // gpt-4o: input 2.50, cached input 1.25, output 10 USD per 1M; 100 credits per USD.
    const usd = (200 * 2.5 + 800 * 1.25 + 500 * 10) / 1e6;
    expect(Number(row.micro_credits)).toBe(Math.round(usd * 100 * 1e6));
  });

  it('an Anthropic upstream: cache reads and writes counted as input and priced on their own', async () => {
    anthropicUp.reply.usage = { input_tokens: 100, output_tokens: 50 };
    anthropicUp.reply.anthropic = { cacheRead: 2000, cacheWrite: 400 };
    const answer = await client.chat.completions.create({
      model: 'claude-3-haiku',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 100,
    });
    expect(answer.usage).toMatchObject({
      prompt_tokens: 2500,
      completion_tokens: 50,
      prompt_tokens_details: { cached_tokens: 2000 },
    });
    const rows = await waitForRows(gw.t.db.url, 2);
    expect(rows[1]).toMatchObject({
      input_tokens: 2500,
      output_tokens: 50,
      cached_input_tokens: 2000,
      cache_write_input_tokens: 400,
      reasoning_tokens: 0,
    });
    // claude-3-haiku: input 0.25, cache read 0.03, cache write 0.30, output 1.25 USD per 1M.
    const usd = (100 * 0.25 + 2000 * 0.03 + 400 * 0.3 + 50 * 1.25) / 1e6;
    expect(Number(rows[1].micro_credits)).toBe(Math.round(usd * 100 * 1e6));
  });
});
