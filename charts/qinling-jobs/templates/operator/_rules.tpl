{{- define "qinling-jobs.operatorRules" -}}
# patch: only for its finalizer (added to a job whose CronJob may fire on its own, removed once
# a deleted job's CronJob is suspended).
- apiGroups: [qinling.io]
  resources: [qinlingjobs]
  verbs: [list, watch, patch]
- apiGroups: [qinling.io]
  resources: [qinlingjobs/status]
  verbs: [update]
- apiGroups: [batch]
  resources: [cronjobs]
  verbs: [get, list, watch, create, update, patch]
# Counted last runs, one-shots and moved runs are started at their second as Jobs, controlled
# by the QinlingJob; delete: only its own finished ones past the history limits.
- apiGroups: [batch]
  resources: [jobs]
  verbs: [list, watch, create, delete]
# Each job's function input, stored once (read by its pods through configMapKeyRef). Read and
# written by name only: no list/watch, the operator caches none. ConfigMaps, not Secrets: a
# right to create Secrets would let the operator mint any ServiceAccount's token.
- apiGroups: [""]
  resources: [configmaps]
  verbs: [get, create, update]
# A failed run's reason comes from its pod's termination message.
- apiGroups: [""]
  resources: [pods]
  verbs: [list]
- apiGroups: [""]
  resources: [events]
  verbs: [create]
{{- end }}
