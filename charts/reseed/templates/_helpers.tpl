{{/*
Labels shared by every object the chart renders. Nothing volatile (no chart version, no
release revision), so the generated files under workflowtemplates/ and cronworkflows/ only
change when the rendered behaviour changes.
*/}}
{{- define "reseed.labels" -}}
app.kubernetes.io/name: reseed
app.kubernetes.io/part-of: reseed
{{- end }}

{{/* Labels of the objects that belong to one unit. Call with (dict "name" $name "unit" $unit). */}}
{{- define "reseed.unitLabels" -}}
{{ include "reseed.labels" . }}
reseed.dev/unit: {{ .name | quote }}
reseed.dev/pattern: {{ .unit.pattern }}
{{- end }}

{{/* The service account a unit's pods run as. */}}
{{- define "reseed.serviceAccountName" -}}
reseed-{{ . }}
{{- end }}

{{/*
The SeedingUnit document a unit's steps receive as RESEED_UNIT (workflow parameter `unit`).
Only the unit-spec fields of values.units.<name> are copied; chart-only settings (enabled,
schedule, serviceAccount, ...) stay out. spec.namespace defaults to the release namespace.
It carries references only: secret values never appear in template parameters (C5).
Call with (dict "name" $name "unit" $unit "root" $).
*/}}
{{- define "reseed.unitDocument" -}}
{{- $spec := pick .unit "pattern" "managed" "runId" "namespace" "inputs" "dependencies" "waitTimeoutSeconds" "ensure" -}}
{{- $_ := set $spec "namespace" (.unit.namespace | default .root.Release.Namespace) -}}
{{- $doc := dict "apiVersion" "reseed.dev/v1alpha1" "kind" "SeedingUnit" "metadata" (dict "name" .name) "spec" $spec -}}
{{- toJson $doc -}}
{{- end }}

{{/*
The workflow spec a unit runs with, shared by the CronWorkflow (P1, P3, P4) and the hook
Workflow (P2). A CronWorkflow carries the templates inline (reseed.templates, the same helper
the WorkflowTemplate reseed-unit renders) rather than a workflowTemplateRef: Argo validates a
CronWorkflow when it appears, and one whose WorkflowTemplate has not reached the controller
yet is not scheduled again until a resync 20 minutes later, so a reference would make the
first tick depend on the order the objects are applied in. Inline, each is complete.
A hook Workflow keeps the reference: Helm (post-install/post-upgrade) and Argo CD (PostSync)
create it after every other object, and a Workflow, unlike a CronWorkflow, is not left
waiting on a missing template (Argo marks it Error at once). Inline, the controller would own
the templates it writes back with defaults, and re-applying the same runId server-side would
conflict with it instead of changing nothing.
Call with (dict "name" $name "unit" $unit "root" $ "cronWorkflow" true|false).
*/}}
{{- define "reseed.workflowSpec" -}}
{{- $d := .root.Values.defaults -}}
entrypoint: {{ if eq .unit.pattern "operator" }}verify-only{{ else }}reconcile{{ end }}
{{- if not .cronWorkflow }}
workflowTemplateRef:
  name: reseed-unit
{{- end }}
serviceAccountName: {{ include "reseed.serviceAccountName" .name }}
activeDeadlineSeconds: {{ $d.activeDeadlineSeconds }}  # a hung run must end, or it blocks Forbid (or the Argo CD sync) forever
# No retryStrategy, here or in the template: the steps' bounded internal retry is the retry (P1).
# C4: a failed run keeps every pod (and so every step's log, the succeeded steps' too) as long
# as the run itself; a successful run's pods go after the delay. The delay is set here, not
# left to the controller, whose default (5 s) would take a success's logs at once.
podGC:
  strategy: OnWorkflowSuccess
  deleteDelayDuration: "{{ $d.podGCDeleteDelaySeconds }}s"
{{- if $d.archiveLogs }}
archiveLogs: true  # C4: every step's log goes to the artifact repository, and outlives its pod
{{- end }}
ttlStrategy:
  secondsAfterSuccess: {{ $d.ttlSecondsAfterSuccess }}
  secondsAfterFailure: {{ $d.ttlSecondsAfterFailure }}  # C4: failures are kept for inspection
podMetadata:
  labels:  # `kubectl logs -l reseed.dev/unit=<unit>` finds a unit's step logs (C4)
    {{- toYaml (merge (dict "reseed.dev/unit" .name) (.unit.podLabels | default dict)) | nindent 4 }}
arguments:
  parameters:
    - name: unit
      value: |-
        {{- include "reseed.unitDocument" . | nindent 8 }}
    {{- if .cronWorkflow }}
    - name: cron-workflow  # the steps record their Kubernetes Event on this CronWorkflow (C4)
      value: {{ .name | quote }}
{{ include "reseed.templates" (dict "root" .root "stepMetrics" true) }}
    {{- end }}
{{- end }}

{{/*
A step's image: <registry>/reseed-<step>@<digest> when image.digests pins it, else
<registry>/reseed-<step>:<tag>, the tag defaulting to the chart's appVersion (package.json's
version: chart, images and CLI are released as one). Call with (dict "step" "<step>" "root" $).
*/}}
{{- define "reseed.image" -}}
{{- $image := .root.Values.image -}}
{{- $repo := printf "%s/reseed-%s" $image.registry .step -}}
{{- with get ($image.digests | default dict) .step -}}
{{ $repo }}@{{ . }}
{{- else -}}
{{ $repo }}:{{ $image.tag | default .root.Chart.AppVersion }}
{{- end -}}
{{- end }}

{{/*
One step of the unit DAG: a single container from reseed-<step>, built around the step
contract (env in, files under /tmp/reseed/outputs out, exit code says which clause broke).
Call with (dict "step" "<step>" "outputs" (list <extra output names>) "root" $ "metrics" true|false).
*/}}
{{- define "reseed.step" -}}
{{- $defaults := include "reseed.outputDefaults" .step | fromJson -}}
- name: {{ .step }}
  {{- if ne .step "validate-inputs" }}
  inputs:
    parameters:
      - name: fingerprint  # proves this step runs the unit validate-inputs validated
  {{- end }}
  outputs:
    parameters:  # the default still reports when the step fails before writing the file
      {{- range $out := concat (list "result" "summary") (.outputs | default list) }}
      - name: {{ $out }}
        valueFrom: {path: /tmp/reseed/outputs/{{ $out }}, default: {{ get $defaults $out | squote }}}
      {{- end }}
  container:
    {{- include "reseed.stepContainer" (dict "step" .step "root" .root "containerSet" false) | nindent 4 }}
  {{- if or .metrics (eq .step "ensure-state") }}
  metrics:
    prometheus:
      {{- if eq .step "ensure-state" }}
      {{- include "reseed.targetMetrics" (dict "prefix" "") | trim | nindent 6 }}
      {{- end }}
      {{- if .metrics }}
      # Why a unit fails, for alerts: the exit code names the clause (10 spec C5, 11 input and
      # 12 dependency C1, 13 ensure C2, 14 verify C3, 1 a bug). A step that never ran (killed at
      # the deadline before it started) has no exit code: Argo then records a metrics error
      # condition on the run instead of this sample.
      - name: reseed_step_failures_total
        help: Failed steps of a unit by step and exit code.
        when: "{{`{{status}}`}} != Succeeded"
        labels:
          - {key: unit, value: "{{`{{workflow.labels.reseed.dev/unit}}`}}"}
          - {key: step, value: {{ .step }}}
          - {key: exit_code, value: "{{`{{exitCode}}`}}"}
        counter: {value: "1"}
      {{- end }}
  {{- end }}
{{- end }}

{{/*
What a step's output parameter reads when the step wrote no file for it (JSON, by output
name): the step failed before writing it. Call with the step name.
*/}}
{{- define "reseed.outputDefaults" -}}
{{- toJson (dict "result" "failed" "summary" (printf "{\"step\":\"%s\",\"result\":\"failed\",\"message\":\"the step wrote no summary\"}" .) "exit-code" "" "fingerprint" "" "facts" "{}" "action" "none" "unit" "unknown" "targets" "0" "created" "0" "updated" "0" "unchanged" "0") -}}
{{- end }}

{{/*
Per-target evidence (C4): how many targets the last successful ensure-state had, and what it
did to them. Template metrics of the ensure-state step (DAG) or of the run's one pod
(containerSet), whose outputs carry ensure-state's under the prefix "ensure-state-".
Call with (dict "prefix" "" | "ensure-state-").
*/}}
{{- define "reseed.targetMetrics" -}}
{{- $prefix := .prefix -}}
{{- range $count := list "targets" "created" "updated" "unchanged" }}
- name: reseed_unit_targets
  help: Targets of the unit's last successful ensure-state, by what it did to them (count=targets is all of them).
  labels:
    - {key: unit, value: "{{`{{outputs.parameters.`}}{{ $prefix }}unit{{`}}`}}"}  # a template's metrics cannot resolve workflow.labels
    - {key: count, value: {{ $count }}}
  when: "{{`{{status}}`}} == Succeeded"
  gauge:
    realtime: false
    value: "{{`{{outputs.parameters.`}}{{ $prefix }}{{ $count }}{{`}}`}}"
{{- end }}
{{- end }}

{{/*
The container of one step, the same in both run modes. Call with (dict "step" "<step>" "root" $
"containerSet" true|false). In a containerSet the four steps share one pod and one /tmp
(mounted by the containerSet): each writes its outputs under /tmp/reseed/outputs/<step>, and
the later steps read the fingerprint validate-inputs wrote there instead of a parameter.
*/}}
{{- define "reseed.stepContainer" -}}
{{- $image := .root.Values.image -}}
{{- $outputs := ternary (printf "/tmp/reseed/outputs/%s" .step) "/tmp/reseed/outputs" .containerSet -}}
image: {{ include "reseed.image" (dict "step" .step "root" .root) }}
imagePullPolicy: {{ $image.pullPolicy }}
# The image's ENTRYPOINT (steps/Dockerfile), stated so Argo's emissary executor need not
# look it up in the registry (which fails for private or locally imported images).
command: [/nodejs/bin/node, /app/step.mjs]
env:
  - {name: RESEED_UNIT, value: "{{`{{workflow.parameters.unit}}`}}"}
  {{- if ne .step "validate-inputs" }}
  {{- if .containerSet }}
  - {name: RESEED_FINGERPRINT_FILE, value: /tmp/reseed/outputs/validate-inputs/fingerprint}
  {{- else }}
  - {name: RESEED_FINGERPRINT, value: "{{`{{inputs.parameters.fingerprint}}`}}"}
  {{- end }}
  {{- end }}
  - {name: RESEED_WORKFLOW_NAME, value: "{{`{{workflow.name}}`}}"}
  - {name: RESEED_WORKFLOW_UID, value: "{{`{{workflow.uid}}`}}"}
  - {name: RESEED_CRONWORKFLOW, value: "{{`{{workflow.parameters.cron-workflow}}`}}"}
  - {name: RESEED_NAMESPACE, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}
  - {name: RESEED_OUTPUT_DIR, value: {{ $outputs }}}
  - {name: RESEED_LOG_FORMAT, value: {{ .root.Values.logFormat | default "json" | quote }}}
{{- if not .containerSet }}
volumeMounts:
  - {name: tmp, mountPath: /tmp}
{{- end }}
securityContext:
  runAsNonRoot: true
  runAsUser: 65532
  readOnlyRootFilesystem: true
  allowPrivilegeEscalation: false
  capabilities: {drop: [ALL]}
  seccompProfile: {type: RuntimeDefault}
resources:
  {{- if .containerSet }}
  # A containerSet's pod requests the sum of its containers', yet its steps run one at a time.
  requests: {cpu: 25m, memory: 32Mi}
  {{- else }}
  {{- /* A step peaks at 62–67 MiB (docs/figures.md#step-cold-start-and-memory): the request covers it. */}}
  requests: {cpu: 50m, memory: 80Mi}
  {{- end }}
  limits: {memory: 256Mi}
{{- end }}
