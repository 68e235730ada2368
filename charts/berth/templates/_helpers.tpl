{{/* The image reference: repository:tag, the tag defaulting to the chart's appVersion. */}}
{{- define "berth.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/* Options both processes take, only when they differ from berth's defaults (so the defaults render deploy/). */}}
{{- define "berth.commonArgs" -}}
{{- if .Values.loadBalancerClass }}
- --lb-class
- {{ .Values.loadBalancerClass | quote }}
{{- end }}
{{- with .Values.dialects.metallb.namespace }}
- --metallb-namespace
- {{ . | quote }}
{{- end }}
{{- if not .Values.dialects.openelb.enabled }}
- --openelb
- "off"
{{- end }}
{{- if ne .Values.logLevel "info" }}
- --log-level
- {{ .Values.logLevel | quote }}
{{- end }}
{{- end }}

{{/* The Secret holding the speakers' liveness key. */}}
{{- define "berth.livenessSecret" -}}
{{ .Values.speaker.liveness.existingSecret | default "berth-liveness" }}
{{- end }}
