import express, { type Response } from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { clientGone, clientGoneWhenAsked } from '../../src/common/http/client-gone';

describe('clientGone', () => {
  let server: Server;
  let base: string;
  /** Each request's response, and signals asked for before and after the client left. */
  const seen: { res: Response; early?: AbortSignal; asked: () => AbortSignal }[] = [];

  beforeAll(async () => {
    const app = express();
    app.get('/early', (_req, res) => void seen.push({ res, early: clientGone(res), asked: clientGoneWhenAsked(res) }));
    app.get('/done', (_req, res) => {
      seen.push({ res, early: clientGone(res), asked: clientGoneWhenAsked(res) });
      res.json({ ok: true });
    });
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  beforeEach(() => (seen.length = 0));

  async function until(condition: () => boolean): Promise<void> {
    for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 5));
  }

  it('fires when the client leaves, also for a signal asked for only afterwards', async () => {
    // The client leaves once the server holds its request (a fixed timeout may fire before it arrives).
    const leave = new AbortController();
    const request = fetch(`${base}/early`, { signal: leave.signal });
    await until(() => seen.length > 0);
    leave.abort();
    await expect(request).rejects.toThrow();
    await until(() => seen[0]?.early?.aborted === true);
    expect(seen[0].early!.aborted).toBe(true);
    const late = seen[0].asked();
    expect(late.aborted).toBe(true);
    expect(seen[0].asked()).toBe(late);
  });

  it('does not fire for a response that completed', async () => {
    await (await fetch(`${base}/done`)).json();
    await until(() => seen[0]?.res.writableFinished === true);
    await new Promise((r) => setTimeout(r, 20));
    expect(seen[0].early!.aborted).toBe(false);
    expect(seen[0].asked().aborted).toBe(false);
  });
});
