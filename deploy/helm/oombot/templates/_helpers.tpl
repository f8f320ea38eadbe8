{{/*
Names and labels shared by every object.
*/}}
{{- define "oombot.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if eq .Release.Name .Chart.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (default .Chart.Name .Values.nameOverride) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "oombot.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "oombot.selectorLabels" -}}
app.kubernetes.io/name: {{ include "oombot.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "oombot.labels" -}}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{ include "oombot.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/*
The roles the chart runs, as a JSON list, by mode: "all" runs every role in one cluster; "agent" runs
a member cluster's agent (watcher, reader and actuator) and sampler; "hub" runs the worker and the bot,
with no access to any cluster. The node agent only when nodeAgent.enabled (not in a hub).
*/}}
{{- define "oombot.roles" -}}
{{- $roles := list -}}
{{- if eq .Values.mode "all" }}{{ $roles = list "watcher" "sampler" "worker" "bot" }}
{{- else if eq .Values.mode "agent" }}{{ $roles = list "agent" "sampler" }}
{{- else if eq .Values.mode "hub" }}{{ $roles = list "worker" "bot" }}
{{- else }}{{ fail (printf "mode must be all, agent or hub, not %q" .Values.mode) }}
{{- end -}}
{{- if and .Values.nodeAgent.enabled (ne .Values.mode "hub") }}{{ $roles = append $roles "node-agent" }}{{ end -}}
{{- $roles | toJson -}}
{{- end -}}

{{/*
The roles that talk to the Kubernetes API, and so get a ServiceAccount token and RBAC: in a hub, none.
*/}}
{{- define "oombot.kubeRoles" -}}
{{- if eq .Values.mode "hub" }}[]{{ else }}{{ include "oombot.roles" . }}{{ end -}}
{{- end -}}

{{/*
Whether the chart runs `role` (a string): {{ include "oombot.runs" (list . "bot") }} is "true" or "".
*/}}
{{- define "oombot.runs" -}}
{{- if has (index . 1) (include "oombot.roles" (index . 0) | fromJsonArray) }}true{{ end -}}
{{- end -}}

{{/*
The role that patches workloads (the admission policy's subject): the agent in a member cluster, else the bot.
*/}}
{{- define "oombot.patcher" -}}
{{- if eq .Values.mode "agent" }}agent{{ else }}bot{{ end -}}
{{- end -}}

{{- define "oombot.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/*
config.watchNamespaces as a JSON list, as oombot reads it: split at commas, trimmed, without empty
entries (or repeats).
*/}}
{{- define "oombot.watchNamespaces" -}}
{{- $out := list -}}
{{- range splitList "," .Values.config.watchNamespaces -}}
{{- if trim . }}{{ $out = append $out (trim .) }}{{ end -}}
{{- end -}}
{{- $out | uniq | toJson -}}
{{- end -}}

{{/*
Configuration every role gets (no secrets).
*/}}
{{- define "oombot.env" -}}
{{- if and (eq .Values.mode "agent") (not .Values.config.clusterName) }}
{{- fail "mode=agent needs config.clusterName: the name the hub, the alerts and /oom commands know this cluster by" }}
{{- end -}}
{{- if and (eq .Values.mode "agent") .Values.redis.enabled }}
{{- fail "mode=agent connects to the hub's Redis: set redis.enabled=false and externalRedis.url or externalRedis.existingSecret" }}
{{- end -}}
- name: CLUSTER_NAME
  value: {{ .Values.config.clusterName | quote }}
- name: WATCH_NAMESPACES
  value: {{ .Values.config.watchNamespaces | quote }}
{{- if .Values.redis.enabled }}
{{ include "oombot.redisPasswordEnv" . }}
# Kubernetes expands $(REDIS_PASSWORD): the variable is defined above, earlier in this list.
- name: REDIS_URL
  value: {{ printf "redis://:$(REDIS_PASSWORD)@%s-redis:6379/0" (include "oombot.fullname" .) | quote }}
{{- else if .Values.externalRedis.existingSecret }}
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.externalRedis.existingSecret }}
      key: {{ .Values.externalRedis.existingSecretKey }}
{{- else }}
{{- $url := required "set redis.enabled=true, externalRedis.url or externalRedis.existingSecret" .Values.externalRedis.url }}
{{- if not (regexMatch "^rediss?(-sentinel|-cluster)?://" $url) }}
{{- fail "externalRedis.url must start with redis://, rediss://, redis-sentinel://, rediss-sentinel://, redis-cluster:// or rediss-cluster:// (see values.yaml)" }}
{{- end }}
- name: REDIS_URL
  value: {{ $url | quote }}
{{- end }}
- name: SLACK_CHANNEL
  value: {{ .Values.slack.channel | quote }}
- name: OOMBOT_ROUTES
  value: {{ .Values.slack.routes | quote }}
- name: OOMBOT_APPROVERS
  value: {{ .Values.slack.approvers | quote }}
- name: OOMBOT_SNOOZERS
  value: {{ .Values.slack.snoozers | quote }}
- name: SLACK_API_URL
  value: {{ .Values.slack.apiUrl | quote }}
- name: OOMBOT_LOOKBACK
  value: {{ .Values.config.lookback | quote }}
- name: OOMBOT_DEDUPE_TTL
  value: {{ .Values.config.dedupeTtl | quote }}
- name: OOMBOT_WATCH_SILENCE
  value: {{ .Values.config.watchSilence | quote }}
- name: OOMBOT_GROUP_WINDOW
  value: {{ .Values.config.groupWindow | quote }}
- name: OOMBOT_JOB_LOCK
  value: {{ .Values.config.jobLock | quote }}
- name: OOMBOT_VERIFY_WINDOW
  value: {{ .Values.config.verifyWindow | quote }}
- name: OOMBOT_SAMPLE_INTERVAL
  value: {{ .Values.config.sampleInterval | quote }}
- name: OOMBOT_WARN_AT
  value: {{ .Values.config.warnAt | quote }}
- name: PROMETHEUS_URL
  value: {{ .Values.config.prometheusUrl | quote }}
- name: OOMBOT_MAX_MEMORY_LIMIT
  value: {{ .Values.config.maxMemoryLimit | quote }}
- name: OOMBOT_QUEUE
  value: {{ .Values.config.queue | quote }}
- name: PORT
  value: {{ .Values.config.port | quote }}
- name: LOG_LEVEL
  value: {{ .Values.config.logLevel | quote }}
{{- end -}}

{{/*
The Secrets holding the bundled Redis's password and the proposal key: yours when you name one
(existingSecret, existingSecretKey), else the one templates/generated-secrets.yaml generates.
*/}}
{{- define "oombot.redisPasswordSecret" -}}
{{- .Values.redis.auth.existingSecret | default (printf "%s-redis-password" (include "oombot.fullname" .)) -}}
{{- end -}}

{{- define "oombot.redisPasswordKey" -}}
{{- if .Values.redis.auth.existingSecret }}{{ .Values.redis.auth.existingSecretKey }}{{ else }}redis-password{{ end -}}
{{- end -}}

{{- define "oombot.proposalKeySecret" -}}
{{- .Values.proposalKey.existingSecret | default (printf "%s-proposal-key" (include "oombot.fullname" .)) -}}
{{- end -}}

{{- define "oombot.proposalKeyKey" -}}
{{- if .Values.proposalKey.existingSecret }}{{ .Values.proposalKey.existingSecretKey }}{{ else }}proposal-key{{ end -}}
{{- end -}}

{{/*
A generated secret value, base64-encoded: the one the cluster's Secret `name` already holds under `key`,
so that an upgrade keeps it, else `length` random letters and digits. helm template and --dry-run do not
read the cluster, so they print a new value each time. Called with
(dict "ctx" $ "name" <Secret> "key" <key> "length" <n>).
*/}}
{{- define "oombot.keptOrRandom" -}}
{{- $existing := lookup "v1" "Secret" .ctx.Release.Namespace .name | default dict -}}
{{- dig "data" .key "" $existing | default (randAlphaNum .length | b64enc) -}}
{{- end -}}

{{/*
The bundled Redis's password, from its Secret (Redis itself and every role).
*/}}
{{- define "oombot.redisPasswordEnv" -}}
- name: REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "oombot.redisPasswordSecret" . }}
      key: {{ include "oombot.redisPasswordKey" . }}
{{- end -}}

{{/*
The key that authenticates the fix proposals stored in Redis (worker and bot: the worker signs the
proposals it stores, the bot checks them before applying one).
*/}}
{{- define "oombot.proposalKeyEnv" -}}
{{- if and (eq .Values.mode "agent") (not .Values.proposalKey.existingSecret) }}
{{- fail "mode=agent checks the hub's fix proposals with the hub's key: copy the hub's proposal key into a Secret here and set proposalKey.existingSecret" }}
{{- end -}}
- name: OOMBOT_PROPOSAL_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "oombot.proposalKeySecret" . }}
      key: {{ include "oombot.proposalKeyKey" . }}
{{- end -}}

{{/*
The Slack bot token, from the Secret (worker and bot).
*/}}
{{- define "oombot.botTokenEnv" -}}
- name: SLACK_BOT_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ .Values.slack.existingSecret }}
      key: {{ .Values.slack.botTokenKey }}
{{- end -}}

{{/*
The pod settings every oombot role shares; the caller adds the container's args, env and resources.
*/}}
{{- define "oombot.podSpec" -}}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
# Stops within 25 s: watches end, jobs in hand finish, unfinished ones are retried elsewhere.
terminationGracePeriodSeconds: 30
# No *_SERVICE_HOST/*_PORT variables for the namespace's Services: oombot reads only its own.
enableServiceLinks: false
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
volumes:
  # The root filesystem is read-only; the demo and Node's temporary files go here.
  - name: tmp
    emptyDir:
      sizeLimit: 64Mi
{{- end -}}

{{- define "oombot.containerCommon" -}}
image: {{ include "oombot.image" . | quote }}
imagePullPolicy: {{ .Values.image.pullPolicy }}
ports:
  - name: http
    containerPort: {{ .Values.config.port }}
    protocol: TCP
livenessProbe:
  httpGet:
    path: /healthz
    port: http
  initialDelaySeconds: 5
  periodSeconds: 20
  timeoutSeconds: 3
  failureThreshold: 3
readinessProbe:
  httpGet:
    path: /readyz
    port: http
  periodSeconds: 10
  timeoutSeconds: 3
  failureThreshold: 3
securityContext:
  {{- toYaml .Values.securityContext | nindent 2 }}
volumeMounts:
  - name: tmp
    mountPath: /tmp
{{- end -}}
