import { isSecretName, REDACTED, redactHeaders, redactUrl, serializeError } from '../../src/logging/redaction';

describe('log redaction', () => {
  it('masks credential headers whatever their case', () => {
    const out = redactHeaders({
      authorization: 'Bearer abc',
      'x-api-key': 'cfx_secret',
      cookie: 'sid=1',
      'content-type': 'application/json',
    });
    expect(out).toEqual({
      authorization: REDACTED,
      'x-api-key': REDACTED,
      cookie: REDACTED,
      'content-type': 'application/json',
    });
  });

  it('masks secret-looking query parameters and keeps the rest', () => {
    expect(redactUrl('/v1/x?api_key=cfx_1&limit=5&access_token=t&password=p')).toBe(
      `/v1/x?api_key=${REDACTED}&limit=5&access_token=${REDACTED}&password=${REDACTED}`,
    );
    expect(redactUrl('/plain/path')).toBe('/plain/path');
    expect(redactUrl('/x?%61pi_key=s')).toBe(`/x?%61pi_key=${REDACTED}`);
  });

  it('masks every header whose name speaks of a credential, whatever the vendor spelling', () => {
    const secret = [
      'x-goog-api-key',
      'openai-api-key',
      'x-access-token',
      'x-refresh-token',
      'Proxy-Authorization',
      'x-amz-security-token',
      'X-Amz-Signature',
      'x-hub-signature-256',
      'x-csrf-token',
      'set-cookie',
      'x-session-id',
      'x-client-secret',
      'ocp-apim-subscription-key',
      'x-user-password',
      'XApiKey',
      'x-sig',
    ];
    const harmless = [
      'content-type',
      'content-length',
      'user-agent',
      'x-request-id',
      'x-forwarded-for',
      'anthropic-version',
      'x-conflux-strategy',
      'accept',
      'x-signal',
      'x-author',
      'keep-alive',
    ];
    const headers = Object.fromEntries([...secret, ...harmless].map((name) => [name, `value-of-${name}`]));
    const out = redactHeaders(headers);
    for (const name of secret) expect({ name, value: out[name] }).toEqual({ name, value: REDACTED });
    for (const name of harmless) expect({ name, value: out[name] }).toEqual({ name, value: `value-of-${name}` });
  });

  it('masks query parameters by the same rule: sig exactly, not words that merely contain it', () => {
    const secret = [
      'sig',
      'token',
      'api_key',
      'apiKey',
      'X-Amz-Credential',
      'X-Amz-Signature',
      'auth',
      'sessionId',
      'pwd',
      'pass',
    ];
    const harmless = ['limit', 'signal', 'design', 'max_tokens', 'keyword', 'author', 'model', 'cursor'];
    for (const name of secret) expect(redactUrl(`/x?${name}=v&a=1`)).toBe(`/x?${name}=${REDACTED}&a=1`);
    for (const name of harmless) expect(redactUrl(`/x?${name}=v&a=1`)).toBe(`/x?${name}=v&a=1`);
    expect(isSecretName('token[]')).toBe(true);
  });

  it('serialises errors without attached payloads', () => {
    const err = Object.assign(new Error('query failed'), { code: '23505', parameters: ['secret-hash'] });
    const out = serializeError(err);
    expect(out).toMatchObject({ type: 'Error', message: 'query failed', code: '23505' });
    expect(JSON.stringify(out)).not.toContain('secret-hash');
  });
});
