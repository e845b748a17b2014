// A container's environment as the kubelet computes it: envFrom first, then env in order, each
// value expanded against what came before; valueFrom reads Secrets, ConfigMaps and pod fields.
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { expand } from './expand.js';

/** Reads referenced objects; a small interface so the logic is tested without a cluster. */
export interface EnvSources {
  secret(namespace: string, name: string): Promise<Record<string, string> | undefined>;
  configMap(namespace: string, name: string): Promise<Record<string, string> | undefined>;
}

/** A reference the kubelet cannot satisfy yet; the container waits with this reason. */
export class ConfigError extends Error {
  readonly reason = 'CreateContainerConfigError';
}

export function fieldValue(pod: V1Pod, podIP: string, path: string): string {
  const bracket = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (bracket) {
    const map = bracket[1] === 'labels' ? pod.metadata?.labels : pod.metadata?.annotations;
    return map?.[bracket[2] ?? ''] ?? '';
  }
  switch (path) {
    case 'metadata.name':
      return pod.metadata?.name ?? '';
    case 'metadata.namespace':
      return pod.metadata?.namespace ?? '';
    case 'metadata.uid':
      return pod.metadata?.uid ?? '';
    case 'metadata.labels':
    case 'metadata.annotations': {
      const map = (path === 'metadata.labels' ? pod.metadata?.labels : pod.metadata?.annotations) ?? {};
      return Object.entries(map)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join('\n');
    }
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.podIP':
      return podIP;
    case 'status.hostIP':
      return '127.0.0.1';
    default:
      throw new ConfigError(`unsupported fieldRef ${path}`);
  }
}

async function fromObject(
  kind: 'Secret' | 'ConfigMap',
  read: () => Promise<Record<string, string> | undefined>,
  name: string,
  optional: boolean | undefined,
): Promise<Record<string, string> | undefined> {
  const data = await read();
  if (data === undefined && !optional) throw new ConfigError(`${kind.toLowerCase()} "${name}" not found`);
  return data;
}

export async function containerEnv(
  pod: V1Pod,
  container: V1Container,
  podIP: string,
  sources: EnvSources,
  base: Record<string, string>,
): Promise<Record<string, string>> {
  const ns = pod.metadata?.namespace ?? 'default';
  const env: Record<string, string> = { ...base };
  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    let data: Record<string, string> | undefined;
    if (from.secretRef) {
      const { name = '', optional } = from.secretRef;
      data = await fromObject('Secret', () => sources.secret(ns, name), name, optional);
    } else if (from.configMapRef) {
      const { name = '', optional } = from.configMapRef;
      data = await fromObject('ConfigMap', () => sources.configMap(ns, name), name, optional);
    }
    for (const [k, v] of Object.entries(data ?? {})) env[prefix + k] = v;
  }
  for (const e of container.env ?? []) {
    const value = await envValue(pod, e, podIP, sources, env);
    if (value !== undefined) env[e.name] = value;
  }
  return env;
}

async function envValue(
  pod: V1Pod,
  e: NonNullable<V1Container['env']>[number],
  podIP: string,
  sources: EnvSources,
  sofar: Record<string, string>,
): Promise<string | undefined> {
  const ns = pod.metadata?.namespace ?? 'default';
  const vf = e.valueFrom;
  if (!vf) return expand(e.value ?? '', (n) => sofar[n]);
  if (vf.fieldRef) return fieldValue(pod, podIP, vf.fieldRef.fieldPath);
  const ref = vf.secretKeyRef ?? vf.configMapKeyRef;
  if (ref) {
    const name = ref.name ?? '';
    const kind = vf.secretKeyRef ? 'Secret' : 'ConfigMap';
    const read = () => (vf.secretKeyRef ? sources.secret(ns, name) : sources.configMap(ns, name));
    const data = await fromObject(kind, read, name, ref.optional);
    const value = data?.[ref.key];
    if (value === undefined && !ref.optional) {
      throw new ConfigError(`couldn't find key ${ref.key} in ${kind} ${ns}/${name}`);
    }
    return value;
  }
  throw new ConfigError(`unsupported valueFrom for ${e.name}`);
}
