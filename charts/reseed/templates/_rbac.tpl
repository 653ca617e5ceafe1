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
  ensure.with, per the kind's access    for each object the kind declares at a path of its `with` (_kinds.tpl,
                                       generated from steps/kinds): read = get [name];
                                       write = get, update, patch [name] and create.
                                       Stores authorized by their own auth (Vault, Key Vault) declare none.

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

{{- /* Ensure: what the kind declares it reads or writes (_kinds.tpl, generated from steps/kinds). */ -}}
{{- $kind := $unit.ensure.kind -}}
{{- $decl := get (include "reseed.kinds" .root | fromYaml) $kind | default dict -}}
{{- range $a := $decl.access | default list -}}
{{- $out := dict "found" list -}}
{{- include "reseed.walk" (dict "node" ($unit.ensure.with | default dict) "path" $a.path "at" (printf "units.%s.ensure.with" $name) "out" $out) -}}
{{- range $f := $out.found -}}
{{- $o := $f.node -}}
{{- $_ := required (printf "%s.name is required for kind %s" $f.at $kind) $o.name -}}
{{- if kindIs "string" $a.object -}}
{{- /* "reference": { apiVersion, kind, resource?, namespace?, name }; read only */ -}}
{{- include "reseed.rbac.grantRef" (dict "to" $grants "ns" $unitNs "ref" $o "verbs" "get") -}}
{{- else -}}
{{- $ns := $o.namespace | default $unitNs -}}
{{- if eq $a.verbs "read" -}}
{{- include "reseed.rbac.grant" (dict "to" $grants "ns" $ns "group" $a.object.group "resource" $a.object.resource "verbs" "get" "name" $o.name) -}}
{{- else -}}
{{- include "reseed.rbac.grant" (dict "to" $grants "ns" $ns "group" $a.object.group "resource" $a.object.resource "verbs" "get,update,patch" "name" $o.name) -}}
{{- include "reseed.rbac.grant" (dict "to" $grants "ns" $ns "group" $a.object.group "resource" $a.object.resource "verbs" "create") -}}
{{- end -}}
{{- end -}}
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
code generators use (the same rule as pluralOf in steps/runtime/permissions.ts). */}}
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

{{/*
Everything found at .path in .node, appended to .out.found as (dict "node" … "at" "<where>"),
the same walk as steps/core/access.ts: a name steps into a map, "*" into every element of a
list or value of a map, and a missing step finds nothing (an absent optional block needs no
access). Call with (dict "node" … "path" (list …) "at" "units.x.ensure.with" "out" (dict "found" list)).
*/}}
{{- define "reseed.walk" -}}
{{- if not .path -}}
{{- if .node -}}
{{- $_ := set .out "found" (append .out.found (dict "node" .node "at" .at)) -}}
{{- end -}}
{{- else -}}
{{- $step := first .path -}}
{{- $rest := rest .path -}}
{{- $out := .out -}}
{{- if eq $step "*" -}}
{{- if or (kindIs "slice" .node) (kindIs "map" .node) -}}
{{- $at := .at -}}
{{- range $k, $child := .node -}}
{{- include "reseed.walk" (dict "node" $child "path" $rest "at" (printf "%s.%v" $at $k) "out" $out) -}}
{{- end -}}
{{- end -}}
{{- else if kindIs "map" .node -}}
{{- include "reseed.walk" (dict "node" (get .node $step) "path" $rest "at" (printf "%s.%s" .at $step) "out" $out) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
C5 where only the kind knows it: an input the kind's `with` takes as a secret (the kind's
secret inputs, _kinds.tpl) must not be a literal value, which would be rendered in clear into
the CronWorkflow. lint and validate-inputs say the same (steps/runtime/unit.ts).
Call with (dict "name" $name "unit" $unit "root" $).
*/}}
{{- define "reseed.kinds.secretInputs" -}}
{{- $name := .name -}}
{{- $unit := .unit -}}
{{- $kind := $unit.ensure.kind -}}
{{- $decl := get (include "reseed.kinds" .root | fromYaml) $kind | default dict -}}
{{- $inputs := $unit.inputs | default dict -}}
{{- range $path := $decl.secretInputs | default list -}}
{{- $out := dict "found" list -}}
{{- include "reseed.walk" (dict "node" ($unit.ensure.with | default dict) "path" $path "at" "ensure.with" "out" $out) -}}
{{- range $f := $out.found -}}
{{- if kindIs "map" $f.node -}}
{{- $ref := get $inputs (toString $f.node.input) -}}
{{- if and (kindIs "map" $ref) (hasKey $ref "value") -}}
{{- fail (printf "units.%s.inputs.%s: kind %s takes a secret at %s, and a literal value is never secret: it would be rendered in clear into the CronWorkflow, Git and Argo CD; take the secret from secretKeyRef, vault or keyVault" $name (toString $f.node.input) $kind $f.at) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
