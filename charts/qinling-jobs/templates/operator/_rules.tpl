{{- define "qinling-jobs.operatorRules" -}}
# patch: for its finalizer (added to a job whose CronJob may fire on its own, removed once a
# deleted job's CronJob is suspended), and spec.suspend of a job that pauses itself
# (pauseAfterFailures).
- apiGroups: [qinling.io]
  resources: [qinlingjobs]
  verbs: [list, watch, patch]
- apiGroups: [qinling.io]
  resources: [qinlingjobs/status]
  verbs: [update]
- apiGroups: [batch]
  resources: [cronjobs]
  verbs: [get, list, watch, create, update, patch]
# Counted runs, one-shots, moved runs, runs by hand, catch-up runs and dead-letter deliveries
# are Jobs controlled by the QinlingJob; delete: only its own (finished ones past the history
# limits, early runs taken back, active runs an overlapPolicy Replace stops).
- apiGroups: [batch]
  resources: [jobs]
  verbs: [list, watch, create, delete]
# Each job's function input, stored once (read by its pods through configMapKeyRef). Read and
# written by name only: no list/watch, the operator caches none. ConfigMaps, not Secrets: a
# right to create Secrets would let the operator mint any ServiceAccount's token.
- apiGroups: [""]
  resources: [configmaps]
  verbs: [get, create, update]
# A failed run's reason, and a retrying run's attempts, come from its pod's termination message.
- apiGroups: [""]
  resources: [pods]
  verbs: [list]
- apiGroups: [""]
  resources: [events]
  verbs: [create]
{{- end }}
