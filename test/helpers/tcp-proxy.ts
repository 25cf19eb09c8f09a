import { createServer, connect, type Server, type Socket } from 'node:net';
import { freePort } from './ports.js';

/**
 * A TCP proxy on 127.0.0.1 that a test can cut, silence and restore, to take PostgreSQL or
 * Redis away from the app (and give it back) without touching the shared servers.
 */
export class TcpProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private silent = false;

  private constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  /** Reserves a port; the proxy starts cut unless `open` is true. */
  static async create(target: { host: string; port: number }, open = true): Promise<TcpProxy> {
    const port = await freePort();
    const proxy = new TcpProxy(port, target);
    if (open) await proxy.restore();
    return proxy;
  }

  /** Forwards again. Connections that lived through a silence are reset: their bytes are lost. */
  async restore(): Promise<void> {
    if (this.silent) this.dropConnections();
    this.silent = false;
    await this.listen();
  }

  /** Refuses new connections and drops the open ones, like a server that went away. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.dropConnections();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /**
   * Carries nothing while keeping every connection open and accepting new ones, like a
   * network partition: no reset, no refusal, the client only learns from its own timeouts.
   */
  async silence(): Promise<void> {
    this.silent = true;
    await this.listen();
  }

  /** `url` with its host and port replaced by this proxy's. */
  rewrite(url: string): string {
    const parsed = new URL(url);
    parsed.hostname = '127.0.0.1';
    parsed.port = String(this.port);
    return parsed.toString();
  }

  private async listen(): Promise<void> {
    if (this.server) return;
    const server = createServer((client) => this.forward(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  private forward(client: Socket): void {
    const upstream = connect(this.target.port, this.target.host);
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      this.sockets.add(from);
      from.on('close', () => this.sockets.delete(from));
      from.on('error', () => from.destroy());
      from.on('close', () => to.destroy());
      from.on('data', (chunk: Buffer) => {
        if (!this.silent) to.write(chunk);
      });
    }
  }

  private dropConnections(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }
}
