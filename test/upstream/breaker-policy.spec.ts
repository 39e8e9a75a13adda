import { Logger } from '@nestjs/common';
import { type BreakerState, UpstreamBreaker } from '../../src/common/upstream/breaker';
import { RedisCircuit, RedisTimeout } from '../../src/common/upstream/redis-circuit';
import { UpstreamError } from '../../src/common/upstream/upstream-error';

const NO_PERCENTAGE = {
  error_threshold_percentage: 100,
  volume_threshold: Number.MAX_SAFE_INTEGER,
  reset_timeout_ms: 100,
  rolling_window_ms: 10_000,
};
const timeout = (): UpstreamError => new UpstreamError('timeout', 'late');
const refused = (): UpstreamError => new UpstreamError('network', 'ECONNREFUSED');
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('breaker policy: opening on failures in a row, or at once', () => {
  const breakers: UpstreamBreaker[] = [];
  const make = (states: BreakerState[]): UpstreamBreaker => {
    const breaker = new UpstreamBreaker('policy', NO_PERCENTAGE, (s) => states.push(s), {
      consecutiveFailuresToOpen: 3,
      opensAtOnce: (failure) => failure.errorClass === 'network',
    });
    breakers.push(breaker);
    return breaker;
  };
  afterEach(() => breakers.splice(0).forEach((b) => b.shutdown()));

  it('opens after three counted failures in a row, not when a success comes between', async () => {
    const states: BreakerState[] = [];
    const breaker = make(states);
    breaker.record(timeout());
    breaker.record(timeout());
    breaker.record();
    breaker.record(timeout());
    breaker.record(timeout());
    await settle();
    expect(breaker.state).toBe('closed');
    breaker.record(timeout());
    expect(breaker.state).toBe('open');
    expect(states).toEqual(['open']);
  });

  it('opens at once on a failure the policy names, and never on neutral ones', async () => {
    const breaker = make([]);
    for (let i = 0; i < 5; i++) breaker.record(new UpstreamError('http_4xx', 'bad request'));
    await settle();
    expect(breaker.state).toBe('closed');
    breaker.record(refused());
    expect(breaker.state).toBe('open');
  });

  it('goes half-open after the reset time; a success closes it, a failure reopens it', async () => {
    const states: BreakerState[] = [];
    const breaker = make(states);
    breaker.record(refused());
    await sleep(150);
    expect(breaker.state).toBe('half_open');
    breaker.record(timeout());
    await settle();
    expect(breaker.state).toBe('open');
    await sleep(150);
    breaker.record();
    await settle();
    expect(breaker.state).toBe('closed');
    expect(states).toEqual(['open', 'half_open', 'open', 'half_open', 'closed']);
  });
});

describe('RedisCircuit over the breaker', () => {
  const logger = new Logger('test');
  const messages = { down: 'down', up: 'up' };

  it('skips Redis at once after a refused connection, for retryAfterMs, and logs each transition once', async () => {
    const warn = jest.spyOn(logger, 'warn').mockImplementation(() => undefined);
    const log = jest.spyOn(logger, 'log').mockImplementation(() => undefined);
    const circuit = new RedisCircuit(logger, messages, { retryAfterMs: 100 });
    circuit.failed(new Error('connect ECONNREFUSED 127.0.0.1:6379'));
    expect(circuit.open).toBe(true);
    await sleep(150);
    expect(circuit.open).toBe(false);
    circuit.failed(new Error('connect ECONNREFUSED 127.0.0.1:6379'));
    await settle();
    expect(circuit.open).toBe(true);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toContain('down: Error: connect ECONNREFUSED');
    await sleep(150);
    circuit.succeeded();
    await settle();
    expect(circuit.open).toBe(false);
    expect(log).toHaveBeenCalledWith('up');
  });

  it('opens only after timeoutsToOpen timeouts in a row', async () => {
    jest.spyOn(logger, 'warn').mockImplementation(() => undefined);
    jest.spyOn(logger, 'debug').mockImplementation(() => undefined);
    const circuit = new RedisCircuit(logger, messages, { timeoutsToOpen: 3 });
    circuit.failed(new RedisTimeout('late'));
    circuit.failed(new Error('Command timed out'));
    circuit.succeeded();
    circuit.failed(new RedisTimeout('late'));
    circuit.failed(new RedisTimeout('late'));
    await settle();
    expect(circuit.open).toBe(false);
    circuit.failed(new RedisTimeout('late'));
    expect(circuit.open).toBe(true);
  });

  it('counts calls sent together as one timeout, and a late reply ends the run', async () => {
    jest.spyOn(logger, 'warn').mockImplementation(() => undefined);
    jest.spyOn(logger, 'debug').mockImplementation(() => undefined);
    const circuit = new RedisCircuit(logger, messages, { timeoutsToOpen: 3 });
    const burst = performance.now();
    for (let i = 0; i < 10; i++) circuit.failed(new RedisTimeout('late', burst));
    let answer: () => void = () => undefined;
    const reply = new Promise<void>((resolve) => (answer = resolve));
    circuit.failed(new RedisTimeout('late', performance.now(), reply));
    await settle();
    expect(circuit.open).toBe(false);
    // The late call answers after all: Redis is slow, not gone, and the run starts again.
    answer();
    await settle();
    circuit.failed(new RedisTimeout('late', performance.now()));
    circuit.failed(new RedisTimeout('late', performance.now()));
    await settle();
    expect(circuit.open).toBe(false);
    circuit.failed(new RedisTimeout('late', performance.now()));
    expect(circuit.open).toBe(true);
  });
});
