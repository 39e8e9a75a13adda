import { generateApiKey, generateRefreshToken, hashesEqual, parseApiKey, sha256Hex } from '../../src/auth/secrets';
import { resolveRequestId } from '../../src/common/http/request-id';
import { isDependencyUnavailable } from '../../src/common/errors/all-exceptions.filter';

describe('API key format', () => {
  it('round-trips: a generated key parses back to its prefix and hash', () => {
    const generated = generateApiKey();
    expect(parseApiKey(generated.key)).toEqual({ prefix: generated.prefix, hash: generated.hash });
    expect(generated.hash).toBe(sha256Hex(generated.key));
  });

  it('generates distinct keys and prefixes', () => {
    const keys = Array.from({ length: 200 }, () => generateApiKey());
    expect(new Set(keys.map((k) => k.key)).size).toBe(200);
    expect(new Set(keys.map((k) => k.prefix)).size).toBe(200);
  });

  it('rejects malformed keys before any lookup', () => {
    const { key } = generateApiKey();
    for (const bad of [
      '',
      'cfx_',
      key.slice(0, -1),
      `${key}x`,
      key.replace('cfx_', 'sk-_'),
      `${key.slice(0, 16)}-${key.slice(17)}`,
    ]) {
      expect(parseApiKey(bad)).toBeNull();
    }
  });

  it('compares hashes in constant time and by value', () => {
    const a = sha256Hex('a');
    expect(hashesEqual(a, sha256Hex('a'))).toBe(true);
    expect(hashesEqual(a, sha256Hex('b'))).toBe(false);
    expect(hashesEqual(a, 'abcd')).toBe(false);
  });

  it('refresh tokens are opaque and stored by hash', () => {
    const { token, hash } = generateRefreshToken();
    expect(token).toMatch(/^cfr_[A-Za-z0-9_-]{43}$/);
    expect(hash).toBe(sha256Hex(token));
  });
});

describe('request ids', () => {
  it('keeps a safe caller id and replaces anything else', () => {
    expect(resolveRequestId('abc-123.x:y_z')).toBe('abc-123.x:y_z');
    for (const bad of ['has space', 'x'.repeat(129), '<script>', '', 'ä']) {
      expect(resolveRequestId(bad)).toMatch(/^[0-9a-f-]{36}$/);
    }
    expect(resolveRequestId(undefined)).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('dependency outage detection', () => {
  it('recognises connection failures and not ordinary errors', () => {
    expect(isDependencyUnavailable(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe(
      true,
    );
    expect(isDependencyUnavailable(new Error('Connection terminated due to connection timeout'))).toBe(true);
    expect(isDependencyUnavailable(Object.assign(new Error('terminating connection'), { code: '57P01' }))).toBe(true);
    expect(isDependencyUnavailable(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(false);
    expect(isDependencyUnavailable(new TypeError('x is undefined'))).toBe(false);
  });
});
