{{/*
Least-privilege RBAC for one unit, derived from the unit itself.

"reseed.rbac.rules" renders YAML: namespace -> list of Role rules. Call with
(dict "name" $name "unit" $unit "root" $). Namespaces default to the unit's namespace,
which defaults to the release namespace.

  what the unit says                   rule (resourceNames wherever Kubernetes allows it)
  -----------------------------------  ------------------------------------------------------------
  always, in the workflow namespace    events.k8s.io events: create   (the steps' evidence Event, C4)
                                       argoproj.io workflowtaskresults: create, patch (Argo executor)
  inputs.*.secretKeyRef                secrets: get [name]
  inputs.*.configMapKeyRef             configmaps: get [name]
  dependencies[].kubernetes            <resource>: get [name] in the apiVersion's group
  ensure generated-secret              secrets: get, update, patch [with.secret.name]; secrets: create
                                       (nothing when the values live in with.vault or with.keyVault)
  ensure secret-sync                   from.kubernetesSecret: secrets: get [name]
                                       to.kubernetesSecret: secrets: get, update, patch [name]; secrets: create
                                       (Vault and Key Vault are authorized by their own auth, not RBAC;
                                       a namespaceSelector fan-out: a ClusterRole, rbac-fan-out.yaml)
  ensure runtime-facts                 configmaps: get, update, patch [with.configMap.name]; configmaps: create
  ensure operator-ready                <resource>: get [name] for each with.resources[]
  ensure keycloak-client-secret        sink.kubernetesSecret: secrets get, update, patch [name]; secrets: create
  ensure postgres-bootstrap            configmaps: get [name] for each database's migrations and seed.files
  ensure azure-federated-credential    nothing in Kubernetes (Azure RBAC on the identity, through workload identity)
                                       (a serviceAccounts fan-out lists ServiceAccounts: a ClusterRole, rbac-fan-out.yaml)
  ensure coder-admin                   secrets: get, update, patch [with.session.kubernetesSecret.name]; secrets: create

<resource> is the reference's `resource`, or the kind's plural as Kubernetes forms it
(reseed.plural: Ingress → ingresses, NetworkPolicy → networkpolicies).
`create` cannot be limited by resourceNames (the API server authorizes it before the object
has a name), so create is always a rule of its own. Events (the steps' evidence) go
to the namespace the workflow runs in, which is where its CronWorkflow lives.
Cluster-scoped objects are out of scope.
*/}}
{{- define "reseed.rbac.rules" -}}
{{- $name := .name -}}
{{- $unit := .unit -}}
{{- $workflowNs := .root.Release.Namespace -}}
{{- $unitNs := $unit.namespace | default $workflowNs -}}
{{- $grants := dict -}}

{{- /* Always: the steps' evidence and the Argo executor. */ -}}
{{- include "reseed.rbac.grant" (dict "to" $grants "ns" $workflowNs "group" "events.k8s.io" "resource" "events" "verbs" "create") -}}
{{- include "reseed.rbac.grant" (dict "to" $grants "ns" $workflowNs "group" "argoproj.io" "resource" "workflowtaskresults" "verbs" "create,patch") -}}

{{- /* Inputs: read the referenced Secret or ConfigMap, nothing else. */ -}}
{{- range $input, $ref := $unit.inputs -}}
{{- with $ref.secretKeyRef -}}
{{- include "reseed.rbac.grant" (dict "to" $grants "ns" (.namespace | default $unitNs) "group" "" "resource" "secrets" "verbs" "get" "name" .name) -}}
{{- end -}}
{{- with $ref.configMapKeyRef -}}
{{- include "reseed.rbac.grant" (dict "to" $grants "ns" (.namespace | default $unitNs) "group" "" "resource" "configmaps" "verbs" "get" "name" .name) -}}
{{- end -}}
{{- end -}}

{{- /* Dependencies: wait-deps reads each Kubernetes object it waits for. */ -}}
{{- range $dep := $unit.dependencies -}}
{{- with $dep.kubernetes -}}
{{- include "reseed.rbac.grantRef" (dict "to" $grants "ns" $unitNs "ref" . "verbs" "get") -}}
{{- end -}}
{{- end -}}

{{- /* Ensure: what the kind writes or checks. */ -}}
{{- $kind := $unit.ensure.kind -}}
{{- $with := $unit.ensure.with | default dict -}}
{{- if eq $kind "generated-secret" -}}
{{- with $with.secret -}}
{{- $secret := required (printf "units.%s.ensure.with.secret.name is required for kind generated-secret" $name) .name -}}
{{- $ns := .namespace | default $unitNs -}}
{{- include "reseed.rbac.grant" (dict "to" $grants "ns" $ns "group" "" "resource" "secrets" "verbs" "get,update,patch" "name" $secret) -}}
{{- include "reseed.rbac.grant" (dict "to" $grants "ns" $ns "group" "" "resource" "secrets" "verbs" "create") -}}
{{- end -}}
{{- else if eq $kind "secret-sync" -}}
{{- with ($with.from | default dict).kubernetesSecret -}}
{{- include "reseed.rbac.grant" (dict "to" $grants "ns" (.namespace | default $unitNs) "group" "" "resource" "secrets" "verbs" "get" "name" .name) -}}
{{- end -}}
{{- with ($with.to | default dict).kubernetesSecret -}}
{{- /* A fan-out (namespaceSelector) gets a ClusterRole instead: rbac-fan-out.yaml. */ -}}
{{- if not .namespaceSelector -}}
{{- $ns := .namespace | default $unitNs -}}
{{- include "reseed.rbac.grant" (dict "to" $grants "ns" $ns "group" "" "resource" "secrets" "verbs" "get,update,patch" "name" .name) -}}
{{- include "reseed.rbac.grant" (dict "to" $grants "ns" $ns "group" "" "resource" "secrets" "verbs" "create") -}}
{{- end -}}
{{- end -}}
{{- else if eq $kind "runtime-facts" -}}
{{- $configMap := required (printf "units.%s.ensure.with.configMap.name is required for kind runtime-facts" $name) (($with.configMap | default dict).name) -}}
{{- $ns := $with.configMap.namespace | default $unitNs -}}
{{- include "reseed.rbac.grant" (dict "to" $grants "ns" $ns "group" "" "resource" "configmaps" "verbs" "get,update,patch" "name" $configMap) -}}
{{- include "reseed.rbac.grant" (dict "to" $grants "ns" $ns "group" "" "resource" "configmaps" "verbs" "create") -}}
{{- else if eq $kind "keycloak-client-secret" -}}
{{- with ($with.sink | default dict).kubernetesSecret -}}
{{- $ns := .namespace | default $unitNs -}}
{{- include "reseed.rbac.grant" (dict "to" $grants "ns" $ns "group" "" "resource" "secrets" "verbs" "get,update,patch" "name" .name) -}}
{{- include "reseed.rbac.grant" (dict "to" $grants "ns" $ns "group" "" "resource" "secrets" "verbs" "create") -}}
{{- end -}}
{{- else if eq $kind "postgres-bootstrap" -}}
{{- range $db := $with.databases | default list -}}
{{- range $files := list ($db.migrations | default dict) (($db.seed | default dict).files | default dict) -}}
{{- with $files.configMap -}}
{{- include "reseed.rbac.grant" (dict "to" $grants "ns" (.namespace | default $unitNs) "group" "" "resource" "configmaps" "verbs" "get" "name" .name) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- else if eq $kind "coder-admin" -}}
{{- $session := required (printf "units.%s.ensure.with.session.kubernetesSecret.name is required for kind coder-admin" $name) ((($with.session | default dict).kubernetesSecret | default dict).name) -}}
{{- $ns := $with.session.kubernetesSecret.namespace | default $unitNs -}}
{{- include "reseed.rbac.grant" (dict "to" $grants "ns" $ns "group" "" "resource" "secrets" "verbs" "get,update,patch" "name" $session) -}}
{{- include "reseed.rbac.grant" (dict "to" $grants "ns" $ns "group" "" "resource" "secrets" "verbs" "create") -}}
{{- else if eq $kind "operator-ready" -}}
{{- range $ref := required (printf "units.%s.ensure.with.resources is required for kind operator-ready" $name) $with.resources -}}
{{- include "reseed.rbac.grantRef" (dict "to" $grants "ns" $unitNs "ref" $ref "verbs" "get") -}}
{{- end -}}
{{- end -}}

{{- /* Render: one rule per (apiGroup, resource, verbs), names merged and sorted. */ -}}
{{- $out := dict -}}
{{- range $ns := keys $grants | sortAlpha -}}
{{- $byRule := get $grants $ns -}}
{{- $rules := list -}}
{{- range $key := keys $byRule | sortAlpha -}}
{{- $parts := splitList "|" $key -}}
{{- $rule := dict "apiGroups" (list (index $parts 0)) "resources" (list (index $parts 1)) "verbs" (splitList "," (index $parts 2)) -}}
{{- with get $byRule $key -}}
{{- $_ := set $rule "resourceNames" (uniq . | sortAlpha) -}}
{{- end -}}
{{- $rules = append $rules $rule -}}
{{- end -}}
{{- $_ := set $out $ns $rules -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{/*
Record one grant: verbs on resource (in group) in namespace ns, limited to `name` when given.
Grants with the same namespace, group, resource and verbs merge into one rule.
*/}}
{{- define "reseed.rbac.grant" -}}
{{- $byRule := get .to .ns | default dict -}}
{{- $key := printf "%s|%s|%s" .group .resource .verbs -}}
{{- $names := get $byRule $key | default list -}}
{{- if .name -}}
{{- $names = append $names .name -}}
{{- end -}}
{{- $_ := set $byRule $key $names -}}
{{- $_ := set .to .ns $byRule -}}
{{- end -}}

{{/* The resource name Kubernetes gives a kind: lowercased, with the English plural its
code generators use (the same rule as pluralOf in steps/core/permissions.ts). */}}
{{- define "reseed.plural" -}}
{{- $kind := lower . -}}
{{- if eq $kind "endpoints" -}}{{ $kind }}
{{- else if regexMatch "(s|x|z|ch|sh)$" $kind -}}{{ $kind }}es
{{- else if regexMatch "[^aeiou]y$" $kind -}}{{ trimSuffix "y" $kind }}ies
{{- else -}}{{ $kind }}s
{{- end -}}
{{- end -}}

{{/* Record a grant on an object reference {apiVersion, kind, resource?, namespace?, name}. */}}
{{- define "reseed.rbac.grantRef" -}}
{{- $ref := .ref -}}
{{- $group := "" -}}
{{- if contains "/" $ref.apiVersion -}}
{{- $group = first (splitList "/" $ref.apiVersion) -}}
{{- end -}}
{{- $resource := $ref.resource | default (include "reseed.plural" $ref.kind) -}}
{{- include "reseed.rbac.grant" (dict "to" .to "ns" ($ref.namespace | default .ns) "group" $group "resource" $resource "verbs" .verbs "name" $ref.name) -}}
{{- end -}}
