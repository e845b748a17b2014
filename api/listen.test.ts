// The listener's bounds on slow clients, over a real loopback socket.
import { expect } from 'chai';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { listen, makeServer } from './listen.js';
import { selfSignedCertificate, type TestCertificate } from '../fakes/tls.js';

/** Writes `sent` on a raw connection and resolves to what came back when the server closed it. */
function trickle(port: number, sent: string): Promise<{ answer: string; ms: number }> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1', () => sock.write(sent));
    let answer = '';
    sock.on('data', (d: Buffer) => (answer += d.toString()));
    sock.on('error', reject);
    sock.on('close', () => resolve({ answer, ms: performance.now() - start }));
  });
}

describe('listen: slow clients are cut off', () => {
  const cases = [
    {
      name: 'a body that never comes',
      sent: 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n',
    },
    { name: 'headers that never end', sent: 'GET / HTTP/1.1\r\nHost: x\r\n' },
  ];
  for (const tc of cases) {
    it(`${tc.name}: 408 once the request timeout has passed`, async () => {
      const server = makeServer((req, res) => req.resume().on('end', () => res.end('ok')), {
        requestTimeoutMs: 300,
      });
      const port = await listen(server, 0, '127.0.0.1');
      try {
        const r = await trickle(port, tc.sent);
        expect(r.answer).to.match(/^HTTP\/1\.1 408/);
        expect(r.ms).to.be.below(2_000);
      } finally {
        server.close();
      }
    });
  }

  it('a request that arrives in time is served', async () => {
    const server = makeServer((_req, res) => res.end('ok'), { requestTimeoutMs: 300 });
    const port = await listen(server, 0, '127.0.0.1');
    try {
      expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).to.equal('ok');
    } finally {
      server.close();
    }
  });
});

describe('listen: TLS with --tls-cert-file/--tls-key-file', () => {
  let tls: TestCertificate;
  before(() => {
    tls = selfSignedCertificate();
  });

  /** GET over TLS, trusting only the test's certificate. */
  const get = (port: number, ca: Buffer) =>
    new Promise<{ status: number; body: string; protocol: string }>((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port, path: '/', ca, agent: false }, (res) => {
        const protocol = (res.socket as TLSSocket).getProtocol() ?? '';
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, protocol }));
      });
      req.on('error', reject);
      req.end();
    });

  it('serves HTTPS with the given certificate, and refuses plain HTTP', async () => {
    const { cert, key } = tls;
    const server = makeServer((_req, res) => res.end('over tls'), {
      requestTimeoutMs: 5000,
      tls: { cert, key },
    });
    const port = await listen(server, 0, '127.0.0.1');
    try {
      const r = await get(port, cert);
      expect(r).to.deep.include({ status: 200, body: 'over tls' });
      expect(r.protocol).to.match(/^TLSv1\.[23]$/);
      const plain = await fetch(`http://127.0.0.1:${port}/`).then(
        (res) => res.status,
        () => 'refused',
      );
      expect(plain).to.not.equal(200);
    } finally {
      server.close();
      server.closeAllConnections();
    }
  });
});
