import { REDACTED, redactHeaders, redactUrl, serializeError } from '../../src/logging/redaction';

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

  it('serialises errors without attached payloads', () => {
    const err = Object.assign(new Error('query failed'), { code: '23505', parameters: ['secret-hash'] });
    const out = serializeError(err);
    expect(out).toMatchObject({ type: 'Error', message: 'query failed', code: '23505' });
    expect(JSON.stringify(out)).not.toContain('secret-hash');
  });
});
