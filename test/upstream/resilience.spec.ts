import { UpstreamBreaker } from '../../src/common/upstream/breaker';
import { classOfStatus, parseRetryAfter, sanitizeMessage } from '../../src/common/upstream/http-errors';
import { backoffDelay, isRetryable, withRetries } from '../../src/common/upstream/retry';
import { UpstreamError } from '../../src/common/upstream/upstream-error';
import { upstreamFailure, waitFor, thrown } from '../providers/helpers';

const settings = { max_attempts: 4, base_delay_ms: 100, max_delay_ms: 300 };

describe('backoff', () => {
  it('is full jitter: uniform between 0 and min(max, base·2^n)', () => {
    expect([0, 1, 2, 3].map((n) => backoffDelay(n, settings, () => 0.999999))).toEqual([99, 199, 299, 299]);
    expect([0, 1, 2, 3].map((n) => backoffDelay(n, settings, () => 0))).toEqual([0, 0, 0, 0]);
    expect(backoffDelay(1, settings, () => 0.5)).toBe(100);
    for (let i = 0; i < 200; i++) {
      const delay = backoffDelay(2, settings);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(300);
    }
  });

  it('retries only network, timeout, 429, 5xx and malformed failures', () => {
    const retryable = (
      [
        'network',
        'timeout',
        'http_429',
        'http_5xx',
        'malformed',
        'http_4xx',
        'aborted',
        'breaker_open',
        'stream_cut',
      ] as const
    ).filter((c) => isRetryable(new UpstreamError(c, c)));
    expect(retryable).toEqual(['network', 'timeout', 'http_429', 'http_5xx', 'malformed']);
  });
});

describe('withRetries', () => {
  const hooks = { maxRetryAfterMs: 10_000, random: () => 0 };

  it('stops at max_attempts and rethrows the last failure', async () => {
    let calls = 0;
    const failure = await upstreamFailure(
      withRetries(settings, {}, hooks, () => {
        calls++;
        return Promise.reject(new UpstreamError('http_5xx', `boom ${calls}`));
      }),
    );
    expect(calls).toBe(4);
    expect(failure.message).toBe('boom 4');
  });

  it('never retries a 4xx', async () => {
    let calls = 0;
    await upstreamFailure(
      withRetries(settings, {}, hooks, () => {
        calls++;
        return Promise.reject(new UpstreamError('http_4xx', 'bad request'));
      }),
    );
    expect(calls).toBe(1);
  });

  it('gives up at once when Retry-After would pass the deadline', async () => {
    let calls = 0;
    const started = Date.now();
    const failure = await upstreamFailure(
      withRetries(settings, { deadline: Date.now() + 500 }, hooks, () => {
        calls++;
        return Promise.reject(new UpstreamError('http_429', 'slow down', { retryAfterMs: 5_000 }));
      }),
    );
    expect(failure.errorClass).toBe('http_429');
    expect(calls).toBe(1);
    expect(Date.now() - started).toBeLessThan(200);
  });

  it('without a deadline, does not wait for a Retry-After longer than allowed', async () => {
    let calls = 0;
    await upstreamFailure(
      withRetries(settings, {}, { ...hooks, maxRetryAfterMs: 1_000 }, () => {
        calls++;
        return Promise.reject(new UpstreamError('http_429', 'slow down', { retryAfterMs: 60_000 }));
      }),
    );
    expect(calls).toBe(1);
  });

  it('stops waiting when the caller aborts', async () => {
    const controller = new AbortController();
    const slow = { max_attempts: 3, base_delay_ms: 10_000, max_delay_ms: 10_000 };
    const run = withRetries(slow, { signal: controller.signal }, { ...hooks, random: () => 1 }, () =>
      Promise.reject(new UpstreamError('network', 'refused')),
    );
    setTimeout(() => controller.abort(), 20);
    const started = Date.now();
    expect((await upstreamFailure(run)).errorClass).toBe('aborted');
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

describe('HTTP error helpers', () => {
  it('parses Retry-After as seconds, as an HTTP date, and retry-after-ms', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter({ 'retry-after': '3' }, now)).toBe(3_000);
    expect(parseRetryAfter({ 'retry-after': 'Wed, 01 Jan 2025 00:00:07 GMT' }, now)).toBe(7_000);
    expect(parseRetryAfter({ 'retry-after': 'Tue, 31 Dec 2024 23:00:00 GMT' }, now)).toBe(0);
    expect(parseRetryAfter({ 'retry-after-ms': '250.5', 'retry-after': '9' }, now)).toBe(251);
    expect(parseRetryAfter({ 'retry-after': 'soon' }, now)).toBeUndefined();
    expect(parseRetryAfter({}, now)).toBeUndefined();
  });

  it('classifies statuses', () => {
    expect([400, 401, 403, 404, 422, 429, 500, 502, 529, 302].map(classOfStatus)).toEqual([
      'http_4xx',
      'auth_failed',
      'auth_failed',
      'http_4xx',
      'http_4xx',
      'http_429',
      'http_5xx',
      'http_5xx',
      'http_5xx',
      'malformed',
    ]);
  });

  it('never lets our key (or key-shaped tokens) through, and bounds the message', () => {
    const secret = 'ollama-proxy-secret-42';
    const message = sanitizeMessage(`bad key ${secret}; also sk-proj-abcdefghijkl and Bearer abc.def\n\u0007 end`, [
      secret,
    ]);
    expect(message).not.toContain(secret);
    expect(message).not.toContain('sk-proj-abcdefghijkl');
    expect(message).not.toContain('abc.def');
    expect([...message].some((c) => c.charCodeAt(0) < 32)).toBe(false);
    expect(message).toContain('[redacted]');
    expect(sanitizeMessage('x'.repeat(2_000), []).length).toBeLessThanOrEqual(501);
  });
});

describe('UpstreamBreaker (opossum 9, fed with outcomes)', () => {
  const states: string[] = [];
  const make = (volume = 2) =>
    new UpstreamBreaker(
      'unit',
      { error_threshold_percentage: 50, reset_timeout_ms: 30, volume_threshold: volume, rolling_window_ms: 10_000 },
      (s) => states.push(s),
    );
  const fail = new UpstreamError('http_5xx', 'down');
  const clientError = new UpstreamError('http_4xx', 'bad');

  beforeEach(() => {
    states.length = 0;
  });

  it('counts 4xx as successes while closed', async () => {
    const breaker = make(2);
    for (let i = 0; i < 10; i++) await breaker.admit().settle(clientError);
    await breaker.admit().settle(fail);
    expect(breaker.state).toBe('closed'); // 1 failure out of 11 calls
    breaker.shutdown();
  });

  it('opens past the threshold, fails fast, and admits one half-open trial at a time', async () => {
    const breaker = make(2);
    await breaker.admit().settle(fail);
    expect(breaker.state).toBe('closed'); // below the volume threshold
    await breaker.admit().settle(fail);
    expect(breaker.state).toBe('open');
    expect(thrown(() => breaker.admit())).toMatchObject({ errorClass: 'breaker_open' });
    await waitFor(() => breaker.state === 'half_open', 1_000, 'half-open');
    const trial = breaker.admit();
    expect(thrown(() => breaker.admit())).toMatchObject({ errorClass: 'breaker_open' });
    // A 4xx trial neither closes nor re-opens: still half-open, and the next call is a trial.
    await trial.settle(clientError);
    expect(breaker.state).toBe('half_open');
    const aborted = breaker.admit();
    await aborted.settle(new UpstreamError('aborted', 'gone'));
    expect(breaker.state).toBe('half_open');
    await breaker.admit().settle();
    expect(breaker.state).toBe('closed');
    expect(states).toEqual(['open', 'half_open', 'closed']);
    breaker.shutdown();
  });

  it('re-opens when the half-open trial fails', async () => {
    const breaker = make(1);
    await breaker.admit().settle(fail);
    await waitFor(() => breaker.state === 'half_open', 1_000, 'half-open');
    await breaker.admit().settle(new UpstreamError('timeout', 'slow'));
    expect(breaker.state).toBe('open');
    breaker.shutdown();
  });

  it('keeps half-open when a call admitted while closed ends with a 4xx during half-open', async () => {
    const breaker = make(2);
    const early = breaker.admit(); // admitted while closed, still running
    await breaker.admit().settle(fail);
    await breaker.admit().settle(fail);
    await waitFor(() => breaker.state === 'half_open', 1_000, 'half-open');
    await early.settle(clientError);
    expect(breaker.state).toBe('half_open');
    breaker.shutdown();
  });
});
