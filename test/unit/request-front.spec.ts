import express, { type RequestHandler } from 'express';
import helmet from 'helmet';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { requestFront, type ResponseObserver, staticHeadersOf } from '../../src/common/http/request-front';

const HELMET_OPTIONS = { contentSecurityPolicy: false, crossOriginEmbedderPolicy: false } as const;
/** When the handler of /slow last ran. */
let slowHandledAt = NaN;

async function serve(first: RequestHandler): Promise<{ base: string; server: Server }> {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(first);
  app.get('/ok', (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/slow', () => {
    slowHandledAt = performance.now(); // never answers: the client gives up
  });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

function headersOf(res: Response): Record<string, string> {
  const out: Record<string, string> = {};
  res.headers.forEach((value, name) => {
    if (!['date', 'x-request-id', 'connection', 'keep-alive'].includes(name)) out[name] = value;
  });
  return out;
}

describe('requestFront', () => {
  const closed: { path: string; status: number; finished: boolean; startedAt: number; closedAt: number }[] = [];
  const observer: ResponseObserver = {
    responseClosed: (req, res, startedAt) =>
      closed.push({
        path: req.path,
        status: res.statusCode,
        finished: res.writableFinished,
        startedAt,
        closedAt: performance.now(),
      }),
  };
  let front: { base: string; server: Server };
  let plain: { base: string; server: Server };

  beforeAll(async () => {
    front = await serve(requestFront([observer], staticHeadersOf(helmet(HELMET_OPTIONS))));
    plain = await serve(helmet(HELMET_OPTIONS));
  });

  afterAll(async () => {
    for (const s of [front.server, plain.server]) {
      s.closeAllConnections();
      await new Promise((resolve) => s.close(resolve));
    }
  });

  it('sets exactly the headers helmet sets itself', async () => {
    const [ours, helmets] = await Promise.all([fetch(`${front.base}/ok`), fetch(`${plain.base}/ok`)]);
    expect(headersOf(ours)).toEqual(headersOf(helmets));
    expect(headersOf(ours)['x-content-type-options']).toBe('nosniff');
  });

  it('gives every request an id, keeping a safe one from the caller', async () => {
    const generated = await fetch(`${front.base}/ok`);
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const kept = await fetch(`${front.base}/ok`, { headers: { 'x-request-id': 'caller-id.1' } });
    expect(kept.headers.get('x-request-id')).toBe('caller-id.1');
    const replaced = await fetch(`${front.base}/ok`, { headers: { 'x-request-id': 'bad id\twith spaces' } });
    expect(replaced.headers.get('x-request-id')).not.toContain('bad');
  });

  it('tells the observers once per response, finished or abandoned', async () => {
    closed.length = 0;
    await (await fetch(`${front.base}/ok`)).arrayBuffer();
    await expect(fetch(`${front.base}/slow`, { signal: AbortSignal.timeout(100) })).rejects.toThrow();
    for (let i = 0; i < 100 && closed.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(closed).toHaveLength(2);
    expect(closed[0]).toMatchObject({ path: '/ok', status: 200, finished: true });
    expect(closed[1]).toMatchObject({ path: '/slow', finished: false });
    // startedAt is the request's arrival, before its handler; the observer is told after the client left.
    expect(closed[1].startedAt).toBeLessThanOrEqual(slowHandledAt);
    expect(closed[1].closedAt).toBeGreaterThan(slowHandledAt);
  });
});

describe('staticHeadersOf', () => {
  it('records what a header-only middleware sets and removes', () => {
    const middleware: RequestHandler = (_req, res, next) => {
      res.setHeader('X-One', '1');
      res.removeHeader('X-Powered-By');
      next();
    };
    expect(staticHeadersOf(middleware)).toEqual([
      ['X-One', '1'],
      ['X-Powered-By', undefined],
    ]);
  });

  it('refuses a middleware that does not finish synchronously or fails', () => {
    const later: RequestHandler = (_req, _res, next) => void setImmediate(next);
    expect(() => staticHeadersOf(later)).toThrow(/synchronously/);
    const failing: RequestHandler = (_req, _res, next) => next(new Error('no'));
    expect(() => staticHeadersOf(failing)).toThrow('no');
  });
});
