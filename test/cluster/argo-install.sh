#!/usr/bin/env bash
# Installs Argo Workflows into the cluster KUBECONFIG points at, from the pinned release's
# own manifests: the full CRDs, and manifests/cluster-install-no-crds (controller, RBAC,
# ConfigMap) with only what a cluster without a registry needs changed:
#
#   ARGO_MANIFESTS=<release>/manifests ARGO_CRDS=<dir of *.json CRDs> \
#   CONTROLLER_IMAGE=<ref> EXECUTOR_IMAGE=<ref> [PULL_POLICY=Never] argo-install.sh
#
# The local node imports its images and must never pull (PULL_POLICY=Never, the default);
# a kind cluster pulls the upstream images (PULL_POLICY=IfNotPresent).
set -euo pipefail

: "${ARGO_MANIFESTS:?} ${ARGO_CRDS:?} ${CONTROLLER_IMAGE:?} ${EXECUTOR_IMAGE:?}"
PULL_POLICY=${PULL_POLICY:-Never}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Server-side: the workflows CRD is too big for client-side apply's annotation.
# A busy machine's API server can time out on one (HTTP 504, "request did not complete"):
# applying again is safe, so each is tried up to five times.
for crd in "$ARGO_CRDS"/*.json; do
  for try in 1 2 3 4 5; do
    kubectl apply --server-side --force-conflicts -f "$crd" >/dev/null && break
    [ "$try" = 5 ] && exit 1
    sleep 15
  done
done
# `kubectl wait` fails outright on a CRD the server has not given conditions yet: retry.
for _ in $(seq 60); do
  kubectl wait --for=condition=Established --timeout=10s crd --all >/dev/null 2>&1 && break
  sleep 1
done
kubectl wait --for=condition=Established --timeout=10s crd --all >/dev/null

cat > "$work/kustomization.yaml" <<YAML
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - $(realpath --relative-to="$work" "$ARGO_MANIFESTS/cluster-install-no-crds")
images:
  - name: quay.io/argoproj/workflow-controller
    newName: ${CONTROLLER_IMAGE%:*}
    newTag: ${CONTROLLER_IMAGE##*:}
patches:
  - patch: |
      apiVersion: apps/v1
      kind: Deployment
      metadata: { name: workflow-controller }
      spec:
        template:
          spec:
            containers:
              - name: workflow-controller
                imagePullPolicy: $PULL_POLICY
                # Argo processes a Workflow at most once per DEFAULT_REQUEUE_TIME (10 s by
                # default), and a run waits for that after each pod it finishes: 1 s is what
                # Argo's own e2e suite runs with (its Makefile), to the same end. It changes
                # when the controller looks again, not what it does; make e2e-bench measures
                # both the default and a short one.
                env:
                  - name: DEFAULT_REQUEUE_TIME
                    value: 1s
  - patch: |
      apiVersion: v1
      kind: ConfigMap
      metadata: { name: workflow-controller-configmap }
      data:
        # Explicit: a controller built without release ldflags defaults to argoexec:v0.0.0.
        # securityContext: what Pod Security \`restricted\` requires of every container, given to
        # Argo's own init and wait containers (the chart sets the step's); the e2e namespace
        # enforces \`restricted\` (docs/faults.md).
        executor: |
          image: $EXECUTOR_IMAGE
          imagePullPolicy: $PULL_POLICY
          securityContext:
            runAsNonRoot: true
            runAsUser: 8737
            allowPrivilegeEscalation: false
            capabilities: { drop: [ALL] }
            seccompProfile: { type: RuntimeDefault }
        # The chart's template metrics (reseed_unit_*) are served here, in plain HTTP;
        # the tests read them through the API server's pod proxy.
        metricsConfig: |
          enabled: true
          path: /metrics
          port: 9090
          secure: false
        # No podGCDeleteDelayDuration: the controller's default (5 s) applies, as in an
        # install that does not set it; the chart's podGC.deleteDelayDuration is what keeps a
        # success's pods readable (make e2e asserts it).
  # No argo-server: the tests drive Argo with the argo CLI against the Kubernetes API (what
  # \`argo submit --from\` does without ARGO_SERVER), and the local node has no argocli image.
  - patch: |
      \$patch: delete
      apiVersion: apps/v1
      kind: Deployment
      metadata: { name: argo-server }
  - patch: |
      \$patch: delete
      apiVersion: v1
      kind: Service
      metadata: { name: argo-server }
YAML

kubectl create namespace argo --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl kustomize --load-restrictor LoadRestrictionsNone "$work" > "$work/install.yaml"
kubectl apply --server-side --force-conflicts -f "$work/install.yaml" >/dev/null
kubectl -n argo rollout status deployment/workflow-controller --timeout=180s
