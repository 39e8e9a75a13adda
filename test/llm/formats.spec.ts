import type { ChatOutcome } from '../../src/llm/chat.usecase';
import type { ChatMessageDto } from '../../src/llm/dto/chat-completions.dto';
import type { MessagesRequestDto } from '../../src/llm/dto/messages.dto';
import {
  anthropicUsage,
  canonicalFromAnthropic,
  canonicalToolChoice,
  message,
} from '../../src/llm/formats/anthropic.format';
import { canonicalMessages, chatCompletion } from '../../src/llm/formats/openai.format';
import { countChatTokens } from '../../src/metering/tokenizer';

const META = { id: 'chatcmpl-1', model: 'gpt-4o-mini', created: 1 };
const CALL = {
  id: 'toolu_01A',
  type: 'function' as const,
  function: { name: 'weather', arguments: '{"city":"Oslo"}' },
};

function answer(over: Partial<ChatOutcome>): Pick<ChatOutcome, 'text' | 'toolCalls' | 'thinking' | 'finish' | 'usage'> {
  return { text: '', finish: 'stop', usage: { input_tokens: 10, output_tokens: 5 }, ...over };
}

describe('OpenAI dialect', () => {
  it('canonicalizes tool calls, tool results and developer messages, ids kept exactly', () => {
    const messages = canonicalMessages([
      { role: 'developer', content: 'Be brief.' },
      { role: 'user', content: 'Weather in Oslo?', name: 'ann' },
      { role: 'assistant', content: null, tool_calls: [CALL] },
      { role: 'tool', tool_call_id: 'toolu_01A', content: '{"temp":3}' },
    ] as ChatMessageDto[]);
    expect(messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Weather in Oslo?', name: 'ann' },
      { role: 'assistant', content: null, tool_calls: [CALL] },
      { role: 'tool', tool_call_id: 'toolu_01A', content: '{"temp":3}' },
    ]);
  });

  it('renders tool calls with null content, finish tool_calls, and usage details', () => {
    const body = chatCompletion(META, {
      ...answer({ toolCalls: [CALL], finish: 'tool_calls' }),
      usage: { input_tokens: 100, output_tokens: 20, cached_input_tokens: 60, reasoning_tokens: 7 },
      logprobs: { content: [] },
    }) as { choices: object[]; usage: object };
    expect(body.choices[0]).toEqual({
      index: 0,
      message: { role: 'assistant', content: null, tool_calls: [CALL] },
      finish_reason: 'tool_calls',
      logprobs: { content: [] },
    });
    expect(body.usage).toEqual({
      prompt_tokens: 100,
      completion_tokens: 20,
      total_tokens: 120,
      prompt_tokens_details: { cached_tokens: 60 },
      completion_tokens_details: { reasoning_tokens: 7 },
    });
  });
});

describe('Anthropic dialect', () => {
  const request = {
    model: 'claude-3-haiku',
    max_tokens: 100,
    system: [{ type: 'text', text: 'You are terse.', cache_control: { type: 'ephemeral' } }],
    messages: [
      { role: 'user', content: 'Weather in Oslo?' },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Let me check.' },
          { type: 'thinking', thinking: 'Need the tool.', signature: 'sig' },
          { type: 'tool_use', id: 'toolu_01A', name: 'weather', input: { city: 'Oslo' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_01A', content: [{ type: 'text', text: '3°C' }], is_error: false },
          { type: 'text', text: 'And tomorrow?' },
        ],
      },
    ],
  } as unknown as MessagesRequestDto;

  it('turns tool_use into tool calls and tool_result blocks into tool messages, thinking first', () => {
    expect(canonicalFromAnthropic(request)).toEqual([
      { role: 'system', content: [{ type: 'text', text: 'You are terse.', cache_control: { type: 'ephemeral' } }] },
      { role: 'user', content: 'Weather in Oslo?' },
      {
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: 'Need the tool.', signature: 'sig' },
          { type: 'text', text: 'Let me check.' },
        ],
        tool_calls: [CALL],
      },
      { role: 'tool', tool_call_id: 'toolu_01A', content: '3°C', is_error: false },
      { role: 'user', content: 'And tomorrow?' },
    ]);
  });

  it('maps tool_choice: any is required, tool is a named function', () => {
    expect(canonicalToolChoice({ type: 'any' })).toBe('required');
    expect(canonicalToolChoice({ type: 'none' })).toBe('none');
    expect(canonicalToolChoice({ type: 'tool', name: 'weather' })).toEqual({
      type: 'function',
      function: { name: 'weather' },
    });
  });

  it('renders thinking, text and tool_use blocks, stop_reason tool_use', () => {
    const body = message(
      'msg_1',
      'claude-3-haiku-20240307',
      answer({
        text: 'Checking.',
        toolCalls: [CALL],
        thinking: [{ type: 'thinking', thinking: 'hm', signature: 's' }],
        finish: 'tool_calls',
      }),
    ) as { content: object[]; stop_reason: string };
    expect(body.content).toEqual([
      { type: 'thinking', thinking: 'hm', signature: 's' },
      { type: 'text', text: 'Checking.' },
      { type: 'tool_use', id: 'toolu_01A', name: 'weather', input: { city: 'Oslo' } },
    ]);
    expect(body.stop_reason).toBe('tool_use');
  });

  it('reports input tokens without those read from or written to the cache', () => {
    expect(
      anthropicUsage({ input_tokens: 1000, output_tokens: 9, cached_input_tokens: 600, cache_write_input_tokens: 300 }),
    ).toEqual({ input_tokens: 100, output_tokens: 9, cache_read_input_tokens: 600, cache_creation_input_tokens: 300 });
  });
});

describe('token estimate', () => {
  it('counts tool definitions, tool calls and tool results', () => {
    const plain = countChatTokens([{ role: 'user', content: 'Weather?' }], 'gpt-4o');
    const tool = {
      type: 'function' as const,
      function: { name: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
    };
    expect(countChatTokens([{ role: 'user', content: 'Weather?' }], 'gpt-4o', [tool])).toBeGreaterThan(plain + 10);
    const roundTrip = countChatTokens(
      [
        { role: 'user', content: 'Weather?' },
        { role: 'assistant', content: null, tool_calls: [CALL] },
        { role: 'tool', tool_call_id: 'toolu_01A', content: 'Three degrees and light rain.' },
      ],
      'gpt-4o',
    );
    expect(roundTrip).toBeGreaterThan(plain + 20);
  });
});
