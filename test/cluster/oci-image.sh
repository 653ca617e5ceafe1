#!/usr/bin/env bash
# Packs a directory into a single-layer OCI image archive, with umoci (no registry, no
# Docker engine):
#
#   oci-image.sh OUT.tar TAG ROOTFS [umoci config options...]
#
# e.g. oci-image.sh pause.tar 3.10 rootfs/ --config.entrypoint=/pause --config.user=65535
# The archive's only reference is TAG; `ctr images import --base-name REPO` names it REPO:TAG.
set -euo pipefail

out=$1 tag=$2 rootfs=$3
shift 3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

umoci init --layout "$work/oci"
umoci new --image "$work/oci:$tag"
umoci unpack --image "$work/oci:$tag" "$work/bundle" >/dev/null
cp -a "$rootfs/." "$work/bundle/rootfs/"
umoci repack --history.created=1970-01-01T00:00:00Z --history.created_by="oci-image.sh" --image "$work/oci:$tag" "$work/bundle"
umoci config --no-history --image "$work/oci:$tag" --os linux --architecture amd64 "$@"
umoci gc --layout "$work/oci"
tar -C "$work/oci" --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -cf "$out.tmp" .
mv -f "$out.tmp" "$out"
