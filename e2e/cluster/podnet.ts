// Pod addresses: EndpointSlices refuse loopback addresses, so pods get real-looking ones
// (10.244.0.0/16, Kubernetes' customary pod range) on a veth interface the cluster makes for
// itself, whose peer lives in a network namespace of its own. The addresses are local to this
// machine: traffic to them is delivered by the kernel without leaving it, and the namespace is
// removed at cluster-down. Without root (or iproute2), pods fall back to loopback addresses and
// Services get no endpoints.
import { execFileSync } from 'node:child_process';

export const POD_NETNS = 'qj-pods';
export const POD_LINK = 'qj-pods0';
export const POD_PREFIX = '10.244';

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function linkExists(): boolean {
  try {
    ip('link', 'show', POD_LINK);
    return true;
  } catch {
    return false;
  }
}

/** Makes the pod interface; returns its name, or undefined when this machine cannot. */
export function ensurePodNetwork(): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    if (!linkExists()) {
      if (
        !ip('netns', 'list')
          .split('\n')
          .some((l) => l.split(' ')[0] === POD_NETNS)
      )
        ip('netns', 'add', POD_NETNS);
      ip('link', 'add', POD_LINK, 'type', 'veth', 'peer', 'name', `${POD_NETNS}1`, 'netns', POD_NETNS);
    }
    ip('link', 'set', POD_LINK, 'up');
    ip('addr', 'flush', 'dev', POD_LINK);
    return POD_LINK;
  } catch (err) {
    console.warn(
      `[cluster-up] no pod network (${(err as Error).message.trim()}); pods get loopback addresses`,
    );
    return undefined;
  }
}

export function removePodNetwork(): void {
  if (process.getuid?.() !== 0) return;
  try {
    ip('netns', 'del', POD_NETNS); // takes the veth pair with it
  } catch {
    /* not there */
  }
  try {
    if (linkExists()) ip('link', 'del', POD_LINK);
  } catch {
    /* not there */
  }
}
