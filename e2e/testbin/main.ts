// Test programs behind the `qinling-jobs-testbin` image of the process kubelet: small, single
// purpose commands a journey runs in a pod, each saying what it did on stdout.
//   call URL [BODY]    POST BODY (or GET without one); exit 0 on 2xx, 1 otherwise
//   exit CODE          exit with CODE
//   serve [PORT]       answer HTTP on $POD_IP:PORT (default 8080) until stopped
//   kube-get PATH      GET PATH on the apiserver as the pod's ServiceAccount ($KUBECONFIG);
//                      exit 0 on 2xx, 3 on 403 Forbidden, 1 otherwise
import { createServer } from 'node:http';
import { request, type RequestOptions } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';

async function call(url: string, body?: string): Promise<number> {
  const res = await fetch(url, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      'content-type': 'application/json',
      'x-pod-name': process.env.HOSTNAME ?? '',
    },
    ...(body === undefined ? {} : { body }),
  });
  console.log(`call ${url}: ${res.status}`);
  return res.ok ? 0 : 1;
}

function serve(port: number): Promise<number> {
  const host = process.env.POD_IP ?? '127.0.0.1';
  const srv = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ pod: process.env.HOSTNAME, pid: process.pid, path: req.url }));
  });
  srv.listen(port, host, () => console.log(`serving on ${host}:${port}`));
  return new Promise((resolve) => process.on('SIGTERM', () => srv.close(() => resolve(0))));
}

async function kubeGet(path: string): Promise<number> {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  const server = new URL(kc.getCurrentCluster()?.server ?? '');
  const opts: RequestOptions = { host: server.hostname, port: server.port, path, method: 'GET' };
  await kc.applyToHTTPSOptions(opts);
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(opts, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
  console.log(`GET ${path}: ${status}`);
  if (status >= 200 && status < 300) return 0;
  return status === 403 ? 3 : 1;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, a, b] = argv;
  switch (cmd) {
    case 'call':
      return call(a ?? '', b);
    case 'exit':
      console.log(`exiting with ${a}`);
      return Number(a);
    case 'serve':
      return serve(Number(a ?? 8080));
    case 'kube-get':
      return kubeGet(a ?? '/');
    default:
      console.error(`testbin: unknown command ${cmd}`);
      return 2;
  }
}

process.exitCode = await main(process.argv.slice(2));
