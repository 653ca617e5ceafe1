#!/usr/bin/env bash
# A single-node Kubernetes cluster without a Docker engine, for the e2e tests:
#
#   cluster.sh up     etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
#                     containerd + runc + CNI bridge, kube-proxy and a kubelet
#   cluster.sh down   stops all of it and removes every process, mount, netns, iptables
#                     rule, route, bridge and cgroup it made
#   cluster.sh env    the variables the tests read (KUBECONFIG, RESEED_E2E_AUDIT_LOG)
#
# and, for the fault tests of test/e2e/argo-*faults.test.ts (RESEED_E2E_NODE_CTL names this
# script; test/e2e/kind.sh writes its own for a kind node):
#
#   cluster.sh restart-apiserver       stops kube-apiserver and starts it again, same flags
#   cluster.sh kill-container NAMESPACE POD CONTAINER
#                                      waits until the container runs, then SIGKILLs it
#
# Runs as root. Everything listens on loopback or on the address of a bridge this script
# creates; pods can reach the host (the API server) and each other on that bridge and
# nothing else: packets that would leave the bridge for another interface are dropped, so
# a pod can never send traffic off the machine.
#
# Inputs (environment): CLUSTER_DIR (state, wiped on up and down), CLUSTER_BIN (etcd and
# the kube binaries), CLUSTER_IMAGES (a directory of OCI archives named
# <repository>@<tag>.tar, with '/' written as '+', imported into containerd on up).
set -euo pipefail

CLUSTER_DIR=${CLUSTER_DIR:?set CLUSTER_DIR}
CLUSTER_BIN=${CLUSTER_BIN:?set CLUSTER_BIN}
CLUSTER_IMAGES=${CLUSTER_IMAGES:-}

NODE=reseed
BRIDGE=reseed0
POD_CIDR=10.213.0.0/24
NODE_IP=10.213.0.1
SERVICE_CIDR=10.213.1.0/24
KUBERNETES_SERVICE_IP=10.213.1.1
API_PORT=6443
PAUSE_IMAGE=registry.k8s.io/pause:3.10

PKI=$CLUSTER_DIR/pki
LOGS=$CLUSTER_DIR/logs
PIDS=$CLUSTER_DIR/pids
CONTAINERD_SOCK=$CLUSTER_DIR/containerd/containerd.sock
KUBELET_DIR=$CLUSTER_DIR/kubelet
ADMIN_KUBECONFIG=$CLUSTER_DIR/admin.kubeconfig
AUDIT_LOG=$LOGS/audit.log
READY_TIMEOUT=${CLUSTER_READY_TIMEOUT:-180}

log() { printf 'cluster: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

ctr_k8s() { ctr --address "$CONTAINERD_SOCK" -n k8s.io "$@"; }
kubectl_admin() { kubectl --kubeconfig "$ADMIN_KUBECONFIG" "$@"; }

# ---------------------------------------------------------------- certificates

OPENSSL_CONFIG='[req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = ${ENV::SAN}
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth'

make_pki() {
  mkdir -p "$PKI" && chmod 700 "$PKI"
  printf '%s\n' "$OPENSSL_CONFIG" > "$PKI/openssl.cnf"
  local key_args=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
  SAN=IP:127.0.0.1 openssl req -x509 -config "$PKI/openssl.cnf" -extensions ca "${key_args[@]}" -days 7 \
    -subj /CN=reseed-cluster-ca -keyout "$PKI/ca.key" -out "$PKI/ca.crt" 2>/dev/null
  # signed NAME SUBJECT server|client [SAN]
  signed() {
    SAN=${4:-IP:127.0.0.1} openssl req -new -config "$PKI/openssl.cnf" "${key_args[@]}" -subj "$2" \
      -keyout "$PKI/$1.key" -out "$PKI/$1.csr" 2>/dev/null
    SAN=${4:-IP:127.0.0.1} openssl x509 -req -in "$PKI/$1.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" \
      -set_serial "0x$(openssl rand -hex 16)" -days 7 -extfile "$PKI/openssl.cnf" -extensions "$3" \
      -out "$PKI/$1.crt" 2>/dev/null
  }
  signed apiserver /CN=kube-apiserver server \
    "IP:$NODE_IP,IP:$KUBERNETES_SERVICE_IP,IP:127.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost"
  signed kubelet-serving "/CN=$NODE" server "IP:$NODE_IP,DNS:$NODE"
  # The O of a client certificate is its group.
  signed admin /O=system:masters/CN=reseed-admin client
  signed apiserver-kubelet-client /O=system:masters/CN=kube-apiserver-kubelet-client client
  signed kubelet "/O=system:nodes/CN=system:node:$NODE" client
  signed controller-manager /CN=system:kube-controller-manager client
  signed scheduler /CN=system:kube-scheduler client
  signed kube-proxy /CN=system:kube-proxy client
  openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
  openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
  rm -f "$PKI"/*.csr
}

# kubeconfig NAME: a kubeconfig for the client certificate NAME.
kubeconfig() {
  cat > "$CLUSTER_DIR/$1.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: reseed
    cluster:
      server: https://$NODE_IP:$API_PORT
      certificate-authority-data: $(base64 -w0 "$PKI/ca.crt")
users:
  - name: $1
    user:
      client-certificate-data: $(base64 -w0 "$PKI/$1.crt")
      client-key-data: $(base64 -w0 "$PKI/$1.key")
contexts:
  - name: reseed
    context: { cluster: reseed, user: $1 }
current-context: reseed
EOF
  chmod 600 "$CLUSTER_DIR/$1.kubeconfig"
}

# ---------------------------------------------------------------- processes

# start NAME COMMAND...: runs it in its own session, output appended to logs/NAME.log.
start() {
  local name=$1; shift
  setsid "$@" >>"$LOGS/$name.log" 2>&1 < /dev/null &
  echo $! > "$PIDS/$name"
}

# stop NAME: SIGTERM, then SIGKILL after 10 s, by the pid recorded at start.
stop() {
  local file=$PIDS/$1 pid
  [[ -f $file ]] || return 0
  pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

alive() {
  local name
  for name in "$@"; do
    if ! kill -0 "$(cat "$PIDS/$name")" 2>/dev/null; then
      log "$name exited; last lines of $LOGS/$name.log:"
      tail -n 30 "$LOGS/$name.log" >&2
      return 1
    fi
  done
}

# wait_for WHAT COMMAND...: retries until it succeeds, failing if a component dies.
wait_for() {
  local what=$1; shift
  local deadline=$((SECONDS + READY_TIMEOUT))
  until "$@" >/dev/null 2>&1; do
    alive $(ls "$PIDS")
    ((SECONDS < deadline)) || die "$what was not ready within ${READY_TIMEOUT}s"
    sleep 0.5
  done
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ---------------------------------------------------------------- network

network_up() {
  ip link add "$BRIDGE" type bridge
  ip addr add "$NODE_IP/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  # Nothing from a pod leaves through another interface, and nothing comes in from one:
  # the mangle table runs before kube-proxy's filter rules and is not touched by them.
  iptables -t mangle -A FORWARD -i "$BRIDGE" ! -o "$BRIDGE" -j DROP -m comment --comment reseed-cluster
  iptables -t mangle -A FORWARD -o "$BRIDGE" ! -i "$BRIDGE" -j DROP -m comment --comment reseed-cluster
  # A ClusterIP without a kube-proxy rule goes nowhere instead of to the default route.
  ip route add blackhole "$SERVICE_CIDR"

  mkdir -p "$CLUSTER_DIR/cni/net.d" "$CLUSTER_DIR/cni/ipam"
  cat > "$CLUSTER_DIR/cni/net.d/10-reseed.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "reseed",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$CLUSTER_DIR/cni/ipam",
        "ranges": [[{ "subnet": "$POD_CIDR", "gateway": "$NODE_IP" }]],
        "routes": [{ "dst": "0.0.0.0/0" }]
      }
    }
  ]
}
EOF
}

network_down() {
  while iptables -t mangle -D FORWARD -i "$BRIDGE" ! -o "$BRIDGE" -j DROP -m comment --comment reseed-cluster 2>/dev/null; do :; done
  while iptables -t mangle -D FORWARD -o "$BRIDGE" ! -i "$BRIDGE" -j DROP -m comment --comment reseed-cluster 2>/dev/null; do :; done
  ip route del blackhole "$SERVICE_CIDR" 2>/dev/null || true
  ip link del "$BRIDGE" 2>/dev/null || true
  remove_kube_chains
}

# The chains the kubelet makes for itself (KUBE-FIREWALL, KUBE-KUBELET-CANARY, ...) and any
# kube-proxy left: the jumps to them first, then the chains.
remove_kube_chains() {
  local ipt table rule chain
  for ipt in iptables ip6tables; do
    command -v "$ipt" >/dev/null || continue
    for table in filter nat mangle; do
      while read -r rule; do
        eval "$ipt -t $table ${rule/-A /-D }" 2>/dev/null || true
      done < <("$ipt" -t "$table" -S 2>/dev/null | grep -E '^-A (INPUT|OUTPUT|FORWARD|PREROUTING|POSTROUTING) .*-j KUBE-')
      for chain in $("$ipt" -t "$table" -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^KUBE-/ { print $2 }'); do
        "$ipt" -t "$table" -F "$chain" 2>/dev/null || true
      done
      for chain in $("$ipt" -t "$table" -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^KUBE-/ { print $2 }'); do
        "$ipt" -t "$table" -X "$chain" 2>/dev/null || true
      done
    done
  done
}

# ---------------------------------------------------------------- components

start_control_plane() {
  local etcd_port etcd_peer_port
  etcd_port=$(free_port); etcd_peer_port=$(free_port)
  mkdir -p "$CLUSTER_DIR/etcd" && chmod 700 "$CLUSTER_DIR/etcd"
  start etcd "$CLUSTER_BIN/etcd" --name=reseed --data-dir="$CLUSTER_DIR/etcd" \
    --listen-client-urls="http://127.0.0.1:$etcd_port" --advertise-client-urls="http://127.0.0.1:$etcd_port" \
    --listen-peer-urls="http://127.0.0.1:$etcd_peer_port" --initial-advertise-peer-urls="http://127.0.0.1:$etcd_peer_port" \
    --initial-cluster="reseed=http://127.0.0.1:$etcd_peer_port" --unsafe-no-fsync --log-level=warn

  # One line per request at Metadata level: the tests count writes in it.
  cat > "$CLUSTER_DIR/audit-policy.yaml" <<EOF
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: Metadata
EOF
  start kube-apiserver "$CLUSTER_BIN/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$etcd_port" \
    --bind-address="$NODE_IP" --advertise-address="$NODE_IP" --secure-port="$API_PORT" \
    --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
    --client-ca-file="$PKI/ca.crt" \
    --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" \
    --kubelet-client-key="$PKI/apiserver-kubelet-client.key" \
    --kubelet-preferred-address-types=InternalIP \
    --audit-policy-file="$CLUSTER_DIR/audit-policy.yaml" --audit-log-path="$AUDIT_LOG" \
    --audit-log-format=json --audit-log-mode=blocking \
    --profiling=false
  wait_for "kube-apiserver" kubectl_admin get --raw /readyz

  start kube-controller-manager "$CLUSTER_BIN/kube-controller-manager" \
    --kubeconfig="$CLUSTER_DIR/controller-manager.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port=0 --leader-elect=false \
    --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
    --use-service-account-credentials=true \
    --service-cluster-ip-range="$SERVICE_CIDR" --cluster-cidr="$POD_CIDR" --allocate-node-cidrs=false \
    --profiling=false
  start kube-scheduler "$CLUSTER_BIN/kube-scheduler" \
    --kubeconfig="$CLUSTER_DIR/scheduler.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port=0 --leader-elect=false --profiling=false
}

start_containerd() {
  mkdir -p "$CLUSTER_DIR/containerd/root" "$CLUSTER_DIR/containerd/state" "$CLUSTER_DIR/containerd/hosts/_default"
  # No registry is reachable, and none may be tried: every pull goes to a closed
  # loopback port. The images the cluster runs are imported below.
  cat > "$CLUSTER_DIR/containerd/hosts/_default/hosts.toml" <<EOF
server = "http://127.0.0.1:9"
EOF
  cat > "$CLUSTER_DIR/containerd/config.toml" <<EOF
version = 2
root = "$CLUSTER_DIR/containerd/root"
state = "$CLUSTER_DIR/containerd/state"
disabled_plugins = ["io.containerd.internal.v1.tracing", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = "$CONTAINERD_SOCK"
[ttrpc]
  address = "$CONTAINERD_SOCK.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  enable_selinux = false
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  # The sandbox this runs in withholds CAP_SYS_RESOURCE, so no process may lower its OOM
  # score below containerd's own (pause containers ask for -998).
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$CLUSTER_DIR/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
      Root = "$CLUSTER_DIR/containerd/runc"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$CLUSTER_DIR/containerd/hosts"
EOF
  start containerd containerd --config "$CLUSTER_DIR/containerd/config.toml"
  wait_for containerd ctr_k8s version
}

import_images() {
  local archive name base tag
  [[ -n $CLUSTER_IMAGES ]] || return 0
  for archive in "$CLUSTER_IMAGES"/*.tar; do
    [[ -e $archive ]] || continue
    name=$(basename "$archive" .tar); name=${name//+//}
    base=${name%@*}; tag=${name##*@}
    ctr_k8s images import --base-name "$base" --no-unpack "$archive" >/dev/null
    ctr_k8s images ls -q | grep -x "$base:$tag" >/dev/null || die "importing $archive did not give the image $base:$tag"
    # Unpacked with the CRI's snapshotter, so the kubelet finds them ready to run.
    ctr_k8s images unpack --snapshotter overlayfs "$base:$tag" >/dev/null 2>&1 || true
    ctr_k8s images label "$base:$tag" io.cri-containerd.image=managed >/dev/null
  done
}

start_node() {
  mkdir -p "$KUBELET_DIR"
  : > "$CLUSTER_DIR/resolv.conf"
  cat > "$CLUSTER_DIR/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 0
tlsCertFile: $PKI/kubelet-serving.crt
tlsPrivateKeyFile: $PKI/kubelet-serving.key
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: true }
  x509: { clientCAFile: $PKI/ca.crt }
authorization:
  mode: Webhook
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
failSwapOn: false
# No cluster DNS and no host resolver: pods resolve nothing, and need nothing but the
# API server's ClusterIP.
resolvConf: $CLUSTER_DIR/resolv.conf
clusterDomain: cluster.local
# The imported images are all there is: never collect them.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: 100Mi
  nodefs.available: 1%
  nodefs.inodesFree: 1%
  imagefs.available: 1%
maxPods: 60
serializeImagePulls: false
EOF
  start kubelet "$CLUSTER_BIN/kubelet" \
    --config="$CLUSTER_DIR/kubelet.yaml" --kubeconfig="$CLUSTER_DIR/kubelet.kubeconfig" \
    --root-dir="$KUBELET_DIR" --hostname-override="$NODE" --node-ip="$NODE_IP"

  cat > "$CLUSTER_DIR/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection: { kubeconfig: $CLUSTER_DIR/kube-proxy.kubeconfig }
hostnameOverride: $NODE
bindAddress: 127.0.0.1
clusterCIDR: $POD_CIDR
# Node ports only on the bridge (not on localhost, which would need route_localnet).
nodePortAddresses: ["$POD_CIDR"]
healthzBindAddress: ""
metricsBindAddress: ""
# Leave the machine's conntrack settings alone.
conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s }
EOF
  start kube-proxy "$CLUSTER_BIN/kube-proxy" --config="$CLUSTER_DIR/kube-proxy.yaml"
}

node_ready() {
  [[ $(kubectl_admin get node "$NODE" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}') == True ]]
}

# ---------------------------------------------------------------- up / down

up() {
  [[ $(id -u) == 0 ]] || die "the local cluster runs containers: run it as root"
  local missing=() binary
  for binary in "$CLUSTER_BIN"/{etcd,kube-apiserver,kube-controller-manager,kube-scheduler,kubelet,kube-proxy}; do
    [[ -x $binary ]] || missing+=("$binary")
  done
  for binary in containerd runc ctr iptables ip openssl kubectl; do
    command -v "$binary" >/dev/null || missing+=("$binary")
  done
  [[ -x /usr/lib/cni/bridge && -x /usr/lib/cni/host-local ]] || missing+=(/usr/lib/cni/bridge)
  ((${#missing[@]} == 0)) || die "missing ${missing[*]}: run 'make cluster-deps'"
  if [[ -d $CLUSTER_DIR ]]; then
    log "a previous cluster's state is in $CLUSTER_DIR: taking it down first"
    down
  fi
  if ip link show "$BRIDGE" >/dev/null 2>&1; then die "the interface $BRIDGE exists already: is another cluster up?"; fi

  local started=$SECONDS
  mkdir -p "$LOGS" "$PIDS"
  make_pki
  local name
  for name in admin kubelet controller-manager scheduler kube-proxy; do kubeconfig "$name"; done
  mv "$CLUSTER_DIR/admin.kubeconfig" "$ADMIN_KUBECONFIG" 2>/dev/null || true
  network_up
  start_control_plane
  start_containerd
  import_images
  start_node
  wait_for "node $NODE" node_ready
  wait_for "the default ServiceAccount" kubectl_admin get serviceaccount default -n default
  log "up in $((SECONDS - started))s: export KUBECONFIG=$ADMIN_KUBECONFIG"
}

# Removes the pods through the kubelet, so that it tears their networks and mounts down,
# then everything else, then whatever a crash may have left.
down() {
  [[ -d $CLUSTER_DIR ]] || return 0
  mkdir -p "$PIDS"
  stop kube-controller-manager
  stop kube-scheduler
  if [[ -f $PIDS/kubelet && -f $PIDS/kube-apiserver ]] && kubectl_admin get --raw /readyz >/dev/null 2>&1; then
    kubectl_admin delete pods --all --all-namespaces --grace-period=0 --force --wait=false >/dev/null 2>&1 || true
    local deadline=$((SECONDS + 60))
    while ((SECONDS < deadline)) && [[ -n $(ctr_k8s tasks ls -q 2>/dev/null) ]]; do sleep 1; done
  fi
  stop kubelet
  stop kube-proxy
  if [[ -S $CONTAINERD_SOCK ]]; then
    local id
    for id in $(ctr_k8s tasks ls -q 2>/dev/null); do
      ctr_k8s tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true
    done
    sleep 1
    for id in $(ctr_k8s tasks ls -q 2>/dev/null); do ctr_k8s tasks delete -f "$id" >/dev/null 2>&1 || true; done
    for id in $(ctr_k8s containers ls -q 2>/dev/null); do ctr_k8s containers delete "$id" >/dev/null 2>&1 || true; done
  fi
  # Shims whose tasks could not be deleted: each one's pid is in its task's state directory.
  local pidfile
  for pidfile in "$CLUSTER_DIR"/containerd/state/io.containerd.runtime.v2.task/*/*/shim.pid; do
    [[ -f $pidfile ]] && kill -KILL "$(cat "$pidfile")" 2>/dev/null || true
  done
  stop containerd
  stop kube-apiserver
  stop etcd
  # kube-proxy's own cleanup removes every rule and chain it made.
  if [[ -x $CLUSTER_BIN/kube-proxy ]]; then "$CLUSTER_BIN/kube-proxy" --cleanup >/dev/null 2>&1 || true; fi
  # Network namespaces and mounts of pods (sandbox netns, tokens, rootfs): only those that
  # this cluster made, under its own directory or named in its CNI results.
  local ns
  for ns in $(grep -rhoE '/var/run/netns/cni-[0-9a-f-]+' "$CLUSTER_DIR/containerd/root" 2>/dev/null | sort -u); do
    ip netns delete "$(basename "$ns")" 2>/dev/null || true
  done
  local mount
  while read -r mount; do
    umount -l "$mount" 2>/dev/null || true
  done < <(awk -v dir="$CLUSTER_DIR" 'index($2, dir) == 1 { print $2 }' /proc/self/mounts | sort -r)
  network_down
  remove_cgroups
  rm -rf "$CLUSTER_DIR"
  log "down"
}

# The kubelet's pod cgroups (cgroupfs driver), deepest first; busy ones stay.
remove_cgroups() {
  local controller
  for controller in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/*/kubepods.slice; do
    [[ -d $controller ]] && find "$controller" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
}

# restart NAME: stops it and starts it again with the command line it runs now (the ports
# and paths chosen at up stay the same, so every client finds it where it was).
restart() {
  local file=$PIDS/$1 cmd=()
  [[ -f $file ]] || die "$1 is not running here (no $file): is the cluster up?"
  mapfile -d '' cmd < "/proc/$(cat "$file")/cmdline"
  stop "$1"
  start "$1" "${cmd[@]}"
}

# kill_container NAMESPACE POD CONTAINER: SIGKILL to the container's process as soon as
# containerd runs it (polled every 0.1 s, far inside a step's Node start-up), as a node's OOM
# killer or a crash would end it; prints the container's id. The kubelet reports a running
# container a second or more late, so the pod's status is too slow to aim by.
kill_container() {
  local filter="labels.\"io.kubernetes.pod.namespace\"==\"$1\",labels.\"io.kubernetes.pod.name\"==\"$2\""
  filter+=",labels.\"io.kubernetes.container.name\"==\"$3\""
  local deadline=$((SECONDS + 120)) id
  while ((SECONDS < deadline)); do
    for id in $(ctr_k8s containers ls -q "$filter" 2>/dev/null); do
      if ctr_k8s tasks ls 2>/dev/null | awk -v id="$id" '$1 == id && $3 == "RUNNING" { found = 1 } END { exit !found }'; then
        ctr_k8s tasks kill -s SIGKILL "$id"
        echo "$id"
        return 0
      fi
    done
    sleep 0.1
  done
  die "container $3 of pod $1/$2 did not run within 120 s"
}

env_vars() {
  echo "export KUBECONFIG=$ADMIN_KUBECONFIG"
  echo "export RESEED_E2E_AUDIT_LOG=$AUDIT_LOG"
}

case ${1:-} in
  up) up ;;
  down) down ;;
  env) env_vars ;;
  restart-apiserver)
    restart kube-apiserver
    wait_for "kube-apiserver" kubectl_admin get --raw /readyz
    ;;
  kill-container)
    (($# == 4)) || die "usage: cluster.sh kill-container NAMESPACE POD CONTAINER"
    kill_container "$2" "$3" "$4"
    ;;
  *) die "usage: cluster.sh up|down|env|restart-apiserver|kill-container NAMESPACE POD CONTAINER" ;;
esac
