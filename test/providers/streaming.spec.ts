import { NdjsonDecoder, SseDecoder } from '../../src/providers/streaming/framing';
import { StreamAssembler } from '../../src/providers/streaming/stream-assembler';

describe('SSE decoder', () => {
  it('joins data lines, ignores comments and other fields, and survives any chunk boundary', () => {
    const body = ': keep-alive\n\nevent: a\nid: 1\ndata: first\ndata:  second\n\nretry: 5\ndata:third\r\n\r\ndata\n\n';
    for (const size of [1, 2, 3, body.length]) {
      const decoder = new SseDecoder();
      const out: string[] = [];
      for (let i = 0; i < body.length; i += size) out.push(...decoder.push(body.slice(i, i + size)));
      out.push(...decoder.end());
      expect(out).toEqual(['first\n second', 'third', '']);
    }
  });

  it('handles bare CR line endings, even when split between chunks', () => {
    const decoder = new SseDecoder();
    expect(decoder.push('data: x\r')).toEqual([]);
    expect(decoder.push('\rdata: y\r')).toEqual(['x']);
    expect(decoder.push('\n\r\n')).toEqual(['y']);
  });

  it('delivers a last event that lacks its blank line at the end of the body', () => {
    const decoder = new SseDecoder();
    expect(decoder.push('data: [DONE]')).toEqual([]);
    expect(decoder.end()).toEqual(['[DONE]']);
  });
});

describe('NDJSON decoder', () => {
  it('yields each non-blank line across chunk boundaries', () => {
    const decoder = new NdjsonDecoder();
    expect(decoder.push('{"a":1}\n{"b"')).toEqual(['{"a":1}']);
    expect(decoder.push(':2}\r\n\n  \n{"c":3}')).toEqual(['{"b":2}']);
    expect(decoder.end()).toEqual(['{"c":3}']);
  });
});

describe('stream assembler', () => {
  it('passes deltas at once and closes with merged usage then finish', () => {
    const assembler = new StreamAssembler();
    expect(assembler.accept([{ type: 'usage', input_tokens: 25 }])).toEqual([]);
    expect(
      assembler.accept([
        { type: 'delta', text: 'Hi' },
        { type: 'delta', text: '' },
      ]),
    ).toEqual([{ type: 'delta', text: 'Hi' }]);
    expect(assembler.accept([{ type: 'finish', finish_reason: 'length' }])).toEqual([]);
    expect(assembler.accept([{ type: 'usage', output_tokens: 3 }])).toEqual([]);
    expect(assembler.done).toBe(false);
    expect(assembler.accept([{ type: 'end' }, { type: 'delta', text: 'ignored' }])).toEqual([
      { type: 'usage', usage: { input_tokens: 25, output_tokens: 3 } },
      { type: 'finish', finish_reason: 'length' },
    ]);
    expect(assembler.done).toBe(true);
    expect(assembler.accept([{ type: 'delta', text: 'late' }])).toEqual([]);
  });

  it('passes tool-call fragments and thinking as they come, and finishes a turn of calls with tool_calls', () => {
    const assembler = new StreamAssembler();
    expect(
      assembler.accept([
        { type: 'thinking', thinking: 'Two calls.' },
        { type: 'thinking', signature: 'EqQBCgIYAh' },
        { type: 'thinking', redacted: 'EmwKAhgB' },
        { type: 'tool_call', index: 0, id: 'call_a', name: 'f', arguments: '' },
        { type: 'tool_call', index: 0, arguments: '{"x":' },
        { type: 'tool_call', index: 0, arguments: '' },
        { type: 'tool_call', index: 0, arguments: '1}' },
        { type: 'finish', finish_reason: 'stop' },
        { type: 'end' },
      ]),
    ).toEqual([
      { type: 'thinking', thinking: 'Two calls.' },
      { type: 'thinking', signature: 'EqQBCgIYAh' },
      { type: 'thinking', redacted: 'EmwKAhgB' },
      { type: 'tool_call', index: 0, id: 'call_a', name: 'f', arguments: '' },
      { type: 'tool_call', index: 0, arguments: '{"x":' },
      { type: 'tool_call', index: 0, arguments: '1}' },
      { type: 'finish', finish_reason: 'tool_calls' },
    ]);
  });

  it('numbers tool calls from 0 in the order they start, whatever the kind numbered them by', () => {
    const assembler = new StreamAssembler();
    // Anthropic: content block indices (the text block was 0); Ollama: each line's calls from 0.
    expect(
      assembler.accept([
        { type: 'tool_call', index: 1, id: 'toolu_a', name: 'f', arguments: '' },
        { type: 'tool_call', index: 1, arguments: '{}' },
        { type: 'tool_call', index: 0, id: 'call_b', name: 'g', arguments: '{}' },
        { type: 'tool_call', index: 0, id: 'call_c', name: 'g', arguments: '{}' },
        { type: 'tool_call', index: 0, id: 'call_c', name: 'g', arguments: '' },
        { type: 'tool_call', index: 0, arguments: ' ' },
      ]),
    ).toEqual([
      { type: 'tool_call', index: 0, id: 'toolu_a', name: 'f', arguments: '' },
      { type: 'tool_call', index: 0, arguments: '{}' },
      { type: 'tool_call', index: 1, id: 'call_b', name: 'g', arguments: '{}' },
      { type: 'tool_call', index: 2, id: 'call_c', name: 'g', arguments: '{}' },
      { type: 'tool_call', index: 2, arguments: ' ' },
    ]);
  });

  it('merges usage details reported in parts', () => {
    const assembler = new StreamAssembler();
    assembler.accept([{ type: 'usage', input_tokens: 2006, cached_input_tokens: 1920, cache_write_input_tokens: 10 }]);
    assembler.accept([{ type: 'usage', output_tokens: 300, reasoning_tokens: 256, input_tokens: undefined }]);
    expect(assembler.accept([{ type: 'finish', finish_reason: 'length' }, { type: 'end' }])).toEqual([
      {
        type: 'usage',
        usage: {
          input_tokens: 2006,
          output_tokens: 300,
          cached_input_tokens: 1920,
          cache_write_input_tokens: 10,
          reasoning_tokens: 256,
        },
      },
      { type: 'finish', finish_reason: 'length' },
    ]);
  });

  it('finishes with stop and no usage when the upstream said nothing of them', () => {
    expect(new StreamAssembler().accept([{ type: 'end' }])).toEqual([{ type: 'finish', finish_reason: 'stop' }]);
  });
});
