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
{{- $stepOutputs := dict "validate-inputs" (list "fingerprint" "facts") "ensure-state" (list "action" "unit" "targets" "created" "updated" "unchanged") }}
{{- $entrypoints := dict "reconcile" (list "validate-inputs" "wait-deps" "ensure-state" "verify") "verify-only" (list "validate-inputs" "wait-deps" "verify") }}
templates:
{{- if eq ($root.Values.runMode | default "dag") "containerSet" }}
  {{- range $entrypoint := list "reconcile" "verify-only" }}
  {{- include "reseed.containerSetRun" (dict "name" $entrypoint "steps" (get $entrypoints $entrypoint) "stepOutputs" $stepOutputs "root" $root "metrics" $stepMetrics) | nindent 2 }}
  {{- end }}
{{- else }}
  {{- range $entrypoint := list "reconcile" "verify-only" }}
  - name: {{ $entrypoint }}
    dag:
      tasks:
        {{- $previous := "" }}
        {{- range $step := get $entrypoints $entrypoint }}
        - name: {{ $step }}
          template: {{ $step }}
          {{- if $previous }}
          depends: {{ $previous }}
          arguments:
            parameters: [{name: fingerprint, value: {{ $fingerprint | quote }}}]
          {{- end }}
          {{- $previous = $step }}
        {{- end }}
  {{- end }}
  {{- /* Parse the unit, resolve every input and report all missing ones at once (C1). */}}
  {{- include "reseed.step" (dict "step" "validate-inputs" "outputs" (get $stepOutputs "validate-inputs") "root" $root "metrics" $stepMetrics) | nindent 2 }}
  {{- /* Probe each dependency with backoff until waitTimeoutSeconds; name the one that timed out. */}}
  {{- include "reseed.step" (dict "step" "wait-deps" "root" $root "metrics" $stepMetrics) | nindent 2 }}
  {{- /* Change only what differs: created | updated | unchanged (C2). */}}
  {{- include "reseed.step" (dict "step" "ensure-state" "outputs" (get $stepOutputs "ensure-state") "root" $root "metrics" $stepMetrics) | nindent 2 }}
  {{- /* Re-read independently, read-only, and check the desired state holds. */}}
  {{- include "reseed.step" (dict "step" "verify" "root" $root "metrics" $stepMetrics) | nindent 2 }}
{{- end }}
{{- end }}

{{/*
One run as one pod (runMode: containerSet): the steps are containers of an Argo containerSet,
each started when the one before it exited 0, so a failed step's successors do not run (Argo
marks them Error: "dependency ... exited with non-zero code"). Argo shows each container as a
node with its own status, exit code (in the node message) and log. A containerSet keeps its
outputs on the run's pod node, so every step's output parameter is there as <step>-<name>,
read from the step's files on the shared /tmp. Argo accepts a containerSet's outputs only if it
has a container named `main`, and its wait container reads them through main's mounts: `main`
is a no-op after the last step.
Call with (dict "name" <entrypoint> "steps" (list <step>...) "stepOutputs" <dict> "root" $ "metrics" true|false).
*/}}
{{- define "reseed.containerSetRun" -}}
{{- $root := .root -}}
{{- $stepOutputs := .stepOutputs -}}
- name: {{ .name }}
  outputs:
    parameters:  # result "none": the step wrote no result (it did not run, or was killed)
      {{- range $step := .steps }}
      {{- $defaults := include "reseed.outputDefaults" $step | fromJson }}
      {{- $_ := set $defaults "result" "none" }}
      {{- $_ := set $defaults "summary" (printf "{\"step\":\"%s\",\"result\":\"none\",\"message\":\"the step wrote no summary: it did not run, or was killed\"}" $step) }}
      {{- range $out := concat (list "result" "summary" "exit-code") (get $stepOutputs $step | default list) }}
      - name: {{ $step }}-{{ $out }}
        valueFrom: {path: /tmp/reseed/outputs/{{ $step }}/{{ $out }}, default: {{ get $defaults $out | squote }}}
      {{- end }}
      {{- end }}
  containerSet:
    volumeMounts:
      - {name: tmp, mountPath: /tmp}
    containers:
      {{- $previous := "" }}
      {{- range $step := .steps }}
      - name: {{ $step }}
        {{- if $previous }}
        dependencies: [{{ $previous }}]
        {{- end }}
        {{- include "reseed.stepContainer" (dict "step" $step "root" $root "containerSet" true) | nindent 8 }}
      {{- $previous = $step }}
      {{- end }}
      - name: main
        dependencies: [{{ $previous }}]
        image: {{ include "reseed.image" (dict "step" $previous "root" $root) }}
        imagePullPolicy: {{ $root.Values.image.pullPolicy }}
        command: [/nodejs/bin/node, -e, "0"]
        securityContext:
          runAsNonRoot: true
          runAsUser: 65532
          readOnlyRootFilesystem: true
          allowPrivilegeEscalation: false
          capabilities: {drop: [ALL]}
          seccompProfile: {type: RuntimeDefault}
        resources:
          requests: {cpu: 10m, memory: 16Mi}
          limits: {memory: 64Mi}
  {{- if or .metrics (has "ensure-state" .steps) }}
  metrics:
    prometheus:
      {{- if has "ensure-state" .steps }}
      {{- include "reseed.targetMetrics" (dict "prefix" "ensure-state-") | trim | nindent 6 }}
      {{- end }}
      {{- if .metrics }}
      {{- range $step := .steps }}
      - name: reseed_step_failures_total  # as in the DAG (reseed.step); a killed step wrote no result
        help: Failed steps of a unit by step and exit code.
        when: "{{`{{outputs.parameters.`}}{{ $step }}-result{{`}}`}} == failed"
        labels:
          - {key: unit, value: "{{`{{workflow.labels.reseed.dev/unit}}`}}"}
          - {key: step, value: {{ $step }}}
          - {key: exit_code, value: "{{`{{outputs.parameters.`}}{{ $step }}-exit-code{{`}}`}}"}
        counter: {value: "1"}
      {{- end }}
      {{- end }}
  {{- end }}
{{- end }}
