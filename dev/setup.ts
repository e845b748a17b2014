// What `make run` puts on the cluster before starting anything: the CRD (server-side apply, as
// `kubectl apply --server-side` would) and a namespace labelled as the dev project's.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { statusCode, type Kube } from '../kube/client.js';
import { waitFor } from '../e2e/cluster/process.js';
import { LABEL_PROJECT } from '../api/store.js';

const FIELD_MANAGER = 'qinling-jobs-make-run';

interface Crd {
  metadata: { name: string };
  status?: { conditions?: { type: string; status: string }[] };
}

function ok(r: { status: number; body: unknown }, what: string): unknown {
  if (r.status >= 200 && r.status < 300) return r.body;
  const message = (r.body as { message?: string } | undefined)?.message ?? JSON.stringify(r.body);
  throw new Error(`${what}: HTTP ${r.status}: ${message}`);
}

/** Applies the checkout's CRD (taking over fields others set: this checkout is the source) and waits until Established. */
export async function installCrd(kube: Kube, file: string): Promise<void> {
  const crd = parse(readFileSync(file, 'utf8')) as Crd;
  const path = `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`;
  ok(
    await kube.request({
      method: 'PATCH',
      path: `${path}?fieldManager=${FIELD_MANAGER}&force=true`,
      body: crd,
      contentType: 'application/apply-patch+yaml',
    }),
    `apply ${crd.metadata.name}`,
  );
  await waitFor(`CRD ${crd.metadata.name} Established`, 60_000, async () => {
    const got = ok(await kube.request({ method: 'GET', path }), `read ${crd.metadata.name}`) as Crd;
    return got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ?? false;
  });
}

/** Makes `ns` the namespace of `project` and waits for its default ServiceAccount (run pods use it). */
export async function projectNamespace(kube: Kube, ns: string, project: string): Promise<void> {
  const metadata = { name: ns, labels: { [LABEL_PROJECT]: project } };
  try {
    await kube.core.createNamespace({ body: { metadata } });
  } catch (err) {
    if (statusCode(err) !== 409) throw err;
    ok(
      await kube.request({
        method: 'PATCH',
        path: `/api/v1/namespaces/${encodeURIComponent(ns)}`,
        body: { metadata: { labels: metadata.labels } },
        contentType: 'application/merge-patch+json',
      }),
      `label namespace ${ns}`,
    );
  }
  await waitFor(`serviceaccount ${ns}/default`, 30_000, async () => {
    const r = await kube.request({
      method: 'GET',
      path: `/api/v1/namespaces/${encodeURIComponent(ns)}/serviceaccounts/default`,
    });
    return r.status === 200;
  });
}
