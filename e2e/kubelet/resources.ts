// Local resources the kubelet hands out: an address per pod, and a record of every process it
// started so `cluster-down` can stop them even if the kubelet itself was killed.
import { execFile } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** One address per pod out of a /16 given as its first two octets (e.g. '10.244'). */
export class IpPool {
  private readonly byUid = new Map<string, string>();
  private readonly free: number[] = [];
  private next = 2;

  constructor(private readonly prefix: string) {}

  allocate(uid: string): string {
    const have = this.byUid.get(uid);
    if (have) return have;
    const n = this.free.shift() ?? this.next++;
    if (n > 0xfffe) throw new Error('pod address pool exhausted');
    const ip = `${this.prefix}.${n >> 8}.${n & 0xff}`;
    this.byUid.set(uid, ip);
    return ip;
  }

  /** Releases the pod's address and returns it, if it had one. */
  release(uid: string): string | undefined {
    const ip = this.byUid.get(uid);
    if (!ip) return undefined;
    this.byUid.delete(uid);
    const [, , hi, lo] = ip.split('.').map(Number);
    this.free.push(((hi ?? 0) << 8) | (lo ?? 0));
    return ip;
  }
}

/**
 * Puts pod addresses on the interface cluster-up made for them (see e2e/cluster/podnet.ts), so
 * a pod's process can bind its own address; with `loopback`, addresses need no setup.
 */
export class PodNetwork {
  readonly prefix: string;

  constructor(private readonly link: string) {
    this.prefix = link === 'loopback' ? '127.42' : '10.244';
  }

  async add(ip: string): Promise<void> {
    if (this.link !== 'loopback') await run('ip', ['addr', 'replace', `${ip}/32`, 'dev', this.link]);
  }

  async remove(ip: string): Promise<void> {
    if (this.link !== 'loopback')
      await run('ip', ['addr', 'del', `${ip}/32`, 'dev', this.link]).catch(() => undefined);
  }
}

export class PidFile {
  private readonly live = new Set<number>();

  constructor(private readonly path: string) {
    writeFileSync(path, '');
  }

  add(pid: number): void {
    this.live.add(pid);
    appendFileSync(this.path, `${pid}\n`);
  }

  remove(pid: number): void {
    this.live.delete(pid);
    writeFileSync(this.path, [...this.live].map((p) => `${p}\n`).join(''));
  }

  all(): number[] {
    return [...this.live];
  }
}
