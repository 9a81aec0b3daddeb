{{/* Names and labels shared by every template. */}}

{{- define "snapkeeper.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release's base name: "snapkeeper" for a release called snapkeeper. */}}
{{- define "snapkeeper.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "snapkeeper.selectorLabels" -}}
app.kubernetes.io/name: {{ include "snapkeeper.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/*
The chart's objects are managed by Helm. (The objects the operator creates
carry app.kubernetes.io/managed-by: snapkeeper instead, and it only ever
updates or deletes objects with that label.)
*/}}
{{- define "snapkeeper.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "snapkeeper.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: snapkeeper
{{- end -}}

{{- define "snapkeeper.operatorServiceAccount" -}}
{{- if .Values.operator.serviceAccount.create -}}
{{- default (include "snapkeeper.fullname" .) .Values.operator.serviceAccount.name -}}
{{- else -}}
{{- required "operator.serviceAccount.name is required when operator.serviceAccount.create=false" .Values.operator.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "snapkeeper.backupServiceAccount" -}}
{{- .Values.dumper.serviceAccount.name -}}
{{- end -}}

{{/* Name of the Secret with AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY; empty for IRSA. */}}
{{- define "snapkeeper.s3Secret" -}}
{{- if .Values.storage.existingSecret -}}
{{- .Values.storage.existingSecret -}}
{{- else if .Values.storage.accessKeyId -}}
{{- printf "%s-s3" (include "snapkeeper.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "snapkeeper.storageUrl" -}}
{{- if .Values.storage.prefix -}}
{{- printf "s3://%s/%s" .Values.storage.bucket .Values.storage.prefix -}}
{{- else -}}
{{- printf "s3://%s" .Values.storage.bucket -}}
{{- end -}}
{{- end -}}

{{/* repository:tag, the tag defaulting to the chart's appVersion. Call with (list $image $) */}}
{{- define "snapkeeper.image" -}}
{{- $image := index . 0 -}}
{{- $root := index . 1 -}}
{{- printf "%s:%s" $image.repository (default $root.Chart.AppVersion $image.tag) -}}
{{- end -}}
