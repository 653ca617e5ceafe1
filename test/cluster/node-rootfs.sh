#!/usr/bin/env bash
# Assembles the root filesystem of a distroless-style Node 24 image from the Node binary
# the npm registry ships (the `node` devDependency), for building steps/Dockerfile offline:
#
#   node-rootfs.sh DIR NODE_BINARY
#
# The layout follows gcr.io/distroless/nodejs24-debian12:nonroot, the Dockerfile's default
# runtime base: Node at /nodejs/bin/node, the shared libraries it links, CA certificates,
# a nonroot user 65532, a writable /tmp. No shell, no package manager.
set -euo pipefail

dir=$1 node=$2
rm -rf "$dir"
mkdir -p "$dir/nodejs/bin" "$dir/etc/ssl/certs" "$dir/tmp" "$dir/home/nonroot"
install -m 0755 "$node" "$dir/nodejs/bin/node"
# Every library the dynamic linker resolves for node, and the linker itself, at the same paths.
ldd "$node" | awk '/=> \// { print $3 } /^\t\/.*ld-linux/ { print $1 }' | while read -r lib; do
  mkdir -p "$dir$(dirname "$lib")"
  cp -L "$lib" "$dir$lib"
done
cp -L /etc/ssl/certs/ca-certificates.crt "$dir/etc/ssl/certs/ca-certificates.crt"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > "$dir/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' > "$dir/etc/group"
chmod 1777 "$dir/tmp"
chown 65532:65532 "$dir/home/nonroot"
