// Readiness probes, as the kubelet runs them: an HTTP GET every periodSeconds after
// initialDelaySeconds; 200-399 within timeoutSeconds is a success. A container turns ready after
// successThreshold successes in a row and unready after failureThreshold failures. Only
// readiness is probed here: it decides which pods a Service's EndpointSlice calls ready.
import type { V1Container, V1Probe } from '@kubernetes/client-node';

/** The URL an httpGet probe calls, or undefined for a probe kind this kubelet does not run. */
export function probeUrl(c: V1Container, probe: V1Probe, podIP: string): string | undefined {
  const get = probe.httpGet;
  if (!get) return undefined;
  const port =
    typeof get.port === 'number' || /^\d+$/.test(String(get.port))
      ? Number(get.port)
      : c.ports?.find((p) => p.name === get.port)?.containerPort;
  if (port === undefined) return undefined;
  const scheme = (get.scheme ?? 'HTTP').toLowerCase();
  const path = get.path?.startsWith('/') ? get.path : `/${get.path ?? ''}`;
  return `${scheme}://${get.host ?? podIP}:${port}${path}`;
}

/** Counts results into a ready/unready verdict with the probe's thresholds. */
export class ProbeState {
  private streak = 0;
  private lastOk: boolean | undefined;
  ready = false;

  constructor(private readonly probe: V1Probe) {}

  /** Records one result; true when readiness changed. */
  record(ok: boolean): boolean {
    this.streak = ok === this.lastOk ? this.streak + 1 : 1;
    this.lastOk = ok;
    const threshold = ok ? (this.probe.successThreshold ?? 1) : (this.probe.failureThreshold ?? 3);
    if (this.streak < threshold || ok === this.ready) return false;
    this.ready = ok;
    return true;
  }
}

/** Probes until stopped, calling `changed` whenever readiness flips. */
export function startReadinessProbe(
  url: string,
  probe: V1Probe,
  changed: (ready: boolean) => void,
): () => void {
  const state = new ProbeState(probe);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = async () => {
    let ok: boolean;
    try {
      const res = await fetch(url, {
        signal: AbortSignal.timeout((probe.timeoutSeconds ?? 1) * 1000),
        headers: { 'User-Agent': 'kube-probe/process-kubelet' },
      });
      await res.body?.cancel();
      ok = res.status >= 200 && res.status < 400;
    } catch {
      ok = false;
    }
    if (stopped) return;
    if (state.record(ok)) changed(state.ready);
    timer = setTimeout(() => void tick(), (probe.periodSeconds ?? 10) * 1000);
    timer.unref();
  };
  timer = setTimeout(() => void tick(), (probe.initialDelaySeconds ?? 0) * 1000);
  timer.unref();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
