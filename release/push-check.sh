#!/usr/bin/env bash
# Proves `make push` against a real registry: the CNCF distribution registry (built from its
# Go module, test/servers/registry) on a loopback port. The images `make images BASES=local`
# built are pushed; each digest `make push` prints must be the one the registry serves for
# the version tag, and values-images.yaml must pin the four step images and lint clean.
#
#   release/push-check.sh "BUILDAH COMMAND" REGISTRY_BINARY VERSION TARGET...
set -euo pipefail

read -r -a buildah <<<"$1"
registry_bin=$2 version=$3
shift 3
fail() { echo "push-check: $*" >&2; exit 1; }
dir=$(mktemp -d)
pid= repo=
# Stop the registry, and drop the names the images got for it (the layers stay, shared).
cleanup() {
  if [[ -n "$pid" ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  if [[ -n "$repo" ]]; then for t in "$@"; do "${buildah[@]}" rmi "$repo-$t:$version" >/dev/null 2>&1 || true; done; fi
  rm -rf "$dir"
}
trap 'status=$?; cleanup "$@"; exit $status' EXIT

port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
cat > "$dir/config.yml" <<CONFIG
version: 0.1
log: { level: warn }
storage: { filesystem: { rootdirectory: $dir/data } }
http: { addr: 127.0.0.1:$port }
CONFIG
OTEL_TRACES_EXPORTER=none "$registry_bin" serve "$dir/config.yml" >"$dir/log" 2>&1 &
pid=$!
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.2; done
curl -sf "http://127.0.0.1:$port/v2/" >/dev/null || fail "the registry did not answer on 127.0.0.1:$port: $(cat "$dir/log")"

repo="127.0.0.1:$port/reseed/reseed"
"${MAKE:-make}" --no-print-directory push REGISTRY="127.0.0.1:$port/reseed" BASES=local BUILDER=buildah PUSH_FLAGS=--tls-verify=false >"$dir/push.out" 2>"$dir/push.err" \
  || fail "make push failed: $(tail -20 "$dir/push.err")"

pushed=dist/release/images.txt
[[ $(wc -l <"$pushed") -eq 5 ]] || fail "$pushed has $(wc -l <"$pushed") lines, expected 5"
while read -r ref; do
  name=${ref%@*} digest=${ref#*@}
  path=${name#127.0.0.1:$port/}
  served=$(curl -sfI -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://127.0.0.1:$port/v2/$path/manifests/$version" \
    | tr -d '\r' | awk 'tolower($1) == "docker-content-digest:" { print $2 }')
  [[ "$served" == "$digest" ]] || fail "$ref: the registry serves $name:$version as '$served'"
  grep -qxF "$ref" "$dir/push.out" || fail "make push did not print $ref"
done <"$pushed"

values=dist/release/values-images.yaml
[[ $(grep -c '^    [a-z-]*: "sha256:[0-9a-f]\{64\}"$' "$values") -eq 4 ]] || fail "$values does not pin four step images: $(cat "$values")"
grep -qx "  registry: 127.0.0.1:$port/reseed" "$values" || fail "$values does not name the registry 127.0.0.1:$port/reseed"
node dist/reseed.mjs lint "$values" >/dev/null || fail "$values does not lint: $(node dist/reseed.mjs lint "$values")"
echo "push-check: make push to a real registry (distribution, loopback): 5 digests, each the one the registry serves for :$version; values-images.yaml pins the 4 steps and lints"
