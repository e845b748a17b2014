// Local resources the kubelet hands out: a loopback address per pod, and a record of every
// process it started so `cluster-down` can stop them even if the kubelet itself was killed.
import { appendFileSync, writeFileSync } from 'node:fs';

/** Pod addresses in 127.42.0.0/16: the whole of 127/8 is loopback on Linux, no setup needed. */
export class IpPool {
  private readonly byUid = new Map<string, string>();
  private readonly free: number[] = [];
  private next = 2;

  allocate(uid: string): string {
    const have = this.byUid.get(uid);
    if (have) return have;
    const n = this.free.shift() ?? this.next++;
    if (n > 0xfffe) throw new Error('pod address pool exhausted');
    const ip = `127.42.${n >> 8}.${n & 0xff}`;
    this.byUid.set(uid, ip);
    return ip;
  }

  release(uid: string): void {
    const ip = this.byUid.get(uid);
    if (!ip) return;
    this.byUid.delete(uid);
    const [, , hi, lo] = ip.split('.').map(Number);
    this.free.push(((hi ?? 0) << 8) | (lo ?? 0));
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
