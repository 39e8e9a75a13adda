import { Body, Controller, Get, Module, Post, Req } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Express, Request } from 'express';
import type { AddressInfo } from 'node:net';
import { ConfluxExpressAdapter } from '../../src/common/http/express-adapter';

@Controller()
class ProbeController {
  @Post('echo')
  echo(@Body() body: unknown, @Req() req: Request): { body: unknown; host: string | undefined } {
    return { body, host: req.get('host') };
  }

  @Get('status')
  status(@Req() req: Request): { path: string } {
    return { path: req.path };
  }
}

@Module({ controllers: [ProbeController] })
class ProbeModule {}

describe('ConfluxExpressAdapter', () => {
  let app: NestExpressApplication;
  let base: string;
  /** The prototype of every request and response as the HTTP server hands them to Express. */
  const seen: { request: object | null; response: object | null }[] = [];

  beforeAll(async () => {
    app = await NestFactory.create<NestExpressApplication>(ProbeModule, new ConfluxExpressAdapter(), {
      logger: false,
    });
    const server = app.getHttpServer();
    server.prependListener('request', (req, res) => {
      seen.push({ request: Object.getPrototypeOf(req) as object, response: Object.getPrototypeOf(res) as object });
    });
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => app.close());

  it('hands Express requests and responses that already have its prototypes', async () => {
    seen.length = 0;
    const express = app.getHttpAdapter().getInstance() as Express;
    const res = await fetch(`${base}/status`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ path: '/status' });
    expect(seen).toHaveLength(1);
    expect(seen[0].request).toBe(express.request);
    expect(seen[0].response).toBe(express.response);
  });

  it('keeps the request and response behaviour of Express (body, req.get, status, JSON)', async () => {
    const res = await fetch(`${base}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ a: [1, 2, 3] }),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ body: { a: [1, 2, 3] }, host: new URL(base).host });
    const missing = await fetch(`${base}/nowhere`);
    expect(missing.status).toBe(404);
  });
});
