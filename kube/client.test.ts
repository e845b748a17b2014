// The apiserver clients share one keep-alive pool (client-node's own auth makes a pool per
// request) and raw requests send repeated headers; checked against a loopback HTTP server.
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKube, type Kube } from './client.js';

describe('kube client: one pool, raw requests', () => {
  let server: Server;
  let dir: string;
  let kube: Kube;
  let connections = 0;
  const seen: IncomingMessage[] = [];

  before(async () => {
    server = createServer((req, res) => {
      seen.push(req);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ kind: 'NamespaceList', apiVersion: 'v1', metadata: {}, items: [] }));
    });
    server.on('connection', () => connections++);
    // As the apiserver (Go's net/http, IdleTimeout 90 s): idle connections are kept, and no
    // Keep-Alive header tells the client how long.
    server.keepAliveTimeout = 0;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    dir = mkdtempSync(join(tmpdir(), 'qj-kube-'));
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        // client-node takes plain HTTP only with skipTLSVerify.
        clusters: [
          { name: 'c', cluster: { server: `http://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true } },
        ],
        users: [{ name: 'u', user: { token: 'secret-token' } }],
        contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'x',
      }),
    );
    kube = loadKube(kubeconfig);
  });

  after(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    server.closeAllConnections();
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    seen.length = 0;
    connections = 0;
  });

  it('sends 20 calls of the generated clients and the raw one over the pool it opened, each with the token', async () => {
    // The first calls open the pool (a second connection when a call starts before the first
    // one's socket is handed back); after that no call opens another.
    await kube.core.listNamespace();
    await kube.core.listNamespace();
    await kube.request({ method: 'GET', path: '/api/v1/namespaces' });
    const opened = connections;
    seen.length = 0;
    for (let i = 0; i < 10; i++) {
      await kube.core.listNamespace();
      await kube.request({ method: 'GET', path: '/api/v1/namespaces' });
    }
    expect(seen).to.have.length(20);
    for (const req of seen) expect(req.headers.authorization).to.equal('Bearer secret-token');
    expect(opened).to.be.within(1, 2);
    expect(connections).to.equal(opened);
  });

  it('keeps a connection idle for 5 s and uses it again (a burst after a pause pays no new handshakes)', async function () {
    this.timeout(15_000);
    await kube.request({ method: 'GET', path: '/api/v1/namespaces' });
    const opened = connections;
    // undici's own default closes an idle connection after 4 s when the server names no timeout.
    await new Promise((r) => setTimeout(r, 5_000));
    await kube.request({ method: 'GET', path: '/api/v1/namespaces' });
    expect(connections).to.equal(opened);
  });

  it('sends an array header as repeated lines and a JSON body with its type', async () => {
    const r = await kube.request({
      method: 'POST',
      path: '/apis/authorization.k8s.io/v1/subjectaccessreviews',
      body: { spec: {} },
      headers: { 'Impersonate-User': 'alice', 'Impersonate-Group': ['a', 'b'] },
    });
    expect(r.status).to.equal(200);
    expect(r.body).to.deep.include({ kind: 'NamespaceList' });
    const req = seen[0];
    const groups = (req?.rawHeaders ?? []).filter(
      (_, i, all) => all[i - 1]?.toLowerCase() === 'impersonate-group',
    );
    expect(groups).to.deep.equal(['a', 'b']);
    expect(req?.headers['content-type']).to.equal('application/json');
  });
});
