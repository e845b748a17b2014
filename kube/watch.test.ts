import { expect } from 'chai';
import { KubeConfig, Watch, type KubernetesObject } from '@kubernetes/client-node';
import { listWatch, watchTimeoutSeconds } from './watch.js';

/** A watch the apiserver ends cleanly (its timeoutSeconds) the first `ends` times, then keeps open. */
class EndingWatch extends Watch {
  calls: Record<string, unknown>[] = [];
  constructor(private ends: number) {
    super(new KubeConfig());
  }
  override watch(
    _path: string,
    query: Record<string, unknown>,
    _callback: (phase: string, obj: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    this.calls.push(query);
    if (this.ends-- > 0) setImmediate(() => done(null));
    return Promise.resolve(new AbortController());
  }
}

const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

describe('watch: how our caches watch', () => {
  it('the apiserver ends each watch after 5 to 10 minutes, jittered', () => {
    expect([0, 0.5, 0.999].map((r) => watchTimeoutSeconds(() => r))).to.deep.equal([300, 450, 599]);
  });

  it('a watch the apiserver ended is watched again at once, from the same resourceVersion, and no relist', async () => {
    const watch = new EndingWatch(3);
    let lists = 0;
    const lw = listWatch('/api/v1/namespaces', watch, () => {
      lists++;
      return Promise.resolve({ items: [] as KubernetesObject[], metadata: { resourceVersion: '42' } });
    });
    await lw.start();
    // client-node's default would now wait 1 s, then 2 s, then 4 s between these.
    await turns(20);
    await lw.stop();
    expect(watch.calls).to.have.length(4);
    expect(watch.calls.map((q) => q.resourceVersion)).to.deep.equal(['42', '42', '42', '42']);
    expect(lists).to.equal(1);
  });
});
