import { randomBytes } from 'node:crypto';
import { getEncoding } from 'js-tiktoken';
import { countTextTokens } from '../../src/metering/tokenizer';

const MODEL = 'gpt-4o-mini'; // o200k_base
const exact = (text: string): number => getEncoding('o200k_base').encode(text).length;

describe('countTextTokens', () => {
  it('counts prose exactly as the BPE does', () => {
    const prose = 'The quick brown fox jumps over the lazy dog, then rests a while. '.repeat(200);
    expect(countTextTokens(prose, MODEL)).toBe(exact(prose));
    expect(countTextTokens('', MODEL)).toBe(0);
    expect(countTextTokens('hello', MODEL)).toBe(exact('hello'));
  });

  it('counts text with long unbroken runs piece by piece, within 1 % of the whole count', () => {
    const blob = `data: ${randomBytes(6_000).toString('base64')} and ${'-'.repeat(300)} end`;
    const whole = exact(blob);
    const counted = countTextTokens(blob, MODEL);
    expect(Math.abs(counted - whole) / whole).toBeLessThan(0.01);
  });

  it('counts a prompt of one letter repeated 200,000 times (the BPE on the whole run takes hours)', () => {
    const counted = countTextTokens('x'.repeat(200_000), MODEL);
    // Exact pieces up to the budget (8 x a token), then 1.5 characters a token.
    expect(counted).toBeGreaterThan(200_000 / 8);
    expect(counted).toBeLessThanOrEqual(200_000);
  });

  it('estimates generously past the budget of long runs: 1 MB of base64 is not undercounted', () => {
    const blob = randomBytes(750_000).toString('base64'); // 1,000,000 characters, ~1.46 characters a token
    const counted = countTextTokens(blob, MODEL);
    expect(counted).toBeGreaterThan(blob.length / 1.6);
    expect(counted).toBeLessThan(blob.length);
  });

  it('counts a text seen before as the first time, per encoding', () => {
    const text = 'Bonjour, 世界! Remember the answer: 42. '.repeat(20);
    const o200k = exact(text);
    const cl100k = getEncoding('cl100k_base').encode(text).length;
    expect(o200k).not.toBe(cl100k);
    for (let i = 0; i < 3; i += 1) {
      expect(countTextTokens(text, MODEL)).toBe(o200k);
      // The same characters in another string, counted for a model of the other encoding.
      expect(countTextTokens(text.slice(0), 'gpt-4-turbo')).toBe(cl100k);
    }
  });
});
