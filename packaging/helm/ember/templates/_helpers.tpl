{{/* The objects' name: the release's, unless overridden. */}}
{{- define "ember.fullname" -}}
{{- default .Release.Name .Values.fullnameOverride -}}
{{- end -}}

{{- define "ember.labels" -}}
app.kubernetes.io/name: ember
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}

{{- define "ember.selectorLabels" -}}
app.kubernetes.io/name: ember
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "ember.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "ember.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}
