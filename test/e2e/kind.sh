#!/usr/bin/env bash
# `make e2e-kind`: the e2e suite against a kind cluster, for a laptop with Docker. The tests
# are the same as `make e2e`'s; only the cluster differs: kind's node image, the upstream
# Argo images (pulled), the step images built by Docker from steps/Dockerfile as it is
# (npm ci in the build stage) and loaded into the node.
#
# It cannot run on the project's build machines (no Docker engine there), so it is not
# part of CI. Needs: docker, kind (with Kubernetes 1.34 node images), kubectl.
#
#   ARGO_MANIFESTS=<release>/manifests ARGO_CRDS=<dir> ARGO_VERSION=v3.7.18 STEP_TAG=0.1.0 \
#   RESEED_HELM=<helm> RESEED_ARGO=<argo> kind.sh
set -euo pipefail

: "${ARGO_MANIFESTS:?} ${ARGO_CRDS:?} ${ARGO_VERSION:?} ${STEP_TAG:?}"
for tool in docker kind kubectl; do
  command -v "$tool" >/dev/null || { echo "e2e-kind needs $tool on PATH" >&2; exit 1; }
done
cluster=${KIND_CLUSTER:-reseed-e2e}
work=$(mktemp -d)
mkdir -p "$work/policies" "$work/audit"
tail_pid=
cleanup() {
  [[ -n $tail_pid ]] && kill "$tail_pid" 2>/dev/null
  kind delete cluster --name "$cluster" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# The API server's audit log is how the tests count writes, as on the local node.
cat > "$work/policies/audit-policy.yaml" <<'YAML'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: Metadata
YAML
cat > "$work/kind.yaml" <<YAML
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
  - role: control-plane
    kubeadmConfigPatches:
      - |
        kind: ClusterConfiguration
        apiServer:
          extraArgs:
            - { name: audit-log-path, value: /var/log/kubernetes/audit/audit.log }
            - { name: audit-policy-file, value: /etc/kubernetes/policies/audit-policy.yaml }
            - { name: audit-log-format, value: json }
            - { name: audit-log-mode, value: blocking }
          extraVolumes:
            - { name: audit-policies, hostPath: /etc/kubernetes/policies, mountPath: /etc/kubernetes/policies, readOnly: true, pathType: DirectoryOrCreate }
            - { name: audit-logs, hostPath: /var/log/kubernetes/audit, mountPath: /var/log/kubernetes/audit, pathType: DirectoryOrCreate }
    extraMounts:
      - { hostPath: $work/policies, containerPath: /etc/kubernetes/policies, readOnly: true }
YAML
kind create cluster --name "$cluster" --config "$work/kind.yaml" --kubeconfig "$work/kubeconfig" --wait 120s
export KUBECONFIG=$work/kubeconfig
# The log is root's inside the node: follow it into a file the tests can read.
docker exec "$cluster-control-plane" tail -n +1 -F /var/log/kubernetes/audit/audit.log > "$work/audit/audit.log" 2>/dev/null &
tail_pid=$!

for step in validate-inputs wait-deps ensure-state verify; do
  image=ghcr.io/reseed-dev/reseed-$step:$STEP_TAG
  docker build --file steps/Dockerfile --target "$step" --tag "$image" .
  kind load docker-image --name "$cluster" "$image"
done

PULL_POLICY=IfNotPresent \
  CONTROLLER_IMAGE=quay.io/argoproj/workflow-controller:$ARGO_VERSION \
  EXECUTOR_IMAGE=quay.io/argoproj/argoexec:$ARGO_VERSION \
  test/cluster/argo-install.sh

# The fault tests (argo-*faults.test.ts) restart the API server and kill a step's container
# through this script, as cluster.sh does on the local node: here inside the kind node, where
# the kubelet starts the API server's static pod again.
cat > "$work/node-ctl.sh" <<SH
#!/usr/bin/env bash
set -euo pipefail
case \${1:-} in
  restart-apiserver)
    docker exec "$cluster-control-plane" sh -c 'crictl stop \$(crictl ps -q --name kube-apiserver)' >/dev/null
    sleep 5
    until kubectl --kubeconfig "$work/kubeconfig" get --raw /readyz >/dev/null 2>&1; do sleep 1; done ;;
  kill-container)
    for _ in \$(seq 1200); do
      id=\$(docker exec "$cluster-control-plane" crictl ps -q --state running --label "io.kubernetes.pod.namespace=\$2" \\
        --label "io.kubernetes.pod.name=\$3" --label "io.kubernetes.container.name=\$4")
      if [[ -n \$id ]]; then docker exec "$cluster-control-plane" ctr -n k8s.io tasks kill -s SIGKILL "\$id"; echo "\$id"; exit 0; fi
      sleep 0.1
    done
    echo "container \$4 of pod \$2/\$3 did not run" >&2; exit 1 ;;
  *) echo "usage: node-ctl.sh restart-apiserver|kill-container NAMESPACE POD CONTAINER" >&2; exit 2 ;;
esac
SH
chmod +x "$work/node-ctl.sh"

RESEED_E2E_NODE_CTL=$work/node-ctl.sh RESEED_E2E_AUDIT_LOG=$work/audit/audit.log node test/run-vitest.mjs vitest run --config test/e2e/vitest.config.ts
