{{/* The chart's name, or nameOverride. */}}
{{- define "lattice.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The prefix of every object's name: fullnameOverride, the release name when it
contains the chart's name, else release-chart. */}}
{{- define "lattice.fullname" -}}
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

{{/* The operator's objects: <fullname>-operator. */}}
{{- define "lattice.operatorName" -}}
{{- printf "%s-operator" (include "lattice.fullname" . | trunc 54 | trimSuffix "-") }}
{{- end }}

{{/* The ServiceAccount the operator runs as. */}}
{{- define "lattice.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "lattice.operatorName" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "lattice.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "lattice.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: lattice
{{- end }}

{{/* Labels that select the operator's pods; they never change. */}}
{{- define "lattice.selectorLabels" -}}
app.kubernetes.io/name: {{ include "lattice.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end }}

{{/* The operator's image: repository@digest, or repository:tag (default appVersion). */}}
{{- define "lattice.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* Metadata lines the chart adds to each generated CRD (see hack/chart-sync.sh). */}}
{{- define "lattice.crdLabels" -}}
labels:
  {{- include "lattice.labels" . | nindent 2 }}
{{- end }}

{{- define "lattice.crdAnnotations" -}}
{{- if .Values.crds.keep -}}
helm.sh/resource-policy: keep
{{- end }}
{{- end }}

{{/* Refuses combinations of values the schema cannot express, each with its reason. */}}
{{- define "lattice.validate" -}}
{{- if and .Values.metrics.enabled (eq (int .Values.metrics.port) (int .Values.health.port)) }}
{{- fail (printf "metrics.port and health.port are both %v: the operator cannot serve /metrics and /healthz on one port" .Values.metrics.port) }}
{{- end }}
{{- if and .Values.serviceMonitor.enabled (not .Values.metrics.enabled) }}
{{- fail "serviceMonitor.enabled needs metrics.enabled: the ServiceMonitor scrapes the operator's metrics port" }}
{{- end }}
{{- if and .Values.networkPolicy.enabled .Values.networkPolicy.metricsFrom (not .Values.metrics.enabled) }}
{{- fail "networkPolicy.metricsFrom needs metrics.enabled: with metrics off there is no metrics port to open" }}
{{- end }}
{{- end }}
