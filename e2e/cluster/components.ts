// Pure descriptions of the local control plane's processes: which binary, which flags.
// Kept free of I/O so the flag sets are unit-tested and read in one place.

export interface ClusterPorts {
  etcdClient: number;
  etcdPeer: number;
  apiserver: number;
}

export interface ClusterLayout {
  /** The .cluster directory. */
  root: string;
  binDir: string;
  dataDir: string;
  pkiDir: string;
  logDir: string;
  kubeconfig: string;
  tokenFile: string;
  saKey: string;
  saPub: string;
}

export interface ComponentSpec {
  name: 'etcd' | 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler' | 'kubelet';
  command: string;
  args: string[];
  logFile: string;
}

/** Controllers kube-controller-manager runs; the rest of a real cluster's are not needed here. */
export const CONTROLLERS = [
  'cronjob-controller',
  'job-controller',
  'garbage-collector-controller',
  'namespace-controller',
  'serviceaccount-controller',
  'serviceaccount-token-controller',
  'deployment-controller',
  'replicaset-controller',
  'endpointslice-controller',
  'ttl-after-finished-controller',
  // kube-root-ca.crt in every namespace: the projected ServiceAccount volume of every pod needs it.
  'root-ca-certificate-publisher-controller',
  // PodDisruptionBudget status (the chart ships PDBs).
  'disruption-controller',
  // ResourceQuota status: without it the apiserver's quota admission counts nothing, and the
  // quota the facade gives each namespace it makes would bound nothing.
  'resourcequota-controller',
] as const;

export function layout(root: string): ClusterLayout {
  const pkiDir = `${root}/pki`;
  return {
    root,
    binDir: `${root}/bin`,
    dataDir: `${root}/data`,
    pkiDir,
    logDir: `${root}/logs`,
    kubeconfig: `${root}/kubeconfig`,
    tokenFile: `${pkiDir}/tokens.csv`,
    saKey: `${pkiDir}/sa.key`,
    saPub: `${pkiDir}/sa.pub`,
  };
}

export function etcd(l: ClusterLayout, p: ClusterPorts): ComponentSpec {
  const client = `http://127.0.0.1:${p.etcdClient}`;
  const peer = `http://127.0.0.1:${p.etcdPeer}`;
  return {
    name: 'etcd',
    command: `${l.binDir}/etcd`,
    args: [
      '--name=local',
      `--data-dir=${l.dataDir}/etcd`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=local=${peer}`,
      '--listen-metrics-urls=',
      // A throwaway test store: durability across power loss buys nothing and costs seconds.
      '--unsafe-no-fsync',
      // etcd's largest recommended store (the default is 2 GiB): `make bench-scale` keeps 100,000
      // jobs with their CronJobs and the history the apiserver has not compacted yet.
      '--quota-backend-bytes=8589934592',
      '--log-level=warn',
    ],
    logFile: `${l.logDir}/etcd.log`,
  };
}

export function apiserver(l: ClusterLayout, p: ClusterPorts): ComponentSpec {
  return {
    name: 'kube-apiserver',
    command: `${l.binDir}/kube-apiserver`,
    args: [
      `--etcd-servers=http://127.0.0.1:${p.etcdClient}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${p.apiserver}`,
      `--cert-dir=${l.pkiDir}`,
      '--authorization-mode=RBAC',
      `--token-auth-file=${l.tokenFile}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-signing-key-file=${l.saKey}`,
      `--service-account-key-file=${l.saPub}`,
      '--service-cluster-ip-range=10.0.0.0/24',
      // A loopback address is not a valid endpoint for the `kubernetes` Service.
      '--endpoint-reconciler-type=none',
      '--allow-privileged=true',
      '--profiling=false',
    ],
    logFile: `${l.logDir}/kube-apiserver.log`,
  };
}

/** `extra`: flags for a measurement (`make cluster-up CM_ARGS=...`), after ours so they win. */
export function controllerManager(l: ClusterLayout, extra: string[] = []): ComponentSpec {
  return {
    name: 'kube-controller-manager',
    command: `${l.binDir}/kube-controller-manager`,
    args: [
      `--kubeconfig=${l.kubeconfig}`,
      `--controllers=${CONTROLLERS.join(',')}`,
      // One instance, and a crashed earlier run must not make it wait for an old Lease.
      '--leader-elect=false',
      '--secure-port=0',
      `--service-account-private-key-file=${l.saKey}`,
      `--root-ca-file=${l.pkiDir}/apiserver.crt`,
      // Deleted pods and finished Jobs are collected promptly in tests.
      '--concurrent-gc-syncs=5',
      // A quota made before the controller's discovery saw a CRD counts that CRD's objects only
      // at the next full resync (default 5 min): soon, so `make crd` need not wait minutes.
      '--resource-quota-sync-period=10s',
      // Tuned as a cluster running many CronJobs a minute must be (docs/figures.md, make
      // bench-skew): at the defaults (20 requests/s per controller client, 5 CronJob and 5 Job
      // workers) 200 CronJobs due on one minute are not all started within their deadline.
      '--kube-api-qps=100',
      '--kube-api-burst=200',
      '--concurrent-cron-job-syncs=20',
      '--concurrent-job-syncs=20',
      ...extra,
    ],
    logFile: `${l.logDir}/kube-controller-manager.log`,
  };
}

/** The real scheduler: it binds every pod to the process kubelet's node, as on any cluster. */
export function scheduler(l: ClusterLayout): ComponentSpec {
  return {
    name: 'kube-scheduler',
    command: `${l.binDir}/kube-scheduler`,
    args: [
      `--kubeconfig=${l.kubeconfig}`,
      // Without these it looks up the apiserver's client-CA ConfigMap in kube-system, which the
      // admin identity reads anyway; naming them keeps its start quiet and quick.
      `--authentication-kubeconfig=${l.kubeconfig}`,
      `--authorization-kubeconfig=${l.kubeconfig}`,
      '--leader-elect=false',
      // No serving port: nothing scrapes it, and every listener here stays on loopback or off.
      '--secure-port=0',
      // 200 CronJobs due on one minute make 200 pods at once (make bench-skew): the default
      // 50 requests/s would queue their bindings for seconds.
      '--kube-api-qps=100',
      '--kube-api-burst=200',
    ],
    logFile: `${l.logDir}/kube-scheduler.log`,
  };
}

export function kubelet(
  l: ClusterLayout,
  repoRoot: string,
  nodeName: string,
  podLink: string,
): ComponentSpec {
  return {
    name: 'kubelet',
    command: process.execPath,
    args: [
      '--enable-source-maps',
      `${repoRoot}/dist/e2e/kubelet/main.js`,
      `--kubeconfig=${l.kubeconfig}`,
      `--node-name=${nodeName}`,
      `--state-dir=${l.root}/kubelet`,
      `--log-dir=${l.logDir}/pods`,
      `--repo-root=${repoRoot}`,
      `--pod-link=${podLink}`,
    ],
    logFile: `${l.logDir}/kubelet.log`,
  };
}

/** A kubeconfig for the admin token; kubectl, helm, client-node and KCM all read this shape. */
export function adminKubeconfig(server: string, caFile: string, token: string): string {
  return kubeconfigYaml({ server, caFile, user: 'local-admin', token, namespace: 'default' });
}

export interface KubeconfigParams {
  server: string;
  caFile: string;
  user: string;
  token: string;
  namespace: string;
}

export function kubeconfigYaml(k: KubeconfigParams): string {
  // JSON is YAML; no quoting rules to get wrong.
  return JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'local', cluster: { server: k.server, 'certificate-authority': k.caFile } }],
      users: [{ name: k.user, user: { token: k.token } }],
      contexts: [{ name: 'local', context: { cluster: 'local', user: k.user, namespace: k.namespace } }],
      'current-context': 'local',
    },
    null,
    2,
  );
}
