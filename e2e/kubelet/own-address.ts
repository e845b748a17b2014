// Loaded into every Node program the process kubelet starts (NODE_OPTIONS=--import): a server
// that listens on all addresses gets its pod's address instead. In a real pod, 0.0.0.0 is the
// pod's own network namespace; here every pod shares the host's, so two replicas of one
// Deployment on 0.0.0.0:7070 would collide. Explicit addresses (127.0.0.1, a pod IP) are kept.
import net from 'node:net';

const podIP = process.env.PROCESS_KUBELET_POD_IP;
const anyAddress = (h: unknown) => h === undefined || h === null || h === '' || h === '0.0.0.0' || h === '::';

if (podIP) {
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called with its server below
  const listen = net.Server.prototype.listen;
  net.Server.prototype.listen = function (this: net.Server, ...args: unknown[]) {
    if (typeof args[0] === 'function') args.unshift(0); // listen(callback)
    const [first, second] = args;
    if (
      typeof first === 'object' &&
      first !== null &&
      !('path' in first) &&
      !('fd' in first) &&
      !('_handle' in first)
    ) {
      const o = first as net.ListenOptions;
      if (anyAddress(o.host)) args[0] = { ...o, host: podIP };
    } else if (
      first === undefined ||
      typeof first === 'number' ||
      (typeof first === 'string' && /^\d+$/.test(first))
    ) {
      if (args.length === 0) args.push(0);
      if (typeof second === 'string' || second === undefined || second === null) {
        if (anyAddress(second)) args[1] = podIP;
      } else args.splice(1, 0, podIP); // (port, backlog?, callback?)
    }
    return listen.apply(this, args as Parameters<typeof listen>);
  } as typeof listen;
}
