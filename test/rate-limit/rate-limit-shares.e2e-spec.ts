import { startApp, TestApp } from '../support/app';
import { createUser, signInAdmin } from '../support/fixtures';
import { Api, ApiResponse, expectEnvelope } from '../support/http';
import { uniqueRedisPrefix } from '../support/services';

/**
 * Scripts (rate-limit hits, share writes) sent to Redis, from /metrics (one registry per process:
 * both instances of a test count there).
 */
async function scriptsSent(api: Api): Promise<number> {
  const text = (await api.get('/metrics')).text;
  let total = 0;
  for (const m of text.matchAll(/^conflux_redis_command_duration_seconds_count\{([^}]*)\} (\d+)/gm)) {
    if (/command="(evalsha|eval)"/.test(m[1])) total += Number(m[2]);
  }
  return total;
}

/** `count` requests spread over the instances, `concurrency` at a time on each. */
async function drive(apis: Api[], token: string, count: number, concurrency: number): Promise<ApiResponse[]> {
  const responses: ApiResponse[] = [];
  let sent = 0;
  const worker = async (api: Api): Promise<void> => {
    while (sent < count) {
      sent += 1;
      responses.push(await api.get('/auth/me', { token }));
    }
  };
  await Promise.all(apis.flatMap((api) => Array.from({ length: concurrency }, () => worker(api))));
  return responses;
}

describe('rate limits of a busy caller counted from local shares, over two instances', () => {
  const started: TestApp[] = [];

  async function pair(settings: Record<string, string>): Promise<{ apis: Api[]; token: string }> {
    // Exactness, not latency, is under test: a Redis call past its bound is counted on the instance alone
    // (rate limits fail open), which a loaded machine would otherwise do now and then.
    const env = { QUOTA_REDIS_TIMEOUT_MS: '1000', ...settings };
    const first = await startApp({ env });
    const second = await startApp({ env, db: first.db });
    started.push(second, first);
    const apis = [new Api(first.url), new Api(second.url)];
    const member = await createUser(apis[0], await signInAdmin(apis[0]));
    return { apis, token: member.token };
  }

  afterAll(async () => {
    for (const app of started) await app.close();
  });

  it('asks Redis about once per share, not once per request', async () => {
    const { apis, token } = await pair({ REDIS_KEY_PREFIX: uniqueRedisPrefix() });
    const before = await scriptsSent(apis[0]);
    const responses = await drive(apis, token, 400, 4);
    expect(responses.map((r) => r.status)).toEqual(responses.map(() => 200));
    const sent = (await scriptsSent(apis[0])) - before;
    // Each instance counts its first requests in Redis (until the caller is busy), then a share of
    // 50 requests per window (minute and hour) at a time: tens of scripts, where it was 400.
    expect(sent).toBeLessThan(100);
    // The headers still count down.
    const last = await apis[0].get('/auth/me', { token });
    expect(Number(last.headers.get('x-ratelimit-remaining-minute'))).toBeLessThanOrEqual(100_000 - 400);
  });

  it('never admits more than the limit across the instances, and refuses early by at most their shares', async () => {
    const limit = 200;
    const { apis, token } = await pair({ REDIS_KEY_PREFIX: uniqueRedisPrefix(), RATE_LIMIT_PER_MINUTE: String(limit) });
    // Creating the member spent one hit of the administrator's, not the member's.
    const responses = await drive(apis, token, 320, 6);
    const ok = responses.filter((r) => r.status === 200).length;
    const refused = responses.filter((r) => r.status === 429);
    expect(ok + refused.length).toBe(320);
    expect(ok).toBeLessThanOrEqual(limit);
    // A grant takes at most 5 % of what is left (10 here), so each instance's free part is at most 10.
    expect(ok).toBeGreaterThanOrEqual(limit - 2 * 10);
    expectEnvelope(refused[0], 429, 'rate_limited');
    expect(Number(refused[0].headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused[0].body.details).toMatchObject({ limit, window_seconds: 60 });
  });
});
