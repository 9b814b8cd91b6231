#!/usr/bin/env bash
# Builds the images of Navarch itself for the e2e cluster fixture (e2e/src/testcontainers/), locally
# and with no pull: every image is `FROM scratch` plus binaries from this machine and the shared
# libraries `ldd` says they need, at the same absolute paths.
#
#   navarch/nats-server:dev    the nats-server binary; ENTRYPOINT nats-server -js -sd /data -p 4222 -m 8222
#   navarch/control-plane:dev  Node 24 + the built repo; ENTRYPOINT node /app/services/all-in-one/dist/main.js
#   navarch/node-agent:dev     the same tree; ENTRYPOINT node /app/services/node-agent/dist/main.js
#
#   bash scripts/build-navarch-images.sh           build what is missing or out of date (fast otherwise)
#   bash scripts/build-navarch-images.sh --force   rebuild every image
#
# Run it after `npm run build`: the app is the repo's compiled output (package.json + dist/ + bin/
# of every workspace the two services need) and their production node_modules (`npm ls --omit=dev`).
# Each image is tagged :dev and :<hash of its inputs> (binaries, libraries, app tree, this script,
# images/navarch/*), and carries the hash in its label dev.navarch.build-hash; an image whose hash
# tag exists is up to date. Older hash tags of the same image are removed after a build.
# Env: NAVARCH_NATS_SERVER (nats-server binary; default: found as libs/nats-embedded does),
#      NAVARCH_IMAGE_STRIP=0 (keep debug symbols; default: strip copies of the binaries).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
script="$root/scripts/build-navarch-images.sh"
recipes="$root/images/navarch"
force=0
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h | --help) sed -n '2,19p' "$script" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-navarch-images: unknown argument: $arg (try --help)" >&2; exit 2 ;;
  esac
done

die() { echo "build-navarch-images: $*" >&2; exit 1; }
note() { echo "build-navarch-images: $*" >&2; }

docker info > /dev/null 2>&1 || die "cannot reach the Docker daemon (is dockerd running? try: dockerd > /tmp/dockerd.log 2>&1 &)"
[ -f "$root/services/all-in-one/dist/main.js" ] || die "services/all-in-one/dist/main.js is missing: run \`npm run build\` first"
for f in nats-server control-plane node-agent; do
  [ -f "$recipes/$f.Dockerfile" ] || die "missing $recipes/$f.Dockerfile"
done

# Two runs at once (parallel test files) would only build the same thing twice; serialize.
if command -v flock > /dev/null 2>&1; then
  exec 9> "${TMPDIR:-/tmp}/navarch-build-navarch-images.lock"
  flock 9
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/navarch-navarch-images.XXXXXX")"
trap 'rm -rf "$work"' EXIT

sha() { sha256sum "$@" | cut -d' ' -f1; }

# ---------------------------------------------------------------------------------------------
# Binaries

version_of() { "$1" --version 2> /dev/null | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -1 || true; }
at_least() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -1)" = "$2" ]; }

# The same search as libs/nats-embedded/src/find.ts: the env override, the pinned tool, PATH,
# ~/go/bin; a binary older than 2.10 is passed over while a newer one exists.
find_nats_server() {
  if [ -n "${NAVARCH_NATS_SERVER:-}" ]; then
    [ -x "$NAVARCH_NATS_SERVER" ] && [ -f "$NAVARCH_NATS_SERVER" ] ||
      die "NAVARCH_NATS_SERVER=$NAVARCH_NATS_SERVER is not an executable file"
    echo "$NAVARCH_NATS_SERVER"
    return
  fi
  local candidates=("$HOME/.navarch/tools/bin/nats-server") dir first="" c v
  IFS=':' read -r -a dirs <<< "${PATH:-}"
  for dir in "${dirs[@]}"; do [ -n "$dir" ] && candidates+=("$dir/nats-server"); done
  candidates+=("$HOME/go/bin/nats-server")
  for c in "${candidates[@]}"; do
    [ -f "$c" ] && [ -x "$c" ] || continue
    [ -n "$first" ] || first="$c"
    v="$(version_of "$c")"
    if [ -n "$v" ] && at_least "$v" 2.10.0; then echo "$c"; return; fi
  done
  [ -n "$first" ] || die "nats-server not found (looked at \$NAVARCH_NATS_SERVER, ~/.navarch/tools/bin, PATH, ~/go/bin); run scripts/setup.sh"
  echo "$first"
}

# The absolute paths of the shared libraries (and the loader) a binary needs; none when static.
libs_of() {
  local out
  out="$(ldd "$1" 2>&1)" || return 0 # "not a dynamic executable"
  grep -q 'statically linked' <<< "$out" && return 0
  grep -q 'not found' <<< "$out" && die "$1 needs a library that is not installed:"$'\n'"$out"
  awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<< "$out"
}

# Copies libraries into a root filesystem at their own absolute paths (symlinks dereferenced).
add_libs() {
  local rootfs="$1" lib
  shift
  for lib in "$@"; do
    [ -e "$rootfs$lib" ] && continue
    mkdir -p "$rootfs$(dirname "$lib")"
    cp -L "$lib" "$rootfs$lib"
  done
}

# A copy of a binary, stripped unless NAVARCH_IMAGE_STRIP=0 (node: 127 -> 109 MB).
add_binary() {
  local src="$1" dest="$2"
  mkdir -p "$(dirname "$dest")"
  cp -L "$src" "$dest"
  chmod 755 "$dest"
  if [ "${NAVARCH_IMAGE_STRIP:-1}" != 0 ] && command -v strip > /dev/null 2>&1; then
    strip --strip-unneeded "$dest" 2> /dev/null || cp -L "$src" "$dest"
  fi
}

# /etc/passwd, /etc/group, /tmp, /root, /data: enough for Node and nats-server to run as root.
add_skeleton() {
  local rootfs="$1"
  mkdir -p "$rootfs/etc" "$rootfs/tmp" "$rootfs/root" "$rootfs/data"
  chmod 1777 "$rootfs/tmp"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' > "$rootfs/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$rootfs/etc/group"
}

# $(...) and <(...) run in subshells where `die` ends only the subshell: every one of them whose
# failure matters is an assignment checked with `|| exit 1`, then split into an array.
nats_server="$(find_nats_server)" || exit 1
nats_version="$(version_of "$nats_server")"
nats_libs_text="$(libs_of "$nats_server")" || exit 1
mapfile -t nats_libs <<< "$nats_libs_text"
[ -n "$nats_libs_text" ] || nats_libs=()

node_bin="$(readlink -f "$root/node_modules/.bin/node" 2> /dev/null || true)"
[ -x "$node_bin" ] || node_bin="$root/node_modules/node/bin/node"
[ -x "$node_bin" ] || die "node_modules/node/bin/node is missing: run \`npm install\` (the node@24 devDependency)"
node_version="$("$node_bin" --version)"
[ "${node_version%%.*}" = v24 ] || note "warning: $node_bin is Node $node_version, not 24"

# ---------------------------------------------------------------------------------------------
# The app tree: /app with the same layout as the repo, so node_modules/@navarch/* symlinks resolve.

workspaces=(-w services/all-in-one)
node_agent=1
if [ ! -f "$root/services/node-agent/dist/main.js" ]; then
  node_agent=0
  note "services/node-agent/dist/main.js is not built (yet): navarch/node-agent is skipped"
elif [ -f "$root/services/node-agent/package.json" ]; then
  workspaces+=(-w services/node-agent)
fi

# Production dependencies of those workspaces, one path a line (npm exits non-zero on problems
# such as an extraneous package; the list is still right, so only an empty list is an error).
mapfile -t packages < <(cd "$root" && npm ls --omit=dev --all --parseable "${workspaces[@]}" 2> /dev/null |
  sed "s|^$root/\{0,1\}||" | grep -v '^$' | LC_ALL=C sort -u || true)
printf '%s\n' "${packages[@]}" | grep -qx 'node_modules/@navarch/all-in-one' ||
  die "\`npm ls --omit=dev\` did not list @navarch/all-in-one: run \`npm install\`"

paths=(package.json)
for p in "${packages[@]}"; do
  real="$(realpath --relative-to="$root" "$root/$p")"
  case "$real" in
    node_modules/* | */node_modules/*) paths+=("$p") ;; # an installed package, copied whole
    *)
      # A workspace: its link in node_modules and its built output, not its sources.
      [ "$p" = "$real" ] || paths+=("$p")
      [ -d "$root/$real/dist" ] || die "$real/dist is missing: run \`npm run build\` first"
      for f in package.json dist bin; do [ -e "$root/$real/$f" ] && paths+=("$real/$f"); done
      ;;
  esac
done

mkdir -p "$work/app"
# Types, source maps, build info and compiled tests are not needed at run time.
tar -C "$root" -cf - \
  --exclude='*.d.ts' --exclude='*.d.mts' --exclude='*.d.cts' --exclude='*.map' \
  --exclude='*.tsbuildinfo' --exclude='.tsbuildinfo' --exclude='*.test.js' \
  --exclude='node_modules/.bin' --exclude='node_modules/.cache' \
  "${paths[@]}" | tar -C "$work/app" -xf -

# Native addons (e.g. ssh2's sshcrypto.node) need their libraries too.
mapfile -t addons < <(find "$work/app" -name '*.node' -type f)
node_libs_text="$(
  set -o pipefail
  {
    libs_of "$node_bin" || exit 1
    for a in "${addons[@]}"; do libs_of "$a" || exit 1; done
  } | LC_ALL=C sort -u
)" || exit 1
mapfile -t node_libs <<< "$node_libs_text"
[ -n "$node_libs_text" ] || node_libs=()

# ---------------------------------------------------------------------------------------------
# Hashes of the inputs

recipe_hash="$(cat "$script" "$recipes"/*.Dockerfile | sha)"
libs_hash() { local l; for l in "$@"; do echo "$l $(sha "$l")"; done | sha; }
app_hash="$( {
  (cd "$work/app" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
  (cd "$work/app" && find . -type l -printf '%p -> %l\n' | LC_ALL=C sort)
} | sha)"
nats_hash="$(echo "$recipe_hash $(sha "$nats_server") $(libs_hash "${nats_libs[@]}")" | sha | cut -c1-16)"
node_hash="$(echo "$recipe_hash $(sha "$node_bin") $(libs_hash "${node_libs[@]}") $app_hash" | sha | cut -c1-16)"

# ---------------------------------------------------------------------------------------------
# Building

size_of() {
  docker image inspect -f '{{.Size}}' "$1" | awk '{ printf "%.1f MB", $1 / 1000000 }'
}

# Removes the image's other hash tags (older builds); an image still used by a container stays.
prune_old() {
  local repo="$1" keep="$2" tag
  for tag in $(docker images "$repo" --format '{{.Tag}}'); do
    [ "$tag" = dev ] || [ "$tag" = "$keep" ] || docker rmi "$repo:$tag" > /dev/null 2>&1 || true
  done
}

# build <repo> <hash> <context> <dockerfile> <what> <binary in the image, run with --version>
build() {
  local repo="$1" hash="$2" ctx="$3" dockerfile="$4" what="$5" bin="$6" out
  if [ "$force" = 0 ] && docker image inspect "$repo:$hash" > /dev/null 2>&1; then
    docker tag "$repo:$hash" "$repo:dev"
    echo "up to date  $repo:dev  ($repo:$hash, $(size_of "$repo:dev"), $what)"
    return
  fi
  # FROM scratch and --pull=false: nothing is ever fetched from a registry.
  if ! out="$(DOCKER_BUILDKIT=0 docker build --pull=false -q -f "$dockerfile" \
      --label "dev.navarch.build-hash=$hash" -t "$repo:$hash" -t "$repo:dev" "$ctx" 2>&1)"; then
    echo "$out" >&2
    die "docker build of $repo failed"
  fi
  # A built image must start its binary; a broken one is removed again so that the next run
  # cannot call it up to date.
  if ! out="$(docker run --rm --network none --entrypoint "$bin" "$repo:$hash" --version 2>&1)"; then
    docker rmi -f "$repo:$hash" "$repo:dev" > /dev/null 2>&1 || true
    die "$repo:$hash cannot run $bin (removed the image again): $out"
  fi
  prune_old "$repo" "$hash"
  echo "built       $repo:dev  ($repo:$hash, $(size_of "$repo:dev"), $what)"
}

need_build() { [ "$force" = 1 ] || ! docker image inspect "$1:$2" > /dev/null 2>&1; }

# nats-server
if need_build navarch/nats-server "$nats_hash"; then
  ctx="$work/nats"
  add_skeleton "$ctx/rootfs"
  add_binary "$nats_server" "$ctx/rootfs/usr/local/bin/nats-server"
  add_libs "$ctx/rootfs" "${nats_libs[@]}"
  cp "$recipes/nats-server.Dockerfile" "$ctx/"
fi
build navarch/nats-server "$nats_hash" "$work/nats" "$work/nats/nats-server.Dockerfile" "nats-server $nats_version from $nats_server" /usr/local/bin/nats-server

# control plane and node agent: one context, the same first layers (Node and its libraries, then /app)
if need_build navarch/control-plane "$node_hash" || { [ "$node_agent" = 1 ] && need_build navarch/node-agent "$node_hash"; }; then
  ctx="$work/node"
  add_skeleton "$ctx/base"
  add_binary "$node_bin" "$ctx/base/usr/local/bin/node"
  add_libs "$ctx/base" "${node_libs[@]}"
  mv "$work/app" "$ctx/app"
  cp "$recipes/control-plane.Dockerfile" "$recipes/node-agent.Dockerfile" "$ctx/"
fi
build navarch/control-plane "$node_hash" "$work/node" "$work/node/control-plane.Dockerfile" "node $node_version + all-in-one" /usr/local/bin/node
if [ "$node_agent" = 1 ]; then
  build navarch/node-agent "$node_hash" "$work/node" "$work/node/node-agent.Dockerfile" "node $node_version + node-agent" /usr/local/bin/node
fi
