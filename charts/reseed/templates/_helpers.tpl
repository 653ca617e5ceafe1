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
{{- toPrettyJson $doc -}}
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
podGC:
  strategy: OnPodSuccess  # C4: failed pods, and so their logs, stay as evidence
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
{{ include "reseed.templates" .root }}
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
Call with (dict "step" "<step>" "outputs" (list <extra output names>) "root" $).
*/}}
{{- define "reseed.step" -}}
{{- $image := .root.Values.image -}}
{{- $defaults := dict "result" "failed" "summary" (printf "{\"step\":\"%s\",\"result\":\"failed\",\"message\":\"the step wrote no summary\"}" .step) "fingerprint" "" "facts" "{}" "action" "none" -}}
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
    image: {{ include "reseed.image" (dict "step" .step "root" .root) }}
    imagePullPolicy: {{ $image.pullPolicy }}
    # The image's ENTRYPOINT (steps/Dockerfile), stated so Argo's emissary executor need not
    # look it up in the registry (which fails for private or locally imported images).
    command: [/nodejs/bin/node, /app/step.mjs]
    env:
      - {name: RESEED_UNIT, value: "{{`{{workflow.parameters.unit}}`}}"}
      {{- if ne .step "validate-inputs" }}
      - {name: RESEED_FINGERPRINT, value: "{{`{{inputs.parameters.fingerprint}}`}}"}
      {{- end }}
      - {name: RESEED_WORKFLOW_NAME, value: "{{`{{workflow.name}}`}}"}
      - {name: RESEED_WORKFLOW_UID, value: "{{`{{workflow.uid}}`}}"}
      - {name: RESEED_CRONWORKFLOW, value: "{{`{{workflow.parameters.cron-workflow}}`}}"}
      - {name: RESEED_NAMESPACE, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}
      - {name: RESEED_OUTPUT_DIR, value: /tmp/reseed/outputs}
    volumeMounts:
      - {name: tmp, mountPath: /tmp}
    securityContext:
      runAsNonRoot: true
      runAsUser: 65532
      readOnlyRootFilesystem: true
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL]}
      seccompProfile: {type: RuntimeDefault}
    resources:
      requests: {cpu: 50m, memory: 64Mi}
      limits: {memory: 256Mi}
{{- end }}
