{{/*
What every reseed run executes: the pod security context, the scratch volume, the metrics
and the templates (the two DAG entrypoints and the four steps). The one source for the
WorkflowTemplate reseed-unit and for every CronWorkflow, which carries it inline so that
Argo can validate each on its own, in whatever order they arrive (hook Workflows reference
the WorkflowTemplate: reseed.workflowSpec says why).
Call with (dict "root" $ "stepMetrics" true|false): the step failure metric's unit label
comes from the Workflow's reseed.dev/unit label, which Argo resolves (and `argo lint`
validates) only where the workflow metadata declares it, the CronWorkflows; a hook Workflow
references the WorkflowTemplate, whose failures reseed_unit_runs_total counts.

No retryStrategy anywhere: the steps' bounded internal retry is the retry (P1).
The metrics are emitted when a run finishes. Every Workflow the chart renders carries the
reseed.dev/unit label; a run submitted by hand without it gets a metrics-error condition,
nothing worse.
*/}}
{{- define "reseed.templates" -}}
{{- $root := .root -}}
{{- $stepMetrics := .stepMetrics -}}
{{- /* Argo expressions, kept out of Helm's way. */ -}}
{{- $fingerprint := "{{tasks.validate-inputs.outputs.parameters.fingerprint}}" -}}
{{- $unitLabel := "{{workflow.labels.reseed.dev/unit}}" -}}
{{- $status := "{{workflow.status}}" -}}
{{- $finishedAt := "{{=asInt(workflow.creationTimestamp.s) + asFloat(workflow.duration)}}" -}}
{{- with $root.Values.imagePullSecrets }}
imagePullSecrets:  # for the step images in a private registry
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  runAsNonRoot: true
  runAsUser: 65532
  runAsGroup: 65532
  seccompProfile:
    type: RuntimeDefault
volumes:
  - name: tmp  # the root filesystem is read-only; outputs go to /tmp/reseed/outputs
    emptyDir: {}
metrics:
  prometheus:
    - name: reseed_unit_last_success_timestamp_seconds
      help: Unix time at which the last successful run of the unit finished.
      labels:
        - key: unit
          value: {{ $unitLabel | quote }}
      when: "{{ $status }} == Succeeded"
      gauge:
        realtime: false
        value: {{ $finishedAt | quote }}  # creation time + run time: the finish time, to within the queueing delay
    - name: reseed_unit_runs_total
      help: Finished runs of the unit by result (Succeeded, Failed, Error).
      labels:
        - key: unit
          value: {{ $unitLabel | quote }}
        - key: result
          value: {{ $status | quote }}
      counter:
        value: "1"
templates:
  - name: reconcile
    dag:
      tasks:
        - name: validate-inputs
          template: validate-inputs
        - name: wait-deps
          template: wait-deps
          depends: validate-inputs
          arguments:
            parameters: [{name: fingerprint, value: {{ $fingerprint | quote }}}]
        - name: ensure-state
          template: ensure-state
          depends: wait-deps
          arguments:
            parameters: [{name: fingerprint, value: {{ $fingerprint | quote }}}]
        - name: verify
          template: verify
          depends: ensure-state
          arguments:
            parameters: [{name: fingerprint, value: {{ $fingerprint | quote }}}]
  - name: verify-only
    dag:
      tasks:
        - name: validate-inputs
          template: validate-inputs
        - name: wait-deps
          template: wait-deps
          depends: validate-inputs
          arguments:
            parameters: [{name: fingerprint, value: {{ $fingerprint | quote }}}]
        - name: verify
          template: verify
          depends: wait-deps
          arguments:
            parameters: [{name: fingerprint, value: {{ $fingerprint | quote }}}]
  {{- /* Parse the unit, resolve every input and report all missing ones at once (C1). */}}
  {{- include "reseed.step" (dict "step" "validate-inputs" "outputs" (list "fingerprint" "facts") "root" $root "metrics" $stepMetrics) | nindent 2 }}
  {{- /* Probe each dependency with backoff until waitTimeoutSeconds; name the one that timed out. */}}
  {{- include "reseed.step" (dict "step" "wait-deps" "root" $root "metrics" $stepMetrics) | nindent 2 }}
  {{- /* Change only what differs: created | updated | unchanged (C2). */}}
  {{- include "reseed.step" (dict "step" "ensure-state" "outputs" (list "action" "unit" "targets" "created" "updated" "unchanged") "root" $root "metrics" $stepMetrics) | nindent 2 }}
  {{- /* Re-read independently, read-only, and check the desired state holds. */}}
  {{- include "reseed.step" (dict "step" "verify" "root" $root "metrics" $stepMetrics) | nindent 2 }}
{{- end }}
