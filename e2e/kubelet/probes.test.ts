import { expect } from 'chai';
import { createServer } from 'node:http';
import type { V1Container } from '@kubernetes/client-node';
import { probeUrl, ProbeState, startReadinessProbe } from './probes.js';

const container: V1Container = { name: 'api', ports: [{ name: 'http', containerPort: 7070 }] };

describe('probes: readiness as the kubelet decides it', () => {
  const urls: [string, Parameters<typeof probeUrl>[1], string | undefined][] = [
    ['a named port', { httpGet: { path: '/readyz', port: 'http' } }, 'http://10.244.0.5:7070/readyz'],
    ['a numbered port', { httpGet: { path: 'healthz', port: 8081 } }, 'http://10.244.0.5:8081/healthz'],
    [
      'a numeric string',
      { httpGet: { path: '/', port: '9000' as unknown as number } },
      'http://10.244.0.5:9000/',
    ],
    ['a host and scheme', { httpGet: { host: 'h', scheme: 'HTTPS', path: '/x', port: 1 } }, 'https://h:1/x'],
    ['an unknown port name', { httpGet: { path: '/', port: 'metrics' } }, undefined],
    ['an exec probe', { exec: { command: ['true'] } }, undefined],
  ];
  for (const [name, probe, want] of urls)
    it(`calls ${want ?? 'nothing'} for ${name}`, () =>
      expect(probeUrl(container, probe, '10.244.0.5')).to.equal(want));

  it('turns ready after successThreshold successes and unready after failureThreshold failures', () => {
    const s = new ProbeState({ successThreshold: 2, failureThreshold: 3 });
    expect([true, true].map((ok) => s.record(ok))).to.deep.equal([false, true]);
    expect(s.ready).to.equal(true);
    expect([false, false, true, false, false, false].map((ok) => s.record(ok))).to.deep.equal([
      false,
      false,
      false,
      false,
      false,
      true,
    ]);
    expect(s.ready).to.equal(false);
  });

  it('probes a real server: ready while it answers 200, unready on 503', async () => {
    let status = 200;
    const srv = createServer((_req, res) => {
      res.statusCode = status;
      res.end();
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as { port: number }).port;
    const seen: boolean[] = [];
    const next = () => new Promise<boolean>((r) => (wake = r));
    let wake: (v: boolean) => void = () => undefined;
    const stop = startReadinessProbe(
      `http://127.0.0.1:${port}/readyz`,
      { periodSeconds: 0.01, failureThreshold: 1 },
      (ready) => {
        seen.push(ready);
        wake(ready);
      },
    );
    try {
      expect(await next()).to.equal(true);
      status = 503;
      expect(await next()).to.equal(false);
    } finally {
      stop();
      srv.close();
    }
    expect(seen).to.deep.equal([true, false]);
  });
});
