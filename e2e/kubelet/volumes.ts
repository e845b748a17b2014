// Volumes without a container runtime: each secret, configMap and emptyDir volume becomes a
// directory under the pod's state directory, and a container's mount paths are rewritten onto
// those directories wherever they appear in its argv or env (as the image's workdir is).
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, normalize } from 'node:path';
import type { V1Container, V1KeyToPath, V1Pod, V1Volume } from '@kubernetes/client-node';
import { ConfigError, fieldValue, type EnvSources } from './env.js';
import type { PathMapping } from './images.js';

/** What volumes are made from: Secrets and ConfigMaps, the pod's IP, its ServiceAccount token. */
export interface VolumeSources extends EnvSources {
  podIP: string;
  token(): Promise<string>;
}

/** Writes every volume of `pod` under `dir`; returns the host directory of each volume by name. */
export async function materializeVolumes(
  pod: V1Pod,
  sources: VolumeSources,
  dir: string,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const v of pod.spec?.volumes ?? []) {
    const root = join(dir, 'volumes', v.name);
    mkdirSync(root, { recursive: true, mode: 0o700 });
    for (const f of await volumeFiles(pod, v, sources)) {
      const file = join(root, normalize(f.path));
      if (!file.startsWith(`${root}/`)) throw new ConfigError(`volume ${v.name}: path ${f.path} escapes it`);
      mkdirSync(join(file, '..'), { recursive: true, mode: 0o700 });
      writeFileSync(file, f.content);
      chmodSync(file, f.mode ?? 0o644); // exactly the asked mode, whatever the umask
    }
    out.set(v.name, root);
  }
  return out;
}

interface VolumeFile {
  path: string;
  content: string;
  mode?: number;
}

/** The files of one volume; projected volumes (as the ServiceAccount admission adds) join theirs. */
async function volumeFiles(pod: V1Pod, v: V1Volume, sources: VolumeSources): Promise<VolumeFile[]> {
  const ns = pod.metadata?.namespace ?? 'default';
  const fromObject = async (
    kind: 'secret' | 'configmap',
    name: string,
    ref: { items?: V1KeyToPath[]; optional?: boolean },
    mode: number | undefined,
  ) => {
    const data = await (kind === 'secret' ? sources.secret(ns, name) : sources.configMap(ns, name));
    if (data === undefined) {
      if (ref.optional) return [];
      throw new ConfigError(`${kind} "${name}" not found`);
    }
    return files(data, ref.items).map(([key, path, m]) => ({
      path,
      content: data[key] ?? '',
      mode: m ?? mode,
    }));
  };
  if (v.secret) return fromObject('secret', v.secret.secretName ?? '', v.secret, v.secret.defaultMode);
  if (v.configMap)
    return fromObject('configmap', v.configMap.name ?? '', v.configMap, v.configMap.defaultMode);
  if (v.emptyDir) return [];
  if (!v.projected)
    throw new ConfigError(`volume ${v.name}: only secret, configMap, emptyDir and projected are supported`);
  const out: VolumeFile[] = [];
  const mode = v.projected.defaultMode;
  for (const s of v.projected.sources ?? []) {
    if (s.secret) out.push(...(await fromObject('secret', s.secret.name ?? '', s.secret, mode)));
    else if (s.configMap)
      out.push(...(await fromObject('configmap', s.configMap.name ?? '', s.configMap, mode)));
    else if (s.serviceAccountToken)
      out.push({ path: s.serviceAccountToken.path, content: await sources.token(), mode });
    else if (s.downwardAPI) {
      for (const item of s.downwardAPI.items ?? []) {
        if (!item.fieldRef)
          throw new ConfigError(`volume ${v.name}: only fieldRef downward API items are supported`);
        out.push({ path: item.path, content: fieldValue(pod, sources.podIP, item.fieldRef.fieldPath), mode });
      }
    } else throw new ConfigError(`volume ${v.name}: unsupported projected source`);
  }
  return out;
}

/** [key, relative path, mode] for each file: every key, or only the listed items. */
function files(data: Record<string, string>, items: V1KeyToPath[] | undefined): [string, string, number?][] {
  if (!items) return Object.keys(data).map((k) => [k, k]);
  return items.map((i) => {
    if (!(i.key in data)) throw new ConfigError(`couldn't find key ${i.key} for volume path ${i.path}`);
    return [i.key, i.path, i.mode];
  });
}

/** A container's mounts as path mappings, longest mount path first. */
export function mountMappings(c: V1Container, volumes: Map<string, string>): PathMapping[] {
  return (c.volumeMounts ?? [])
    .map((m) => {
      const root = volumes.get(m.name);
      if (root === undefined) throw new ConfigError(`volume mount ${m.name}: no such volume`);
      return { from: m.mountPath.replace(/\/+$/, ''), to: m.subPath ? join(root, m.subPath) : root };
    })
    .sort((a, b) => b.from.length - a.from.length);
}
