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
# DIR/node_modules (same locked version, same platform) instead. CI sets it: it has no network for
# prebuilt binaries, and compiling SQLite takes minutes. The Dockerfile does not: there npm builds it.
set -euo pipefail

out="${1:?usage: scripts/production-install.sh OUT_DIR}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
flags=(--no-audit --no-fund --prefer-offline)
if [ -n "${SESSIOND_NATIVE_FROM:-}" ]; then flags+=(--ignore-scripts); fi

echo "== build (npm ci with development dependencies, then npm run build)"
npm ci "${flags[@]}"
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

if [ -n "${SESSIOND_NATIVE_FROM:-}" ]; then
  addon=node_modules/better-sqlite3
  version() { node -p "require('$1/package.json').version"; }
  if [ "$(version "$SESSIOND_NATIVE_FROM/$addon")" != "$(version "$out/$addon")" ]; then
    echo "SESSIOND_NATIVE_FROM has better-sqlite3 $(version "$SESSIOND_NATIVE_FROM/$addon"), the lockfile wants $(version "$out/$addon")" >&2
    exit 1
  fi
  cp -R "$SESSIOND_NATIVE_FROM/$addon/build" "$out/$addon/"
fi

echo "== installed: node $out/packages/server/bin/sessiond.js serve"
