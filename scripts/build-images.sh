#!/usr/bin/env bash
# Builds the small images that demos and tests run, locally and without any pull: each is
# `FROM scratch` plus Debian's static busybox (every applet symlinked into /bin) plus a tiny shell
# script from images/<name>/. See images/README.md for what each image does.
#
#   bash scripts/build-images.sh           build what is missing or out of date (fast otherwise)
#   bash scripts/build-images.sh --force   rebuild every image
#
# An image is up to date when its label dev.navarch.build-hash equals the hash of its inputs
# (busybox binary, images/<name>/*, build args), so editing a script rebuilds just that image.
# Env: NAVARCH_BUSYBOX (default /bin/busybox; must be statically linked: apt-get install busybox-static).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
busybox="${NAVARCH_BUSYBOX:-/bin/busybox}"
force=0
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h | --help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-images: unknown argument: $arg (try --help)" >&2; exit 2 ;;
  esac
done

# tag | folder under images/ | build args (space separated KEY=VALUE)
IMAGES=(
  "navarch/pause:1|pause|"
  "navarch/demo:1|demo|VERSION=1"
  "navarch/demo:2|demo|VERSION=2"
  "navarch/exit:1|exit|"
  "navarch/memhog:1|memhog|"
  "navarch/busybox:1|busybox|"
  "navarch/netfilter:1|netfilter|"
)

die() { echo "build-images: $*" >&2; exit 1; }

docker info > /dev/null 2>&1 || die "cannot reach the Docker daemon (is dockerd running? try: dockerd > /tmp/dockerd.log 2>&1 &)"
[ -x "$busybox" ] || die "$busybox not found (apt-get install -y busybox-static)"
# A dynamically linked busybox would fail inside a scratch image with a confusing "no such file".
if ldd "$busybox" > /dev/null 2>&1; then
  die "$busybox is dynamically linked; the images need the static one (apt-get install -y busybox-static)"
fi

# Two runs at once (e.g. parallel test files) would only build the same thing twice; serialize.
if command -v flock > /dev/null 2>&1; then
  exec 9> "${TMPDIR:-/tmp}/navarch-build-images.lock"
  flock 9
fi

work=""
cleanup() { if [ -n "$work" ]; then rm -rf "$work"; fi; }
trap cleanup EXIT

# The shared root filesystem, made once per run and only when something needs building.
make_rootfs() {
  work="$(mktemp -d "${TMPDIR:-/tmp}/navarch-images.XXXXXX")"
  mkdir -p "$work/rootfs/bin" "$work/rootfs/tmp"
  chmod 1777 "$work/rootfs/tmp"
  cp "$busybox" "$work/rootfs/bin/busybox"
  local applet
  for applet in $("$busybox" --list); do
    [ "$applet" = busybox ] || ln -s busybox "$work/rootfs/bin/$applet"
  done
}

# An image whose folder has a host-binaries file also gets those binaries of this machine and the
# shared libraries ldd lists for them, at the same paths (netfilter: nft). Call it only as
# `list="$(host_files dir)" || exit 1`: inside $(...) `die` ends just the subshell, so a caller that
# ignores the status would build the image without the binary (and call it up to date next time).
host_files() {
  local bin out
  [ -f "$1/host-binaries" ] || return 0
  for bin in $(grep -v '^#' "$1/host-binaries"); do
    [ -x "$bin" ] || die "$bin (listed in $1/host-binaries) not found: run scripts/setup.sh (it installs the package that has it)"
    out="$(ldd "$bin" 2>&1)" || true # "not a dynamic executable" for a static binary
    grep -q 'not found' <<< "$out" && die "$bin needs a library that is not installed:"$'\n'"$out"
    echo "$bin"
    grep -oE '/[^ ]+' <<< "$out" || true
  done | LC_ALL=C sort -u
  [ "${PIPESTATUS[0]}" = 0 ] || exit 1
}

# An image with host binaries must run each of them (`<bin> --version`): a broken image is removed
# again, so the next run cannot call it up to date.
verify() {
  local tag="$1" bin out
  shift
  for bin in "$@"; do
    if ! out="$(docker run --rm --network none --entrypoint "$bin" "$tag" --version 2>&1)"; then
      docker rmi -f "$tag" > /dev/null 2>&1 || true
      die "$tag cannot run $bin (removed the image again): $out"
    fi
  done
}

busybox_hash="$(sha256sum "$busybox" | cut -d' ' -f1)"
recipe_hash="$(sed -n '/^make_rootfs()/,/^}/p' "$0" | sha256sum | cut -d' ' -f1)"

for entry in "${IMAGES[@]}"; do
  IFS='|' read -r tag dir args <<< "$entry"
  src="$root/images/$dir"
  [ -f "$src/Dockerfile" ] || die "missing $src/Dockerfile"
  files="$(host_files "$src")" || exit 1
  binaries=()
  [ -f "$src/host-binaries" ] && mapfile -t binaries < <(grep -v '^#' "$src/host-binaries" | grep -v '^$')
  hash="$( {
    echo "$busybox_hash $recipe_hash $args"
    (cd "$src" && find . -type f | LC_ALL=C sort | xargs sha256sum)
    for f in $files; do sha256sum "$(readlink -f "$f")" | sed "s|  .*|  $f|"; done
  } | sha256sum | cut -c1-16)"

  current="$(docker image inspect -f '{{index .Config.Labels "dev.navarch.build-hash"}}' "$tag" 2> /dev/null || true)"
  if [ "$force" = 0 ] && [ "$current" = "$hash" ]; then
    echo "up to date  $tag"
    continue
  fi

  [ -n "$work" ] || make_rootfs
  ctx="$work/ctx-$dir"
  rm -rf "$ctx"
  mkdir -p "$ctx"
  cp -a "$work/rootfs" "$ctx/rootfs"
  cp -a "$src/." "$ctx/"
  for f in $files; do
    mkdir -p "$ctx/rootfs$(dirname "$f")"
    cp -L "$f" "$ctx/rootfs$f"
  done
  build_args=()
  for kv in $args; do build_args+=(--build-arg "$kv"); done
  # --pull=false and FROM scratch: nothing is ever fetched from a registry.
  if ! out="$(docker build --pull=false -q "${build_args[@]}" \
      --label "dev.navarch.build-hash=$hash" -t "$tag" "$ctx" 2>&1)"; then
    echo "$out" >&2
    die "docker build of $tag failed"
  fi
  verify "$tag" "${binaries[@]}"
  id="$(docker image inspect -f '{{.Id}}' "$tag")"
  echo "built       $tag  ${id:0:19}"
done
