// The process kubelet has no container runtime: an image stands for a local program.
// This table is the whole of that stand-in; an image not in it fails like a pull error.

export interface LocalImage {
  /** What the image's ENTRYPOINT would run, as local argv. */
  entrypoint: string[];
  /** The image's CMD, used when the pod gives no args. */
  cmd: string[];
  /** Paths under this prefix in command/args refer to files of the repo checkout. */
  workdir?: string;
  cwd: string;
}

/** Repository part of an image reference: registry host, tag and digest removed. */
export function imageRepository(image: string): string {
  let ref = image.split('@')[0] ?? image;
  const lastSlash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > lastSlash) ref = ref.slice(0, colon);
  const parts = ref.split('/');
  const first = parts[0] ?? '';
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost'))
    parts.shift();
  if (parts[0] === 'library') parts.shift();
  return parts.join('/');
}

export function localImage(image: string, repoRoot: string): LocalImage | undefined {
  const repo = imageRepository(image);
  const name = repo.split('/').pop();
  switch (name) {
    case 'qinling-jobs':
      return { entrypoint: ['node', `${repoRoot}/dist/cli.js`], cmd: [], workdir: '/app', cwd: repoRoot };
    case 'qinling-jobs-testbin':
      return {
        entrypoint: ['node', `${repoRoot}/dist/e2e/testbin/main.js`],
        cmd: [],
        workdir: '/app',
        cwd: repoRoot,
      };
    case 'busybox':
      // Runs the host's own sh, sleep, echo...: enough for "a container that does X" in tests.
      return { entrypoint: [], cmd: ['sh'], cwd: '/tmp' };
    default:
      return undefined;
  }
}

/**
 * argv as a container runtime builds it: `command` replaces the ENTRYPOINT, `args` replaces CMD,
 * and paths inside the image's workdir map onto the checkout.
 */
export function containerArgv(
  img: LocalImage,
  command: string[] | undefined,
  args: string[] | undefined,
): string[] {
  const argv =
    command && command.length > 0 ? [...command, ...(args ?? [])] : [...img.entrypoint, ...(args ?? img.cmd)];
  const { workdir } = img;
  if (!workdir) return argv;
  const mappings = [{ from: workdir, to: img.cwd }];
  return argv.map((a) => mapPath(a, mappings));
}

/** A path prefix inside the container and the host directory standing for it. */
export interface PathMapping {
  from: string;
  to: string;
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
