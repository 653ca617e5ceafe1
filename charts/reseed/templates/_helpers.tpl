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
Workflow (P2). It carries the templates inline (reseed.templates, the same helper the
WorkflowTemplate reseed-unit renders) rather than a workflowTemplateRef: Argo validates a
CronWorkflow when it appears, and one whose WorkflowTemplate has not reached the controller
yet is not scheduled again until a resync 20 minutes later, so a reference would make the
first tick depend on the order the objects are applied in. Inline, each object is complete.
Call with (dict "name" $name "unit" $unit "root" $ "cronWorkflow" true|false).
*/}}
{{- define "reseed.workflowSpec" -}}
{{- $d := .root.Values.defaults -}}
entrypoint: {{ if eq .unit.pattern "operator" }}verify-only{{ else }}reconcile{{ end }}
serviceAccountName: {{ include "reseed.serviceAccountName" .name }}
activeDeadlineSeconds: {{ $d.activeDeadlineSeconds }}  # a hung run must end, or it blocks Forbid (or the Argo CD sync) forever
# No retryStrategy, here or in the template: the steps' bounded internal retry is the retry (P1).
podGC:
  strategy: OnPodSuccess  # C4: failed pods, and so their logs, stay as evidence
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
    - name: cron-workflow  # the steps record their Kubernetes Event on this CronWorkflow (C4); none for a hook
      value: {{ if .cronWorkflow }}{{ .name | quote }}{{ else }}""{{ end }}
{{ include "reseed.templates" .root }}
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
    image: {{ printf "%s/reseed-%s:%s" $image.registry .step $image.tag }}
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
