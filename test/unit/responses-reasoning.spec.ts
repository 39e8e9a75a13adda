import fc from 'fast-check';
import type { ResponsesRequestDto } from '../../src/llm/dto/responses.dto';
import { canonicalFromResponses } from '../../src/llm/formats/responses.format';

const SEAL = 'cfx-thinking.v1.';
const seal = (value: unknown): string => SEAL + Buffer.from(JSON.stringify(value)).toString('base64url');

function conversation(encrypted: string): ResponsesRequestDto {
  return {
    model: 'm',
    input: [
      { role: 'user', content: 'Q?' },
      { type: 'reasoning', summary: [], encrypted_content: encrypted },
      { type: 'function_call', call_id: 'c1', name: 'f', arguments: '{}' },
      { type: 'function_call_output', call_id: 'c1', output: 'ok' },
    ],
  };
}

/** A reasoning item's encrypted_content is the client's to send: whatever it holds, the conversation stays sound. */
describe('reasoning items sent back in Responses input', () => {
  it('never throws on any encrypted_content, and keeps only well-formed thinking blocks', () => {
    const anything = fc.oneof(
      fc.string(),
      fc.string().map((s) => SEAL + s),
      fc.base64String().map((s) => SEAL + s),
      fc.jsonValue().map(seal),
      fc
        .record({
          type: fc.constantFrom('thinking', 'redacted_thinking', 'text'),
          thinking: fc.jsonValue(),
          data: fc.jsonValue(),
          signature: fc.jsonValue(),
        })
        .map(seal),
    );
    fc.assert(
      fc.property(anything, (encrypted) => {
        const messages = canonicalFromResponses(conversation(encrypted));
        const turn = messages[1];
        expect(turn.role).toBe('assistant');
        const parts = Array.isArray(turn.content) ? turn.content : [];
        for (const part of parts) {
          if (part.type === 'thinking') {
            expect(typeof part.thinking).toBe('string');
            expect(part.signature === undefined || typeof part.signature === 'string').toBe(true);
          } else {
            expect(part).toEqual({ type: 'redacted_thinking', data: expect.any(String) });
          }
        }
        expect(turn.role === 'assistant' && turn.tool_calls?.[0].id).toBe('c1');
      }),
      { numRuns: 500 },
    );
  });

  it('gives back a sealed block exactly', () => {
    const block = { type: 'thinking', thinking: 'Look it up.', signature: 'sig' };
    const messages = canonicalFromResponses(conversation(seal(block)));
    expect(messages[1]).toMatchObject({ role: 'assistant', content: [block] });
  });
});
