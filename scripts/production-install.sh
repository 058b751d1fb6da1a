#!/usr/bin/env bash
# Builds sessiond from the source tree in the current directory and installs it for production in
# OUT_DIR: compiled JavaScript and production dependencies only, no sources, no TypeScript, no Vite.
# These are the steps of the Dockerfile's build stage (it runs this script), so CI can run them
# without Docker: packages/server/test/deploy/production-install.test.ts does, from a fresh copy
# of the repository, then starts the installed tree read-only and checks it.
#
#   scripts/production-install.sh OUT_DIR
#   node OUT_DIR/packages/server/bin/sessiond.js serve      # with DATA_DIR pointing elsewhere
#
# SESSIOND_NATIVE_FROM=DIR: do not build native addons; copy better-sqlite3's compiled addon from
# DIR/node_modules (same locked version, same platform) into both trees instead. CI sets it: it has no network for
# prebuilt binaries, and compiling SQLite takes minutes. The Dockerfile does not: there npm builds it.
set -euo pipefail

out="${1:?usage: scripts/production-install.sh OUT_DIR}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
flags=(--no-audit --no-fund --prefer-offline)
if [ -n "${SESSIOND_NATIVE_FROM:-}" ]; then flags+=(--ignore-scripts); fi

# With SESSIOND_NATIVE_FROM: better-sqlite3's compiled addon copied into the tree in $1, after
# checking that it is the same version.
reuse_native() {
  [ -n "${SESSIOND_NATIVE_FROM:-}" ] || return 0
  local addon=node_modules/better-sqlite3 have want
  have="$(node -p "require('$SESSIOND_NATIVE_FROM/$addon/package.json').version")"
  want="$(node -p "require('$1/$addon/package.json').version")"
  if [ "$have" != "$want" ]; then
    echo "SESSIOND_NATIVE_FROM has better-sqlite3 $have, the lockfile wants $want" >&2
    exit 1
  fi
  cp -R "$SESSIOND_NATIVE_FROM/$addon/build" "$1/$addon/"
}

echo "== build (npm ci with development dependencies, then npm run build)"
npm ci "${flags[@]}"
reuse_native "$(pwd)"
npm run build

echo "== install into $out (manifests, lockfile, bin, dist; npm ci --omit=dev)"
for file in package.json package-lock.json packages/server/package.json packages/sdk/package.json packages/web/package.json; do
  mkdir -p "$out/$(dirname "$file")"
  cp "$file" "$out/$file"
done
# The server's bin and dist, and the devices page it serves; the SDK's and the page's sources stay behind.
cp -R packages/server/bin packages/server/dist "$out/packages/server/"
cp -R packages/web/dist "$out/packages/web/"
(cd "$out" && npm ci --omit=dev "${flags[@]}")
reuse_native "$out"

echo "== installed: node $out/packages/server/bin/sessiond.js serve"
