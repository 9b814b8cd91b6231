#!/usr/bin/env bash
# Fails when libs/api/src/generated is not exactly what scripts/generate.sh makes from proto/,
# and when buf lint finds a problem. Regenerates in a temporary copy: the work tree is not touched.
set -euo pipefail
cd "$(dirname "$0")/.."
gen=libs/api/src/generated

npx --no-install buf lint

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/scripts" "$tmp/$(dirname "$gen")"
cp -R proto buf.yaml buf.gen.yaml "$tmp/"
[ -f buf.lock ] && cp buf.lock "$tmp/"
cp scripts/generate.sh "$tmp/scripts/"
ln -s "$PWD/node_modules" "$tmp/node_modules"
if ! (bash "$tmp/scripts/generate.sh" >"$tmp/generate.log" 2>&1); then
  cat "$tmp/generate.log" >&2
  echo "check-generated: scripts/generate.sh failed (see above)" >&2
  exit 1
fi

if ! diff -ru "$tmp/$gen" "$gen" >"$tmp/diff" 2>&1; then
  sed -e "s|$tmp/|regenerated:|g" "$tmp/diff" | head -n 60 >&2
  echo "check-generated: generated code is stale: run npm run generate" >&2
  exit 1
fi
