import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const shim = join(dirname(fileURLToPath(import.meta.url)), 'own-address.js');

/** Where a program's servers end up listening, loaded with the shim as the kubelet loads it. */
function listened(program: string, podIP = '127.0.0.1'): string[] {
  const out = execFileSync(process.execPath, ['--import', shim, '--input-type=module', '-e', program], {
    env: { PATH: process.env.PATH, PROCESS_KUBELET_POD_IP: podIP },
    encoding: 'utf8',
  });
  return out.trim().split('\n');
}

const servers = `
import net from 'node:net';
import http from 'node:http';
const forms = [
  (s, cb) => s.listen(0, cb),
  (s, cb) => s.listen(0, '0.0.0.0', cb),
  (s, cb) => s.listen(0, '::', cb),
  (s, cb) => s.listen({ port: 0 }, cb),
  (s, cb) => s.listen(cb),
  (s, cb) => s.listen(0, 511, cb),
  (s, cb) => s.listen(0, '127.0.0.2', cb),
  (s, cb) => s.listen({ port: 0, host: '127.0.0.3' }, cb),
];
for (const [i, f] of forms.entries()) {
  const s = i % 2 ? http.createServer() : net.createServer();
  await new Promise((r) => f(s, r));
  console.log(s.address().address);
  s.close();
}`;

describe('own-address: the process kubelet gives each pod its own "all addresses"', () => {
  it('binds every form of "any address" to the pod IP, and keeps explicit ones', () => {
    expect(listened(servers, '127.0.0.1')).to.deep.equal([
      '127.0.0.1',
      '127.0.0.1',
      '127.0.0.1',
      '127.0.0.1',
      '127.0.0.1',
      '127.0.0.1',
      '127.0.0.2',
      '127.0.0.3',
    ]);
  });

  it('changes nothing outside a pod', () => {
    const out = execFileSync(
      process.execPath,
      [
        '--import',
        shim,
        '--input-type=module',
        '-e',
        `import net from 'node:net'; const s = net.createServer(); s.listen(0, () => { console.log(s.address().address); s.close(); });`,
      ],
      { env: { PATH: process.env.PATH }, encoding: 'utf8' },
    );
    expect(out.trim()).to.be.oneOf(['::', '0.0.0.0']);
  });
});
