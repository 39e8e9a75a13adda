import { ANSWER_TOOL_NAME } from '../../src/providers/kinds/anthropic/anthropic.mapper';
import { FakeKind, FakeUpstream, startFakeUpstream } from '../support/fake-upstreams';
import { Gateway, NO_RETRY, startGateway } from './gateway-support';

const KINDS = ['openai', 'anthropic', 'ollama'] as const;

/** The model each fake serves. */
const MODEL: Record<FakeKind, string> = {
  openai: 'gpt-4o-mini',
  anthropic: 'claude-3-haiku-20240307',
  ollama: 'llama3.1:8b',
};

/** claude-3-haiku-20240307's max_output_tokens in the built-in catalog. */
const HAIKU_MAX_OUTPUT = 4_096;

/**
 * What one kind does with a parameter: the upstream body carries `value` at `path` (a dotted
 * path, in the kind's own field), or the gateway refuses with a 400 naming `name` and the kind.
 */
type Outcome = { path: string; value: unknown } | { refused: string };

const sent = (path: string, value: unknown): Outcome => ({ path, value });
const refused = (name: string): Outcome => ({ refused: name });

interface Row {
  /** What the client sets (merged into the request body). */
  params: Record<string, unknown>;
  outcome: Record<FakeKind, Outcome>;
}

const WEATHER = {
  type: 'function',
  function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
};
const SCHEMA = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };

/** Every OpenAI Chat parameter, through /v1/chat/completions, to every kind. */
const OPENAI_ROWS: Record<string, Row> = {
  seed: {
    params: { seed: 7 },
    outcome: { openai: sent('seed', 7), anthropic: refused('seed'), ollama: sent('options.seed', 7) },
  },
  presence_penalty: {
    params: { presence_penalty: 0.5 },
    outcome: {
      openai: sent('presence_penalty', 0.5),
      anthropic: refused('presence_penalty'),
      ollama: sent('options.presence_penalty', 0.5),
    },
  },
  frequency_penalty: {
    params: { frequency_penalty: 0.25 },
    outcome: {
      openai: sent('frequency_penalty', 0.25),
      anthropic: refused('frequency_penalty'),
      ollama: sent('options.frequency_penalty', 0.25),
    },
  },
  logit_bias: {
    params: { logit_bias: { '50256': -100 } },
    outcome: {
      openai: sent('logit_bias', { '50256': -100 }),
      anthropic: refused('logit_bias'),
      ollama: refused('logit_bias'),
    },
  },
  logprobs: {
    params: { logprobs: true },
    outcome: { openai: sent('logprobs', true), anthropic: refused('logprobs'), ollama: refused('logprobs') },
  },
  top_logprobs: {
    params: { top_logprobs: 3 },
    outcome: { openai: sent('top_logprobs', 3), anthropic: refused('top_logprobs'), ollama: refused('top_logprobs') },
  },
  n: {
    params: { n: 2 },
    outcome: { openai: refused('n'), anthropic: refused('n'), ollama: refused('n') },
  },
  user: {
    params: { user: 'user-42' },
    outcome: {
      openai: sent('user', 'user-42'),
      anthropic: sent('metadata.user_id', 'user-42'),
      ollama: refused('user'),
    },
  },
  metadata: {
    params: { metadata: { team: 'search' } },
    outcome: {
      openai: sent('metadata', { team: 'search' }),
      anthropic: refused('metadata'),
      ollama: refused('metadata'),
    },
  },
  store: {
    params: { store: true },
    outcome: { openai: sent('store', true), anthropic: refused('store'), ollama: refused('store') },
  },
  service_tier: {
    params: { service_tier: 'auto' },
    outcome: {
      openai: sent('service_tier', 'auto'),
      anthropic: sent('service_tier', 'auto'),
      ollama: refused('service_tier'),
    },
  },
  reasoning_effort: {
    params: { reasoning_effort: 'low' },
    outcome: {
      openai: sent('reasoning_effort', 'low'),
      anthropic: sent('thinking', { type: 'enabled', budget_tokens: 1024 }),
      ollama: sent('think', 'low'),
    },
  },
  max_completion_tokens: {
    params: { max_completion_tokens: 77 },
    // The catalog says gpt-4o-mini takes max_tokens.
    outcome: {
      openai: sent('max_tokens', 77),
      anthropic: sent('max_tokens', 77),
      ollama: sent('options.num_predict', 77),
    },
  },
  modalities: {
    params: { modalities: ['text', 'audio'] },
    outcome: {
      openai: sent('modalities', ['text', 'audio']),
      anthropic: refused('modalities'),
      ollama: refused('modalities'),
    },
  },
  prediction: {
    params: { prediction: { type: 'content', content: 'It is sunny.' } },
    outcome: {
      openai: sent('prediction', { type: 'content', content: 'It is sunny.' }),
      anthropic: refused('prediction'),
      ollama: refused('prediction'),
    },
  },
  stream_options: {
    // Anthropic and Ollama streams always report usage: streaming is what they are asked for.
    params: { stream: true, stream_options: { include_usage: true } },
    outcome: {
      openai: sent('stream_options', { include_usage: true }),
      anthropic: sent('stream', true),
      ollama: sent('stream', true),
    },
  },
  tools: {
    params: { tools: [WEATHER] },
    outcome: {
      openai: sent('tools', [WEATHER]),
      anthropic: sent('tools', [{ name: 'get_weather', input_schema: WEATHER.function.parameters }]),
      ollama: sent('tools', [WEATHER]),
    },
  },
  tool_choice: {
    params: { tools: [WEATHER], tool_choice: 'required' },
    outcome: {
      openai: sent('tool_choice', 'required'),
      anthropic: sent('tool_choice', { type: 'any' }),
      ollama: refused('tool_choice'),
    },
  },
  'tool_choice (named)': {
    params: { tools: [WEATHER], tool_choice: { type: 'function', function: { name: 'get_weather' } } },
    outcome: {
      openai: sent('tool_choice', { type: 'function', function: { name: 'get_weather' } }),
      anthropic: sent('tool_choice', { type: 'tool', name: 'get_weather' }),
      ollama: refused('tool_choice'),
    },
  },
  parallel_tool_calls: {
    params: { tools: [WEATHER], parallel_tool_calls: false },
    outcome: {
      openai: sent('parallel_tool_calls', false),
      anthropic: sent('tool_choice', { type: 'auto', disable_parallel_tool_use: true }),
      ollama: refused('parallel_tool_calls'),
    },
  },
  'response_format json_object': {
    params: { response_format: { type: 'json_object' } },
    outcome: {
      openai: sent('response_format', { type: 'json_object' }),
      anthropic: sent('tool_choice', { type: 'tool', name: ANSWER_TOOL_NAME }),
      ollama: sent('format', 'json'),
    },
  },
  'response_format json_schema': {
    params: { response_format: { type: 'json_schema', json_schema: { name: 'city', schema: SCHEMA, strict: true } } },
    outcome: {
      openai: sent('response_format', {
        type: 'json_schema',
        json_schema: { name: 'city', schema: SCHEMA, strict: true },
      }),
      anthropic: sent('tools', [expect.objectContaining({ name: ANSWER_TOOL_NAME, input_schema: SCHEMA })]),
      ollama: sent('format', SCHEMA),
    },
  },
  'top_k (vLLM)': {
    // Not OpenAI's, but vLLM's, Anthropic's and Ollama's: each gets it in its own field.
    params: { top_k: 40 },
    outcome: { openai: sent('top_k', 40), anthropic: sent('top_k', 40), ollama: sent('options.top_k', 40) },
  },
  'min_p (an unknown vLLM extra)': {
    params: { min_p: 0.05 },
    outcome: { openai: sent('min_p', 0.05), anthropic: refused('min_p'), ollama: refused('min_p') },
  },
};

const SYSTEM_BLOCKS = [
  { type: 'text', text: 'You are terse.' },
  { type: 'text', text: 'A long cached preamble.', cache_control: { type: 'ephemeral' } },
];

/** Every Anthropic parameter, through /v1/messages, to every kind. */
const ANTHROPIC_ROWS: Record<string, Row> = {
  'system (string)': {
    params: { system: 'Be brief.' },
    outcome: {
      openai: sent('messages.0', { role: 'system', content: 'Be brief.' }),
      anthropic: sent('system', 'Be brief.'),
      ollama: sent('messages.0', { role: 'system', content: 'Be brief.' }),
    },
  },
  'system (blocks)': {
    params: { system: SYSTEM_BLOCKS },
    // The cache breakpoint is Anthropic's; the other kinds get the text.
    outcome: {
      openai: sent('messages.0', {
        role: 'system',
        content: [
          { type: 'text', text: 'You are terse.' },
          { type: 'text', text: 'A long cached preamble.' },
        ],
      }),
      anthropic: sent('system', SYSTEM_BLOCKS),
      ollama: sent('messages.0', { role: 'system', content: 'You are terse.\nA long cached preamble.' }),
    },
  },
  stop_sequences: {
    params: { stop_sequences: ['END'] },
    outcome: {
      openai: sent('stop', ['END']),
      anthropic: sent('stop_sequences', ['END']),
      ollama: sent('options.stop', ['END']),
    },
  },
  top_k: {
    params: { top_k: 5 },
    outcome: { openai: sent('top_k', 5), anthropic: sent('top_k', 5), ollama: sent('options.top_k', 5) },
  },
  metadata: {
    params: { metadata: { user_id: 'user-42' } },
    // Anthropic's metadata.user_id is OpenAI's `user`, which Ollama has no place for.
    outcome: {
      openai: sent('user', 'user-42'),
      anthropic: sent('metadata', { user_id: 'user-42' }),
      ollama: refused('user'),
    },
  },
  thinking: {
    params: { thinking: { type: 'enabled', budget_tokens: 1024 } },
    outcome: {
      openai: refused('thinking'),
      anthropic: sent('thinking', { type: 'enabled', budget_tokens: 1024 }),
      ollama: sent('think', true),
    },
  },
  cache_control: {
    params: {
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello', cache_control: { type: 'ephemeral' } }] }],
    },
    // A caching hint: OpenAI-kind servers cache on their own, Ollama keeps the model loaded.
    outcome: {
      openai: sent('messages.0', { role: 'user', content: [{ type: 'text', text: 'Hello' }] }),
      anthropic: sent('messages.0', {
        role: 'user',
        content: [{ type: 'text', text: 'Hello', cache_control: { type: 'ephemeral' } }],
      }),
      ollama: sent('messages.0', { role: 'user', content: 'Hello' }),
    },
  },
  service_tier: {
    params: { service_tier: 'auto' },
    outcome: {
      openai: sent('service_tier', 'auto'),
      anthropic: sent('service_tier', 'auto'),
      ollama: refused('service_tier'),
    },
  },
  'tool_choice any': {
    params: { tools: [{ name: 'get_weather', input_schema: { type: 'object' } }], tool_choice: { type: 'any' } },
    outcome: {
      openai: sent('tool_choice', 'required'),
      anthropic: sent('tool_choice', { type: 'any' }),
      ollama: refused('tool_choice'),
    },
  },
  disable_parallel_tool_use: {
    params: {
      tools: [{ name: 'get_weather', input_schema: { type: 'object' } }],
      tool_choice: { type: 'auto', disable_parallel_tool_use: true },
    },
    outcome: {
      openai: sent('parallel_tool_calls', false),
      anthropic: sent('tool_choice', { type: 'auto', disable_parallel_tool_use: true }),
      ollama: refused('parallel_tool_calls'),
    },
  },
};

function at(body: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], body);
}

/** The message of an error body, in OpenAI's or Anthropic's shape or Conflux's own envelope. */
function errorMessage(body: unknown): string {
  const root = body as { error?: unknown; message?: unknown };
  if (typeof root.error === 'object' && root.error !== null)
    return String((root.error as { message?: unknown }).message);
  return String(root.message);
}

/**
 * The parameter table: each documented parameter of both APIs, sent to each kind, is either
 * seen by the fake upstream in that kind's own field or refused with a 400 naming it and the kind.
 */
describe('every parameter, every kind: forwarded, translated or refused by name', () => {
  const fakes = {} as Record<FakeKind, FakeUpstream>;
  let gw: Gateway;

  beforeAll(async () => {
    for (const kind of KINDS) fakes[kind] = await startFakeUpstream(kind, { models: [MODEL[kind]] });
    gw = await startGateway({
      providers: KINDS.map((kind) => ({
        id: `${kind}-a`,
        kind,
        base_url: fakes[kind].baseUrl,
        models: [MODEL[kind]],
        retry: NO_RETRY,
      })),
    });
  });

  afterAll(async () => {
    await gw?.close();
    await Promise.all(Object.values(fakes).map((fake) => fake.close()));
  });

  beforeEach(() => Object.values(fakes).forEach((fake) => fake.reset()));

  async function post(path: string, body: object): Promise<{ status: number; text: string }> {
    const res = await fetch(`${gw.t.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${gw.apiKey}` },
      body: JSON.stringify(body),
    });
    return { status: res.status, text: await res.text() };
  }

  async function check(kind: FakeKind, path: string, body: object, outcome: Outcome): Promise<void> {
    const res = await post(path, body);
    const chats = fakes[kind].requests.filter((r) => r.method === 'POST');
    if ('refused' in outcome) {
      expect(res.status).toBe(400);
      const message = errorMessage(JSON.parse(res.text));
      expect(message).toMatch(new RegExp(`\\b${outcome.refused}\\b.*\\b${kind}\\b`));
      expect(chats).toHaveLength(0);
      return;
    }
    expect({ status: res.status, text: res.status === 200 ? '' : res.text }).toEqual({ status: 200, text: '' });
    expect(chats).toHaveLength(1);
    expect(at(chats[0].body, outcome.path)).toEqual(outcome.value);
  }

  const cases = (rows: Record<string, Row>): [string, FakeKind, Row][] =>
    Object.entries(rows).flatMap(([name, row]) => KINDS.map((kind): [string, FakeKind, Row] => [name, kind, row]));

  it.each(cases(OPENAI_ROWS))('/v1/chat/completions %s → %s', async (_name, kind, row) => {
    const body = { model: MODEL[kind], messages: [{ role: 'user', content: 'Hello' }], ...row.params };
    await check(kind, '/v1/chat/completions', body, row.outcome[kind]);
  });

  it.each(cases(ANTHROPIC_ROWS))('/v1/messages %s → %s', async (_name, kind, row) => {
    const body = { model: MODEL[kind], max_tokens: 100, messages: [{ role: 'user', content: 'Hello' }], ...row.params };
    await check(kind, '/v1/messages', body, row.outcome[kind]);
  });

  it.each(KINDS)(
    'no max_tokens from the client: none to openai and ollama, the catalog maximum to anthropic (%s)',
    async (kind) => {
      const res = await post('/v1/chat/completions', {
        model: MODEL[kind],
        messages: [{ role: 'user', content: 'Hi' }],
      });
      expect(res.status).toBe(200);
      const body = fakes[kind].requests.filter((r) => r.method === 'POST')[0].body as Record<string, unknown>;
      if (kind === 'anthropic') {
        expect(body.max_tokens).toBe(HAIKU_MAX_OUTPUT);
      } else {
        expect(body).not.toHaveProperty('max_tokens');
        expect(body).not.toHaveProperty('max_completion_tokens');
        expect(at(body, 'options.num_predict')).toBeUndefined();
      }
    },
  );
});
