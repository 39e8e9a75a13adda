import Anthropic from '@anthropic-ai/sdk';
import { countChatTokens } from '../../src/metering/tokenizer';
import { canonicalFromAnthropic, canonicalTools } from '../../src/llm/formats/anthropic.format';
import type { AnthropicMessageDto } from '../../src/llm/dto/messages.dto';
import { FakeUpstream, startFakeUpstream } from '../support/fake-upstreams';
import { Gateway, NO_RETRY, startGateway } from './gateway-support';
import { WEATHER_TOOL } from './weather-tool';

const MODEL = 'claude-3-haiku-20240307';

/**
 * `POST /v1/messages/count_tokens` through the official Anthropic SDK: the gateway's own estimate of a
 * message's input (the one its budget hold uses), with no upstream call.
 */
describe('Anthropic token counting', () => {
  let fake: FakeUpstream;
  let gw: Gateway;
  let anthropic: Anthropic;

  beforeAll(async () => {
    fake = await startFakeUpstream('anthropic', { models: [MODEL] });
    gw = await startGateway({
      providers: [{ id: 'anthropic-a', kind: 'anthropic', base_url: fake.baseUrl, models: [MODEL], retry: NO_RETRY }],
    });
    anthropic = new Anthropic({ apiKey: gw.apiKey, baseURL: gw.t.url, maxRetries: 0 });
  });

  afterAll(async () => {
    await gw?.close();
    await fake?.close();
  });

  it('counts the system, messages and tools as the budget hold does, without calling the upstream', async () => {
    const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'What is the weather in Oslo today?' }];
    const system = 'You are a terse weather bot.';
    const plain = await anthropic.messages.countTokens({ model: MODEL, system, messages });
    const withTool = await anthropic.messages.countTokens({
      model: 'claude-3-haiku',
      system,
      messages,
      tools: [WEATHER_TOOL],
    });
    const expected = (tools?: Anthropic.Tool[]): number =>
      countChatTokens(
        canonicalFromAnthropic({ system, messages: messages as AnthropicMessageDto[] }),
        MODEL,
        canonicalTools(tools as never),
      );
    expect(plain.input_tokens).toBe(expected());
    expect(withTool.input_tokens).toBe(expected([WEATHER_TOOL]));
    expect(withTool.input_tokens).toBeGreaterThan(plain.input_tokens);
    expect(fake.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
  });

  it('answers an unknown model 404 not_found_error and a bad body 400 invalid_request_error', async () => {
    await expect(
      anthropic.messages.countTokens({ model: 'no-such-model', messages: [{ role: 'user', content: 'Hi' }] }),
    ).rejects.toBeInstanceOf(Anthropic.NotFoundError);
    const bad = await anthropic.messages.countTokens({ model: MODEL, messages: [] }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(bad).toBeInstanceOf(Anthropic.BadRequestError);
    expect(bad).toMatchObject({ status: 400, type: 'invalid_request_error' });
  });

  it('refuses an anonymous caller with 401 authentication_error', async () => {
    const res = await gw.api.post('/v1/messages/count_tokens', {
      model: MODEL,
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
  });
});
