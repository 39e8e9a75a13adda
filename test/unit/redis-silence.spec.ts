import { asRedisError, bounded, RedisTimeout, SilenceEvidence } from '../../src/common/upstream/redis-circuit';

/** Keeps this process busy for `ms`, as a long garbage collection would. */
function stall(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

const never = (): Promise<never> => new Promise<never>(() => undefined);

describe('when Redis timeouts show it silent', () => {
  it('a run of timeouts, each sent after the previous one timed out, shows it; a reply in between ends the run', () => {
    const evidence = new SilenceEvidence(3);
    const timeout = (): RedisTimeout => new RedisTimeout('late', performance.now());
    expect(evidence.shows(timeout())).toBe(false);
    expect(evidence.shows(timeout())).toBe(false);
    evidence.reset();
    expect(evidence.shows(timeout())).toBe(false);
    expect(evidence.shows(timeout())).toBe(false);
    expect(evidence.shows(timeout())).toBe(true);
  });

  it('calls sent together count once, and a refused connection shows it at once', () => {
    const evidence = new SilenceEvidence(2);
    const sentAt = performance.now();
    expect(evidence.shows(new RedisTimeout('late', sentAt))).toBe(false);
    expect(evidence.shows(new RedisTimeout('late', sentAt))).toBe(false);
    expect(evidence.shows(new RedisTimeout('late', sentAt))).toBe(false);
    expect(evidence.shows(new Error('connect ECONNREFUSED 127.0.0.1:6379'))).toBe(true);
  });

  it('a bound that expired while this process was stalled is not counted', async () => {
    const evidence = new SilenceEvidence(1);
    const late = bounded(never(), 20).catch((err: unknown) => err);
    stall(400);
    const err = await late;
    expect(err).toBeInstanceOf(RedisTimeout);
    expect((err as RedisTimeout).stalled).toBe(true);
    expect(evidence.shows(err)).toBe(false);
    const started = performance.now();
    const onTime = await bounded(never(), 20).catch((e: unknown) => e);
    // On time unless this machine itself paused the test for a stall's length (20 + 250 ms).
    const paused = performance.now() - started > 270;
    expect((onTime as RedisTimeout).stalled).toBe(paused);
    expect(evidence.shows(onTime)).toBe(!paused);
  });

  it("ioredis's own command timeout becomes a timeout that knows when its call was sent", () => {
    const sentAt = performance.now();
    const onTime = asRedisError(new Error('Command timed out'), sentAt, 500);
    expect(onTime).toBeInstanceOf(RedisTimeout);
    expect((onTime as RedisTimeout).sentAt).toBe(sentAt);
    expect((onTime as RedisTimeout).stalled).toBe(false);
    const afterStall = asRedisError(new Error('Command timed out'), sentAt - 2_000, 500);
    expect((afterStall as RedisTimeout).stalled).toBe(true);
    const refused = asRedisError(new Error('connect ECONNREFUSED'), sentAt, 500);
    expect(refused).not.toBeInstanceOf(RedisTimeout);
  });
});
