#!/usr/bin/env bash
# Proves `make images BASES=local` made the five images under the names the chart and
# `make push` use, and that the cli image runs `reseed lint` (a good values file exits 0,
# a bad one exits 10), in a buildah container as the image's own non-root user.
#
#   release/images-check.sh "BUILDAH COMMAND" REGISTRY VERSION TARGET...
set -euo pipefail

read -r -a buildah <<<"$1"
registry=$2 version=$3
shift 3
fail() { echo "images-check: $*" >&2; exit 1; }

for t in "$@"; do
  ref="$registry/reseed-$t:$version"
  id=$("${buildah[@]}" inspect --type image --format '{{.FromImageID}}' "$ref" 2>&1) || fail "no image $ref: $id"
  user=$("${buildah[@]}" inspect --type image --format '{{.OCIv1.Config.User}}' "$ref")
  [[ "$user" == 65532:65532 ]] || fail "$ref runs as '$user', expected 65532:65532"
  echo "images-check: $ref ${id:0:12} user $user"
done

ctr=$("${buildah[@]}" from --pull-never "$registry/reseed-cli:$version")
trap '"${buildah[@]}" rm "$ctr" >/dev/null' EXIT
dir=$(mktemp -d)
trap '"${buildah[@]}" rm "$ctr" >/dev/null; rm -rf "$dir"' EXIT
cp charts/reseed/examples/values-prod.yaml "$dir/good.yaml"
printf 'units:\n  broken:\n    enabled: true\n    pattern: sometimes\n' > "$dir/bad.yaml"
chmod -R a+rX "$dir"
run() { "${buildah[@]}" run --isolation chroot --user 65532:65532 --volume "$dir:/work:ro" "$ctr" -- /nodejs/bin/node /app/reseed.mjs lint "/work/$1"; }
got=$("${buildah[@]}" run --isolation chroot --user 65532:65532 "$ctr" -- /nodejs/bin/node /app/reseed.mjs version)
[[ "$got" == "$version" ]] || fail "reseed version in the cli image is '$got', expected $version"
out=$(run good.yaml 2>&1) || fail "reseed lint in the cli image failed on a good file: $out"
status=0
out=$(run bad.yaml 2>&1) || status=$?
[[ $status -eq 10 && "$out" == *units.broken.pattern* ]] || fail "reseed lint in the cli image on a bad file: exit $status, expected 10 naming units.broken.pattern: $out"
echo "images-check: the cli image is reseed $version and lints: good file ok, bad file exit 10 naming units.broken.pattern"
