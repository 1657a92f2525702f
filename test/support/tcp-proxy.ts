import net from 'node:net';

/**
 * A TCP proxy between a client and a real server, for faults the server cannot be asked to make:
 * it forwards bytes unchanged, can cut a connection (TCP reset) after the server answered, so the
 * request was processed but the client never sees the answer, and answers 503 like a gateway while
 * nothing listens upstream (`upstreamPort` undefined or refused).
 */
export class TcpProxy {
  dropped = 0;
  forwarded = 0;
  answered503 = 0;
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    public upstreamPort: number | undefined,
    private readonly dropRate: number,
    private readonly random: () => number,
  ) {
    this.server = net.createServer((client) => this.serve(client));
  }

  static async start(upstreamPort: number | undefined, opts: { dropRate?: number; random?: () => number } = {}): Promise<TcpProxy> {
    const proxy = new TcpProxy(upstreamPort, opts.dropRate ?? 0, opts.random ?? Math.random);
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private track(s: net.Socket): net.Socket {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => {});
    return s;
  }

  private serve(client: net.Socket): void {
    this.track(client);
    const gateway503 = (): void => {
      this.answered503++;
      const body = '{"type":"about:blank","title":"Service Unavailable","status":503,"detail":"upstream refused"}';
      client.end(`HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\nconnection: close\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
    };
    if (this.upstreamPort === undefined) {
      client.once('data', gateway503);
      return;
    }
    const up = this.track(net.connect(this.upstreamPort, '127.0.0.1'));
    let connected = false;
    up.on('connect', () => (connected = true));
    up.on('error', () => {
      if (!connected) client.once('data', gateway503);
      else client.destroy();
    });
    client.on('data', (d) => up.write(d));
    client.on('end', () => up.end());
    client.on('close', () => up.destroy());
    up.on('data', (d) => {
      if (this.random() < this.dropRate) {
        // The server has answered: the request was processed; the client never gets the answer.
        this.dropped++;
        client.resetAndDestroy();
        up.destroy();
        return;
      }
      this.forwarded++;
      client.write(d);
    });
    up.on('end', () => client.end());
  }
}
