import { Controller, Get, LoggerService, Module, Param, UseFilters } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { AddressInfo } from 'node:net';
import { AppError } from '../../src/common/errors/app-error';
import { requestFront } from '../../src/common/http/request-front';
import { V2ErrorFilter } from '../../src/ml/v2/v2-error.filter';

/** What each probe route throws. */
const FAILURES: Record<string, () => unknown> = {
  invalid: () => new AppError('validation_failed', 'Unknown input "x"'),
  limited: () => new AppError('rate_limited', 'Too many requests', { headers: { 'Retry-After': '7' } }),
  postgres_down: () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
  bug: () => new TypeError('cannot read properties of undefined'),
};

@Controller('v2')
@UseFilters(V2ErrorFilter)
class ProbeController {
  @Get(':failure')
  fail(@Param('failure') failure: string): never {
    throw FAILURES[failure]();
  }
}

@Module({ controllers: [ProbeController] })
class ProbeModule {}

describe('V2ErrorFilter', () => {
  let app: NestExpressApplication;
  let base: string;
  const logged: { level: string; message: unknown }[] = [];
  const record =
    (level: string) =>
    (message: unknown, ...rest: unknown[]) =>
      logged.push({ level, message: typeof message === 'object' ? rest[0] : message });
  const logger: LoggerService = {
    log: record('log'),
    error: record('error'),
    warn: record('warn'),
    debug: record('debug'),
    verbose: record('verbose'),
  };

  beforeAll(async () => {
    app = await NestFactory.create<NestExpressApplication>(ProbeModule, { logger });
    app.use(requestFront([], []));
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  });

  afterAll(() => app.close());

  beforeEach(() => (logged.length = 0));

  async function get(failure: string): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
    const res = await fetch(`${base}/v2/${failure}`, { headers: { 'x-request-id': `req-${failure}` } });
    return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
  }

  it('answers a request error with the protocol body: the message as error, plus request_id', async () => {
    const res = await get('invalid');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'Unknown input "x"', request_id: 'req-invalid' });
    expect(logged.filter((l) => l.level === 'error')).toHaveLength(0);
  });

  it('keeps the envelope and headers of refusals about the caller', async () => {
    const res = await get('limited');
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(res.body).toEqual({ error: 'rate_limited', message: 'Too many requests', request_id: 'req-limited' });
  });

  it('answers an unreachable backing service 503 with Retry-After, like every other route, and logs it at error', async () => {
    const res = await get('postgres_down');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(res.body).toEqual({
      error: 'A backing service is unavailable; retry shortly',
      request_id: 'req-postgres_down',
    });
    expect(JSON.stringify(res.body)).not.toContain('5432');
    expect(logged).toContainEqual({ level: 'error', message: 'A backing service is unavailable; retry shortly' });
  });

  it('answers an unexpected error with a bare 500 and logs it in full at error', async () => {
    const res = await get('bug');
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: 'Internal server error', request_id: 'req-bug' });
    expect(logged).toContainEqual({ level: 'error', message: 'Unhandled error' });
  });
});
