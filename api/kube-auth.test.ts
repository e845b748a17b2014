import { expect } from 'chai';
import type { Kube, KubeRequest, KubeResponse } from '../kube/client.js';
import { HttpError } from './errors.js';
import type { Subject } from './auth.js';
import { KubernetesTokens, subjectKey } from './kube-auth.js';

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

/** The apiserver's answer: the audiences asked for are confirmed unless `audiences` says otherwise. */
const review = (
  authenticated: boolean,
  username = 'system:serviceaccount:team-a:bot',
  audiences?: string[],
  groups = ['system:serviceaccounts', 'system:authenticated'],
) => ({
  status: 201,
  body: {
    status: {
      authenticated,
      user: { username, uid: 'u-1', groups },
      ...(audiences ? { audiences } : {}),
    },
  },
});

/** What a TokenReview asked for, echoed as the apiserver does for a token valid for them. */
const asked = (r: KubeRequest) => (r.body as { spec?: { audiences?: string[] } }).spec?.audiences ?? [];

describe('KubernetesTokens', () => {
  it('reviews a token, takes the project from the ServiceAccount namespace, keeps all groups for its reviews', async () => {
    const { kube, calls } = fakeKube((r) =>
      r.path.includes('tokenreviews')
        ? review(true, undefined, asked(r))
        : { status: 201, body: { status: { allowed: false } } },
    );
    const auth = new KubernetesTokens(kube, (ns) => `project-of-${ns}`);
    const c = await auth.authenticate('t1');
    expect(c).to.deep.include({
      userId: 'system:serviceaccount:team-a:bot',
      projectId: 'project-of-team-a',
      isAdmin: false,
    });
    expect(c?.subject).to.deep.equal({
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

  const audienceCases: { name: string; opts?: { audience: string }; answered?: string[]; ok: boolean }[] = [
    { name: 'a token for qinling-jobs (the default audience)', answered: ['qinling-jobs'], ok: true },
    { name: "a token for the apiserver's audience only", answered: [], ok: false },
    { name: 'an answer without audiences (a reviewer that ignores them)', ok: false },
    {
      name: 'a token for a configured audience',
      opts: { audience: 'jobs.example.com' },
      answered: ['jobs.example.com'],
      ok: true,
    },
    {
      name: 'a qinling-jobs token when another audience is configured',
      opts: { audience: 'jobs.example.com' },
      answered: ['qinling-jobs'],
      ok: false,
    },
  ];
  for (const tc of audienceCases)
    it(`${tc.name}: ${tc.ok ? 'a caller' : 'no caller'}`, async () => {
      const { kube, calls } = fakeKube((r) =>
        r.path.includes('tokenreviews')
          ? review(true, undefined, tc.answered)
          : { status: 201, body: { status: { allowed: false } } },
      );
      const c = await new KubernetesTokens(kube, (ns) => ns, tc.opts).authenticate('t');
      expect(c !== undefined).to.equal(tc.ok);
      expect(asked(calls[0] as KubeRequest)).to.deep.equal([tc.opts?.audience ?? 'qinling-jobs']);
    });

  it("one user's decisions are not served to a token of theirs with other groups or extra", async () => {
    const groupsOf: Record<string, string[]> = {
      'with-admins': ['qj-admins', 'system:authenticated'],
      without: ['system:authenticated'],
      reordered: ['system:authenticated', 'qj-admins'],
    };
    const { kube, calls } = fakeKube((r) => {
      const spec = (r.body as { spec: { token?: string; groups?: string[] } }).spec;
      if (r.path.includes('tokenreviews')) return review(true, 'alice', asked(r), groupsOf[spec.token ?? '']);
      return { status: 201, body: { status: { allowed: spec.groups?.includes('qj-admins') === true } } };
    });
    const auth = new KubernetesTokens(kube, (ns) => ns);
    expect((await auth.authenticate('with-admins'))?.isAdmin).to.equal(true);
    expect((await auth.authenticate('without'))?.isAdmin).to.equal(false);
    const sars = () => calls.filter((x) => x.path.includes('subjectaccessreviews')).length;
    expect(sars()).to.equal(2);
    // The same groups in another order are the same subject: the decision is reused.
    expect((await auth.authenticate('reordered'))?.isAdmin).to.equal(true);
    expect(sars()).to.equal(2);
  });

  const keyCases: { name: string; a: Subject; b: Subject; same: boolean }[] = [
    {
      name: 'groups in another order',
      a: { user: 'u', groups: ['x', 'y'], extra: {} },
      b: { user: 'u', groups: ['y', 'x'], extra: {} },
      same: true,
    },
    {
      name: 'one group more',
      a: { user: 'u', groups: ['x'], extra: {} },
      b: { user: 'u', groups: ['x', 'admins'], extra: {} },
      same: false,
    },
    {
      name: 'extra keys in another order',
      a: { user: 'u', groups: [], extra: { a: ['1'], b: ['2'] } },
      b: { user: 'u', groups: [], extra: { b: ['2'], a: ['1'] } },
      same: true,
    },
    {
      name: 'another extra value',
      a: { user: 'u', groups: [], extra: { scopes: ['read'] } },
      b: { user: 'u', groups: [], extra: { scopes: ['write'] } },
      same: false,
    },
    {
      name: 'a group name that looks like a separator',
      a: { user: 'u', groups: ['a\nb'], extra: {} },
      b: { user: 'u', groups: ['a', 'b'], extra: {} },
      same: false,
    },
    {
      name: 'another uid',
      a: { user: 'u', uid: '1', groups: [], extra: {} },
      b: { user: 'u', uid: '2', groups: [], extra: {} },
      same: false,
    },
  ];
  for (const tc of keyCases)
    it(`subjectKey: ${tc.name} is ${tc.same ? 'the same' : 'another'} subject`, () => {
      expect(subjectKey(tc.a) === subjectKey(tc.b)).to.equal(tc.same);
    });
});
