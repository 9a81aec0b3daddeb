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

{{/*
The operator's V8 heap limit, 3/4 of its memory limit in MiB (the rest is
code, the young generation, buffers and sockets). Node sizes
its heap from the container's limit by itself, but to a quarter of it (at
least 256 MiB), so a larger limit alone did not give the caches more room.
A flag of the node command (deployment.yaml), not NODE_OPTIONS: the
operator's environment is exactly what docs/architecture.md lists.
Empty when no memory limit is set. Quantities: plain bytes, or k/M/G/T,
Ki/Mi/Gi/Ti suffixes.
*/}}
{{- define "snapkeeper.operatorNodeOptions" -}}
{{- $limit := "" -}}
{{- with .Values.operator.resources -}}{{- with .limits -}}{{- $limit = toString (default "" .memory) -}}{{- end -}}{{- end -}}
{{- if $limit -}}
{{- $number := regexFind "^[0-9.]+" $limit -}}
{{- $unit := trimPrefix $number $limit -}}
{{- $factors := dict "" 1.0 "k" 1000.0 "M" 1000000.0 "G" 1000000000.0 "T" 1000000000000.0 "Ki" 1024.0 "Mi" 1048576.0 "Gi" 1073741824.0 "Ti" 1099511627776.0 -}}
{{- if not (hasKey $factors $unit) -}}
{{- fail (printf "operator.resources.limits.memory: %q is not a memory quantity this chart reads (bytes, or k/M/G/T, Ki/Mi/Gi/Ti)" $limit) -}}
{{- end -}}
{{- $mib := divf (mulf (float64 $number) (get $factors $unit)) 1048576.0 -}}
{{- printf "--max-old-space-size=%d" (int (floor (mulf $mib 0.75))) -}}
{{- end -}}
{{- end -}}
