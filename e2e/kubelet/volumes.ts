// Volumes without a container runtime: each secret, configMap and emptyDir volume becomes a
// directory under the pod's state directory, and a container's mount paths are rewritten onto
// those directories wherever they appear in its argv or env (as the image's workdir is).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, normalize } from 'node:path';
import type { V1Container, V1KeyToPath, V1Pod } from '@kubernetes/client-node';
import { ConfigError, type EnvSources } from './env.js';

/** A path prefix inside the container and the host directory standing for it. */
export interface PathMapping {
  from: string;
  to: string;
}

/** Writes every volume of `pod` under `dir`; returns the host directory of each volume by name. */
export async function materializeVolumes(
  pod: V1Pod,
  sources: EnvSources,
  dir: string,
): Promise<Map<string, string>> {
  const ns = pod.metadata?.namespace ?? 'default';
  const out = new Map<string, string>();
  for (const v of pod.spec?.volumes ?? []) {
    const root = join(dir, 'volumes', v.name);
    mkdirSync(root, { recursive: true, mode: 0o700 });
    let data: Record<string, string> | undefined;
    let items: V1KeyToPath[] | undefined;
    let mode: number | undefined;
    if (v.secret) {
      const name = v.secret.secretName ?? '';
      data = await sources.secret(ns, name);
      if (data === undefined && !v.secret.optional) throw new ConfigError(`secret "${name}" not found`);
      ({ items, defaultMode: mode } = v.secret);
    } else if (v.configMap) {
      const name = v.configMap.name ?? '';
      data = await sources.configMap(ns, name);
      if (data === undefined && !v.configMap.optional) throw new ConfigError(`configmap "${name}" not found`);
      ({ items, defaultMode: mode } = v.configMap);
    } else if (!v.emptyDir) {
      throw new ConfigError(`volume ${v.name}: only secret, configMap and emptyDir are supported`);
    }
    for (const [key, path, fileMode] of files(data ?? {}, items)) {
      const file = join(root, normalize(path));
      if (!file.startsWith(`${root}/`)) throw new ConfigError(`volume ${v.name}: path ${path} escapes it`);
      mkdirSync(join(file, '..'), { recursive: true, mode: 0o700 });
      writeFileSync(file, data?.[key] ?? '', { mode: fileMode ?? mode ?? 0o644 });
    }
    out.set(v.name, root);
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

/**
 * `value` with a leading mapped path rewritten, also after `--flag=`: how a program in the
 * container would name a file it was given.
 */
export function mapPath(value: string, mappings: PathMapping[]): string {
  const flag = /^(--?[A-Za-z0-9][\w-]*=)(.*)$/s.exec(value);
  const [prefix, path] = flag ? [flag[1] ?? '', flag[2] ?? ''] : ['', value];
  for (const m of mappings) {
    if (path === m.from || path.startsWith(`${m.from}/`)) return prefix + m.to + path.slice(m.from.length);
  }
  return value;
}
