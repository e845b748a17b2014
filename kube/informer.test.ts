import { expect } from 'chai';
import type { KubernetesObject, ListWatch } from '@kubernetes/client-node';
import { pino } from 'pino';
import { FakeListWatch } from '../fakes/listwatch.js';
import { Informer, restartDelayMs } from './informer.js';
import { watchTimeoutSeconds } from './watch.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

function informer(fake: FakeListWatch, delays: number[]) {
  return new Informer<KubernetesObject>(
    'test',
    pino({ level: 'silent' }),
    () => fake as unknown as ListWatch<KubernetesObject>,
    [],
    (attempt) => {
      delays.push(attempt);
      return 5;
    },
  );
}

describe('Informer: a watch that stops is started again, listened to or not', () => {
  it('restarts after an error with no handler registered (the facade namespace cache), and is current again', async () => {
    const fake = new FakeListWatch();
    const inf = informer(fake, []);
    await inf.start();
    expect(inf.isCurrent).to.equal(true);
    fake.emit('error', new Error('connection reset'));
    expect(inf.isCurrent).to.equal(false);
    expect(inf.hasSynced).to.equal(true); // still serves its last state meanwhile
    await tick(30);
    expect(fake.starts).to.equal(2);
    expect(inf.isCurrent).to.equal(true);
  });

  it('backs off further while restarts fail, and starts over once one succeeds', async () => {
    const fake = new FakeListWatch();
    const attempts: number[] = [];
    const inf = informer(fake, attempts);
    await inf.start();
    fake.failing = true;
    fake.emit('error', new Error('apiserver down'));
    await tick(40);
    fake.failing = false;
    await tick(40);
    expect(attempts.slice(0, 3)).to.deep.equal([1, 2, 3]);
    expect(inf.isCurrent).to.equal(true);
    fake.emit('error', new Error('again'));
    expect(attempts[attempts.length - 1]).to.equal(1);
    await tick(20);
  });

  it('never restarts after stop()', async () => {
    const fake = new FakeListWatch();
    const inf = informer(fake, []);
    await inf.start();
    await inf.stop();
    fake.emit('error', new Error('aborted by stop'));
    await tick(20);
    expect(fake.starts).to.equal(1);
  });

  it('jitters restart delays (1 s doubling to 30 s, ±20%) and watch timeouts (5-10 min)', () => {
    expect([1, 2, 3, 6, 9].map((a) => restartDelayMs(a, () => 0.5))).to.deep.equal([
      1000, 2000, 4000, 30_000, 30_000,
    ]);
    expect(restartDelayMs(1, () => 0)).to.equal(800);
    expect(restartDelayMs(1, () => 0.999999)).to.equal(1200);
    expect([watchTimeoutSeconds(() => 0), watchTimeoutSeconds(() => 0.999)]).to.deep.equal([300, 599]);
  });
});
