{{/* Names and labels after `helm create`; truncated at 63 chars for DNS label limits. */}}
{{- define "qinling-jobs.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "qinling-jobs.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The name of one component's objects: <fullname>-<component>. */}}
{{- define "qinling-jobs.componentName" -}}
{{- printf "%s-%s" (include "qinling-jobs.fullname" .ctx | trunc 52 | trimSuffix "-") .component }}
{{- end }}

{{- define "qinling-jobs.selectorLabels" -}}
app.kubernetes.io/name: {{ include "qinling-jobs.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "qinling-jobs.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .ctx.Chart.Name .ctx.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "qinling-jobs.selectorLabels" . }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/part-of: qinling-jobs
{{- end }}

{{- define "qinling-jobs.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* Env of both servers: identity, and where to bind. */}}
{{- define "qinling-jobs.podEnv" -}}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: POD_IP
  valueFrom:
    fieldRef:
      fieldPath: status.podIP
- name: QJ_LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
{{- end }}

{{- define "qinling-jobs.bindAddress" -}}
{{- if .Values.bindPodIP }}$(POD_IP){{ else }}0.0.0.0{{ end }}
{{- end }}

{{/* Pod-level settings shared by both Deployments; `.values` is the component's values. */}}
{{- define "qinling-jobs.podPlacement" -}}
{{- with .ctx.Values.imagePullSecrets }}
imagePullSecrets:
{{- range . }}
  - name: {{ . }}
{{- end }}
{{- end }}
securityContext:
  {{- toYaml .ctx.Values.podSecurityContext | nindent 2 }}
enableServiceLinks: false
{{- with .values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* The probes of a server on the named port `http`; `.scheme` HTTPS when it serves TLS. */}}
{{- define "qinling-jobs.probes" -}}
livenessProbe:
  httpGet:
    path: /healthz
    port: http
    scheme: {{ .scheme | default "HTTP" }}
  periodSeconds: 10
  timeoutSeconds: 2
  failureThreshold: 3
readinessProbe:
  httpGet:
    path: /readyz
    port: http
    scheme: {{ .scheme | default "HTTP" }}
  periodSeconds: 5
  timeoutSeconds: 2
  failureThreshold: 2
{{- end }}

{{/* Whether a project maps onto an unlabelled namespace of its name: on only where RBAC decides. */}}
{{- define "qinling-jobs.namespaceByName" -}}
{{- $v := .Values.api.tenancy.namespaceByName -}}
{{- if kindIs "invalid" $v -}}{{ eq .Values.api.auth.mode "kubernetes" }}{{- else -}}{{ $v }}{{- end -}}
{{- end }}

{{/* The Secret holding the static token file: the one named in values, or the chart's own. */}}
{{- define "qinling-jobs.tokenSecret" -}}
{{- default (printf "%s-tokens" (include "qinling-jobs.componentName" (dict "ctx" . "component" "api"))) .Values.api.auth.static.secretName }}
{{- end }}

{{/* The chart makes the token Secret (one generated admin token) when static mode names none. */}}
{{- define "qinling-jobs.generatesTokens" -}}
{{- if and (eq .Values.api.auth.mode "static") (not .Values.api.auth.static.secretName) }}true{{ end }}
{{- end }}
