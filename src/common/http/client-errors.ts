import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { Logger } from '@nestjs/common';
import { type ErrorCode, ERROR_STATUS } from '../errors/app-error';

/**
 * The most bytes of request line and headers together that the HTTP server reads (node's default,
 * set explicitly so that `--max-http-header-size` does not change it). Our own credentials take a
 * few hundred bytes (a JWT, an API key); 16 KiB leaves room for proxies' headers and cookies, and
 * a request over it is answered 431 before anything reads it.
 */
export const MAX_HEADER_BYTES = 16 * 1024;

/** What node's parser and timers report about a client before there is a request to answer. */
function answerFor(err: NodeJS.ErrnoException): { code: ErrorCode; message: string } {
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    return { code: 'headers_too_large', message: `Request line and headers exceed ${MAX_HEADER_BYTES} bytes` };
  }
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return { code: 'request_timeout', message: 'The request did not arrive in time' };
  }
  return { code: 'bad_request', message: 'Malformed HTTP request' };
}

/** The socket's response in progress, when node has one (the same check node makes). */
interface HttpSocket extends Duplex {
  _httpMessage?: { headersSent?: boolean } | null;
}

const logger = new Logger('Http');

/**
 * Answers the requests node refuses itself (headers too large, malformed HTTP, a request that did
 * not arrive in time) with the uniform JSON envelope instead of node's bare status line, then closes
 * the connection as node does. Nothing is written when a response is already under way on the
 * connection, or when the client is gone.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: HttpSocket) => {
    if (err.code === 'ECONNRESET' || !socket.writable || socket._httpMessage?.headersSent) {
      socket.destroy();
      return;
    }
    const { code, message } = answerFor(err);
    const status = ERROR_STATUS[code];
    const requestId = randomUUID();
    const body = JSON.stringify({ error: code, message, request_id: requestId });
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
        'Content-Type: application/json; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        `X-Request-Id: ${requestId}\r\n` +
        'X-Content-Type-Options: nosniff\r\n' +
        'Connection: close\r\n\r\n' +
        body,
    );
    socket.destroy();
    logger.warn(`${status} ${code} (${err.code ?? 'client error'}) request_id=${requestId}`);
  });
}
