// The QinlingJob cache both components keep: one informer over every namespace, or one list and
// watch per namespace where the component's rights are Roles there.

import type { Logger } from 'pino';
import { GROUP, PLURAL, VERSION, type QinlingJob } from '../domain/types.js';
import type { Kube } from './client.js';
import { Informer } from './informer.js';
import { listWatch, type BoundedWatch } from './watch.js';

export function qinlingJobInformer(
  kube: Kube,
  watch: BoundedWatch,
  log: Logger,
  namespaces: string[],
): Informer<QinlingJob> {
  return new Informer<QinlingJob>(
    'qinlingjobs',
    log,
    (ns) =>
      listWatch(
        ns ? `/apis/${GROUP}/${VERSION}/namespaces/${ns}/${PLURAL}` : `/apis/${GROUP}/${VERSION}/${PLURAL}`,
        watch,
        () =>
          (ns
            ? kube.custom.listNamespacedCustomObject({
                group: GROUP,
                version: VERSION,
                namespace: ns,
                plural: PLURAL,
              })
            : kube.custom.listClusterCustomObject({
                group: GROUP,
                version: VERSION,
                plural: PLURAL,
              })) as Promise<never>,
      ),
    namespaces,
  );
}
