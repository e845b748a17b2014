import { expect } from 'chai';
import type { Kube, KubeRequest, KubeResponse } from '../kube/client.js';
import { HttpError } from './errors.js';
import { KubernetesTokens } from './kube-auth.js';

/** A fake of our own Kube.request: answers TokenReviews and SubjectAccessReviews from tables. */
function fakeKube(answer: (r: KubeRequest) => KubeResponse | Error): { kube: Kube; calls: KubeRequest[] } {
  const calls: KubeRequest[] = [];
  const kube = {
    request: (r: KubeRequest) => {
      calls.push(r);
      const a = answer(r);
      return a instanceof Error ? Promise.reject(a) : Promise.resolve(a);
    },
  } as unknown as Kube;
  return { kube, calls };
}

const review = (authenticated: boolean, username = 'system:serviceaccount:team-a:bot') => ({
  status: 201,
  body: {
    status: {
      authenticated,
      user: { username, uid: 'u-1', groups: ['system:serviceaccounts', 'system:authenticated'] },
    },
  },
});

describe('KubernetesTokens', () => {
  it('reviews a token, takes the project from the ServiceAccount namespace, impersonates with all groups', async () => {
    const { kube, calls } = fakeKube((r) =>
      r.path.includes('tokenreviews') ? review(true) : { status: 201, body: { status: { allowed: false } } },
    );
    const auth = new KubernetesTokens(kube, (ns) => `project-of-${ns}`);
    const c = await auth.authenticate('t1');
    expect(c).to.deep.include({
      userId: 'system:serviceaccount:team-a:bot',
      projectId: 'project-of-team-a',
      isAdmin: false,
    });
    expect(c?.actAs).to.deep.equal({
      user: 'system:serviceaccount:team-a:bot',
      uid: 'u-1',
      groups: ['system:serviceaccounts', 'system:authenticated'],
      extra: {},
    });
    await auth.authenticate('t1');
    expect(calls.filter((x) => x.path.includes('tokenreviews'))).to.have.length(1); // cached
  });

  it('an unauthenticated token is no caller', async () => {
    const { kube } = fakeKube(() => review(false));
    expect(await new KubernetesTokens(kube, (ns) => ns).authenticate('bad')).to.equal(undefined);
  });

  for (const [name, answer] of [
    ['unreachable', new Error('ECONNREFUSED')],
    ['answering 500', { status: 500, body: {} }],
  ] as const) {
    it(`a reviewer ${name} is a 503 with Retry-After, never a 401`, async () => {
      const { kube } = fakeKube(() => answer);
      let err: unknown;
      try {
        await new KubernetesTokens(kube, (ns) => ns).authenticate('t');
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(HttpError);
      expect((err as HttpError).status).to.equal(503);
      expect((err as HttpError).headers['retry-after']).to.equal('5');
    });
  }
});
