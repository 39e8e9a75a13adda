import type { NestApplicationOptions } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { ServeStaticOptions } from '@nestjs/platform-express/interfaces/serve-static-options.interface';
import type { Express } from 'express';
import * as http from 'node:http';
import type { Socket } from 'node:net';
import { answerWrongMethods, type StaticMount } from './allowed-methods';
import { answerClientErrors, MAX_HEADER_BYTES } from './client-errors';

/**
 * The Express adapter, with requests and responses born with Express's prototypes.
 *
 * Express gives every incoming request and response its own methods by changing their prototype
 * (`Object.setPrototypeOf(req, app.request)` in `app.handle`). V8 pays for that on every request: the
 * objects of a request whose prototype was changed survive young-generation collections and are
 * promoted, so scavenges copy megabytes each and pause the event loop for milliseconds (measured: about
 * a fifth of what a request allocates was promoted; with this adapter, nothing). Here the HTTP server
 * constructs requests and responses whose prototype already is `app.request` / `app.response`, so
 * Express's call finds the prototype it would set and changes nothing.
 *
 * A wrong method on an existing path (a route's, or a static file's) answers 405 with `Allow`, not the
 * 404 of an unknown path: the allowed methods are read once from the registered routes and static
 * mounts, when Nest installs its not-found handler after every route (see allowed-methods.ts).
 */
export class ConfluxExpressAdapter extends ExpressAdapter {
  private readonly staticMounts: StaticMount[] = [];

  override useStaticAssets(path: string, options: ServeStaticOptions): unknown {
    this.staticMounts.push({ prefix: options?.prefix ?? '/', root: path });
    return super.useStaticAssets(path, options);
  }

  override setNotFoundHandler(handler: (...args: unknown[]) => unknown, prefix?: string): unknown {
    answerWrongMethods(this.getInstance<Express>(), this.staticMounts);
    return super.setNotFoundHandler(handler, prefix);
  }

  override initHttpServer(options: NestApplicationOptions): void {
    if (options?.httpsOptions || options?.forceCloseConnections) {
      super.initHttpServer(options);
    } else {
      const app = this.getInstance<Express>();
      this.httpServer = http.createServer(
        {
          IncomingMessage: requestClass(app.request),
          ServerResponse: responseClass(app.response),
          maxHeaderSize: MAX_HEADER_BYTES,
        },
        app,
      );
    }
    answerClientErrors(this.httpServer);
  }
}

/** A constructor of IncomingMessage whose instances have `prototype` (which inherits from IncomingMessage). */
function requestClass(prototype: object): typeof http.IncomingMessage {
  function ExpressRequest(this: http.IncomingMessage, socket: Socket): void {
    Reflect.apply(http.IncomingMessage, this, [socket]);
  }
  ExpressRequest.prototype = prototype;
  return ExpressRequest as unknown as typeof http.IncomingMessage;
}

/** A constructor of ServerResponse whose instances have `prototype` (which inherits from ServerResponse). */
function responseClass(prototype: object): typeof http.ServerResponse {
  function ExpressResponse(this: http.ServerResponse, req: http.IncomingMessage, options?: object): void {
    Reflect.apply(http.ServerResponse, this, [req, options]);
  }
  ExpressResponse.prototype = prototype;
  return ExpressResponse as unknown as typeof http.ServerResponse;
}
