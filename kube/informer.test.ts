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

describe('Informer.ordered: the cache in one order, kept by the events', () => {
  const job = (ns: string, name: string, created: string, rv = '1') => ({
    metadata: { namespace: ns, name, uid: `uid-${name}`, creationTimestamp: created, resourceVersion: rv },
  });
  type J = ReturnType<typeof job>;
  const order = (a: J, b: J) =>
    a.metadata.creationTimestamp < b.metadata.creationTimestamp
      ? -1
      : a.metadata.creationTimestamp > b.metadata.creationTimestamp
        ? 1
        : a.metadata.uid < b.metadata.uid
          ? -1
          : a.metadata.uid > b.metadata.uid
            ? 1
            : 0;
  const names = (xs: readonly J[]) => xs.map((x) => x.metadata.name);
  const scene = () => {
    const fake = new FakeListWatch();
    const inf = new Informer<J>(
      't',
      pino({ level: 'silent' }),
      () => fake as unknown as ListWatch<KubernetesObject>,
      [],
    );
    return { fake, sorted: inf.ordered(order) };
  };

  it('places adds in order, per namespace and over all, replaces updates in place, and drops deletes', () => {
    const { fake, sorted } = scene();
    fake.emit('add', job('a', 'c', '2026-01-03T00:00:00Z'));
    fake.emit('add', job('b', 'a', '2026-01-01T00:00:00Z'));
    fake.emit('add', job('a', 'b2', '2026-01-02T00:00:00Z'));
    fake.emit('add', job('a', 'b1', '2026-01-02T00:00:00Z')); // same second: by uid
    expect(names(sorted())).to.deep.equal(['a', 'b1', 'b2', 'c']);
    expect(names(sorted('a'))).to.deep.equal(['b1', 'b2', 'c']);
    expect(names(sorted('b'))).to.deep.equal(['a']);
    const updated = job('a', 'b2', '2026-01-02T00:00:00Z', '2');
    fake.emit('update', updated);
    expect(sorted('a')[1]).to.equal(updated);
    expect(sorted()).to.have.length(4);
    fake.emit('delete', job('a', 'b1', '2026-01-02T00:00:00Z'));
    fake.emit('delete', job('b', 'a', '2026-01-01T00:00:00Z'));
    expect(names(sorted())).to.deep.equal(['b2', 'c']);
    expect(names(sorted('b'))).to.deep.equal([]);
    fake.emit('delete', job('b', 'never-seen', '2026-01-01T00:00:00Z')); // a relist's stale delete
    expect(names(sorted())).to.deep.equal(['b2', 'c']);
  });

  it('stays sorted through many random adds and deletes (a relist emits them in any order)', () => {
    const { fake, sorted } = scene();
    let seed = 7;
    const rnd = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const live = new Map<string, J>();
    for (let i = 0; i < 2000; i++) {
      const name = `j${Math.floor(rnd() * 300)}`;
      const ns = `ns${name.length % 3}`;
      const existing = live.get(name);
      if (existing && rnd() < 0.4) {
        fake.emit('delete', existing);
        live.delete(name);
      } else {
        const j =
          existing ?? job(ns, name, `2026-01-01T00:00:${String(Math.floor(rnd() * 60)).padStart(2, '0')}Z`);
        const next = { metadata: { ...j.metadata, resourceVersion: String(i) } };
        fake.emit(existing ? 'update' : 'add', next);
        live.set(name, next);
      }
    }
    const expected = [...live.values()].sort(order);
    expect(sorted()).to.deep.equal(expected);
    for (const ns of ['ns0', 'ns1', 'ns2'])
      expect(sorted(ns)).to.deep.equal(expected.filter((j) => j.metadata.namespace === ns));
  });
});
