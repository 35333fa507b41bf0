{{/* The release's name for its objects, at most 63 characters. */}}
{{- define "actiondesk.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "actiondesk.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "actiondesk.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "actiondesk.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "actiondesk.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{- define "actiondesk.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "actiondesk.fullname" .) -}}
{{- else -}}
{{- .Values.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}

{{- define "actiondesk.databaseSecret" -}}
{{- required "database.existingSecret is required: a Secret whose DATABASE_URL is a PostgreSQL URL (replicas share one database)" .Values.database.existingSecret -}}
{{- end -}}

{{/* Comma-separated paths of the files mounted under a directory. */}}
{{- define "actiondesk.paths" -}}
{{- $dir := index . 0 -}}
{{- $files := index . 1 -}}
{{- $paths := list -}}
{{- range $name, $_ := $files -}}
{{- $paths = append $paths (printf "%s/%s" $dir $name) -}}
{{- end -}}
{{- join "," $paths -}}
{{- end -}}

{{- define "actiondesk.publicUrl" -}}
{{- if .Values.publicUrl -}}
{{- .Values.publicUrl -}}
{{- else if and .Values.ingress.enabled .Values.ingress.hosts -}}
{{- printf "https://%s" (index .Values.ingress.hosts 0).host -}}
{{- end -}}
{{- end -}}

{{/* Does the cluster serve the Prometheus Operator's ServiceMonitor (or did the values decide)? */}}
{{- define "actiondesk.serviceMonitor" -}}
{{- if kindIs "bool" .Values.serviceMonitor.enabled -}}
{{- if .Values.serviceMonitor.enabled }}true{{ end -}}
{{- else if .Capabilities.APIVersions.Has "monitoring.coreos.com/v1/ServiceMonitor" -}}
true
{{- end -}}
{{- end -}}
