// metav1.Condition bookkeeping: lastTransitionTime moves only when the status does.
import type { Condition } from './types.js';

export function setCondition(
  list: Condition[] | undefined,
  now: Date,
  generation: number | undefined,
  type: string,
  status: Condition['status'],
  reason: string,
  message: string,
): Condition[] {
  const old = list?.find((c) => c.type === type);
  const next: Condition = {
    type,
    status,
    reason,
    message,
    lastTransitionTime: old && old.status === status ? old.lastTransitionTime : now.toISOString(),
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  };
  return [...(list ?? []).filter((c) => c.type !== type), next].sort((a, b) => a.type.localeCompare(b.type));
}
