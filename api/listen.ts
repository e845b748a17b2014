// The facade's listeners, plain HTTP or TLS, with bounds on slow clients, so that one who
// trickles a request in holds a connection for seconds, not Node's default five minutes.
import { createServer, type RequestListener, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';

export interface ListenOptions {
  /** Longest a whole request (headers and body) may take to arrive. */
  requestTimeoutMs: number;
  /** Serve TLS with this certificate chain and key (PEM); plain HTTP without. */
  tls?: { cert: Buffer; key: Buffer };
}

export function makeServer(handler: RequestListener, o: ListenOptions): Server {
  const headersTimeout = Math.min(20_000, o.requestTimeoutMs);
  const options = {
    requestTimeout: o.requestTimeoutMs,
    headersTimeout,
    // Longer than the idle timeouts of common clients and load balancers (60 s), so the server
    // is never the side that closes a keep-alive connection a client is about to reuse.
    keepAliveTimeout: 65_000,
    // How often the bounds above are checked (Node's default is 30 s).
    connectionsCheckingInterval: Math.max(50, Math.min(5_000, headersTimeout / 4)),
  };
  return o.tls ? createTlsServer({ ...options, ...o.tls }, handler) : createServer(options, handler);
}

/** Listens; resolves to the port (the one picked, for port 0). */
export async function listen(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
    server.listen(port, host);
  });
  const addr = server.address();
  return typeof addr === 'object' && addr ? addr.port : port;
}
