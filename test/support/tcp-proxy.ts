import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP forwarder on 127.0.0.1 in front of Postgres or Redis, so that a test can
 * make a dependency unreachable for the app under test (`cut`: connections reset),
 * hang (`stall`: connections stay open, nothing is relayed) or answer slowly (`slow`:
 * everything is relayed late, in order), and bring it back (`restore`) without touching
 * the shared servers.
 */
export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private isCut = false;
  private isStalled = false;
  private delayMs = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    readonly targetHost: string,
    readonly targetPort: number,
  ) {
    server.on('connection', (socket) => this.accept(socket));
  }

  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    const server = createServer();
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        resolve(typeof address === 'object' && address !== null ? address.port : 0);
      });
    });
    return new TcpProxy(server, port, targetHost, targetPort);
  }

  /** A proxy in front of the host and port of a postgres:// or redis:// URL. */
  static async forUrl(url: string): Promise<TcpProxy> {
    const { host, port } = TcpProxy.parse(url);
    return TcpProxy.start(host, port);
  }

  /** Host and port of a postgres:// or redis:// URL (default ports 5432 and 6379). */
  static parse(url: string): { host: string; port: number } {
    const parsed = new URL(url);
    const defaultPort = parsed.protocol.startsWith('redis') ? 6379 : 5432;
    return { host: parsed.hostname || '127.0.0.1', port: parsed.port ? Number(parsed.port) : defaultPort };
  }

  /** Resets every live connection, and every new one as soon as it arrives, until `restore()`. */
  cut(): void {
    this.isCut = true;
    for (const socket of this.sockets) reset(socket);
    this.sockets.clear();
  }

  /** Keeps every connection open but relays nothing either way, until `restore()`. */
  stall(): void {
    this.isStalled = true;
    for (const socket of this.sockets) socket.pause();
  }

  /** Relays every chunk, either way, `ms` after it arrived (in order), until `restore()`. */
  slow(ms: number): void {
    this.delayMs = ms;
  }

  /** Forwards again: new connections after a cut, the held ones after a stall, at once after `slow`. */
  restore(): void {
    this.isCut = false;
    this.isStalled = false;
    this.delayMs = 0;
    for (const socket of this.sockets) socket.resume();
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    if (this.isCut) {
      reset(client);
      return;
    }
    const upstream = connect(this.targetPort, this.targetHost);
    for (const [socket, peer] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      this.sockets.add(socket);
      socket.on('error', () => undefined);
      // Relayed by hand rather than piped: a pipe may resume a socket that a stall paused.
      const relay = new DelayedRelay(peer);
      socket.on('data', (chunk: Buffer) => relay.write(chunk, this.delayMs));
      socket.on('close', () => {
        this.sockets.delete(socket);
        peer.destroy();
      });
      if (this.isStalled) socket.pause();
    }
  }
}

/** Writes chunks to a socket, each no sooner than its delay allows and never before an earlier one. */
class DelayedRelay {
  private readonly queue: Array<{ chunk: Buffer; due: number }> = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly peer: Socket) {}

  write(chunk: Buffer, delayMs: number): void {
    if (delayMs === 0 && this.queue.length === 0) {
      this.peer.write(chunk);
      return;
    }
    this.queue.push({ chunk, due: Date.now() + delayMs });
    this.schedule();
  }

  private schedule(): void {
    if (this.timer || this.queue.length === 0) return;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        while (this.queue.length > 0 && this.queue[0].due <= Date.now()) {
          const next = this.queue.shift();
          if (next && !this.peer.destroyed) this.peer.write(next.chunk);
        }
        this.schedule();
      },
      Math.max(0, this.queue[0].due - Date.now()),
    );
  }
}

/** `url` with its host and port replaced by the proxy's, e.g. to hand the app under test. */
export function proxiedUrl(url: string, proxy: TcpProxy): string {
  const parsed = new URL(url);
  parsed.hostname = '127.0.0.1';
  parsed.port = String(proxy.port);
  return parsed.toString();
}

function reset(socket: Socket): void {
  if (socket.destroyed) return;
  if (socket.readyState === 'open') socket.resetAndDestroy();
  else socket.destroy();
}
