#!/usr/bin/env bash
# Proves the npm package a platform repository installs: the packed tarball holds the
# bundled CLI and nothing else, installs into an empty directory with no dependencies, and
# its `reseed` bin lints a good values file (exit 0) and a bad one (exit 10, naming the field).
#
#   release/npm-check.sh PACKAGE.tgz GOOD_VALUES.yaml
set -euo pipefail

tarball=$(readlink -f "$1") good=$(readlink -f "$2")
fail() { echo "npm-check: $*" >&2; exit 1; }

want=$'package/README.md\npackage/dist/reseed.bundle.mjs\npackage/dist/reseed.bundle.mjs.LEGAL.txt\npackage/dist/reseed.mjs\npackage/package.json'
got=$(tar -tzf "$tarball" | sort)
[[ "$got" == "$want" ]] || fail "$tarball holds"$'\n'"$got"$'\n'"expected exactly"$'\n'"$want"

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
# --offline: the package must need nothing from the registry.
npm install --offline --no-audit --no-fund --no-package-lock "$tarball" >/dev/null
[[ -z "$(ls node_modules | grep -vx reseed)" ]] || fail "installing the package brought dependencies: $(ls node_modules | tr '\n' ' ')"

version=$(node -p 'require("./node_modules/reseed/package.json").version')
[[ "$(./node_modules/.bin/reseed version)" == "$version" ]] || fail "reseed version is not the package's $version"

cp "$good" good.yaml
out=$(./node_modules/.bin/reseed lint good.yaml 2>&1) || fail "reseed lint good.yaml failed: $out"

printf 'units:\n  broken:\n    enabled: true\n    pattern: sometimes\n' > bad.yaml
status=0
out=$(./node_modules/.bin/reseed lint bad.yaml 2>&1) || status=$?
[[ $status -eq 10 ]] || fail "reseed lint bad.yaml exited $status, expected 10: $out"
[[ "$out" == *units.broken.pattern* ]] || fail "reseed lint bad.yaml did not name units.broken.pattern: $out"
echo "npm-check: $(basename "$tarball") installs alone into an empty directory; reseed version $version; reseed lint: good.yaml ok, bad.yaml exit 10 naming units.broken.pattern"
