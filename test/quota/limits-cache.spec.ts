import { LimitsCache } from '../../src/quota/limits-cache';

/** A loader whose calls are counted and resolved by hand. */
function manualLoader() {
  const calls: Array<{ key: string; resolve(value: number): void; reject(err: Error): void }> = [];
  const load = (key: string) =>
    new Promise<number>((resolve, reject) => {
      calls.push({ key, resolve, reject });
    });
  return { calls, load };
}

describe('limits cache', () => {
  let now: number;
  const clock = () => now;
  beforeEach(() => {
    now = 1_000_000;
  });

  it('loads once for concurrent misses, then serves from memory until the TTL runs out', async () => {
    const { calls, load } = manualLoader();
    const cache = new LimitsCache(load, 5000, clock);
    const a = cache.get('p');
    const b = cache.get('p');
    expect(calls).toHaveLength(1);
    calls[0].resolve(7);
    expect(await Promise.all([a, b])).toEqual([7, 7]);

    now += 4999;
    expect(await cache.get('p')).toBe(7);
    expect(calls).toHaveLength(1);

    now += 1;
    expect(await cache.get('p')).toBe(7);
    expect(calls).toHaveLength(2);
    calls[1].resolve(8);
    await Promise.resolve();
    expect(await cache.get('p')).toBe(8);
  });

  it('serves a stale value at once while one reload runs, however long that reload takes', async () => {
    const { calls, load } = manualLoader();
    const cache = new LimitsCache(load, 5000, clock, 100);
    const first = cache.get('p');
    calls[0].resolve(1);
    await first;
    now += 6000;
    // Postgres hangs: the reload never answers, and every caller is served the cached value meanwhile.
    const answers = await Promise.all(Array.from({ length: 5 }, () => cache.get('p')));
    expect(answers).toEqual([1, 1, 1, 1, 1]);
    expect(calls).toHaveLength(2);
    now += 60_000;
    expect(await cache.get('p')).toBe(1);
    expect(calls).toHaveLength(2);
    calls[1].resolve(2);
    await Promise.resolve();
    expect(await cache.get('p')).toBe(2);
  });

  it('bounds the wait of a key with no value yet, and tries again after a failed reload only a second later', async () => {
    const { calls, load } = manualLoader();
    const cache = new LimitsCache(load, 5000, clock, 50);
    await expect(cache.get('cold')).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    calls[0].resolve(4);
    await Promise.resolve();
    expect(await cache.get('cold')).toBe(4);

    now += 6000;
    expect(await cache.get('cold')).toBe(4);
    calls[1].reject(new Error('db down'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(await cache.get('cold')).toBe(4);
    expect(calls).toHaveLength(2);
    now += 1000;
    expect(await cache.get('cold')).toBe(4);
    expect(calls).toHaveLength(3);
  });

  it('serves a value set on this instance at once, even over a load that started before', async () => {
    const { calls, load } = manualLoader();
    const cache = new LimitsCache(load, 5000, clock);
    const inFlight = cache.get('p');
    cache.set('p', 42);
    calls[0].resolve(1);
    expect(await inFlight).toBe(42);
    expect(await cache.get('p')).toBe(42);
    expect(calls).toHaveLength(1);
  });

  it('serves the last known value when a reload fails, and fails when there is none', async () => {
    const { calls, load } = manualLoader();
    const cache = new LimitsCache(load, 5000, clock);
    const first = cache.get('p');
    calls[0].resolve(3);
    await first;
    now += 6000;
    const stale = cache.get('p');
    calls[1].reject(new Error('db down'));
    expect(await stale).toBe(3);

    const missing = cache.get('q');
    calls[2].reject(new Error('db down'));
    await expect(missing).rejects.toThrow('db down');
  });
});
