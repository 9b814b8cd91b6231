#!/usr/bin/env bash
# Makes this machine ready to run (npm start) and, with --test or CI=true, to test (npm test) Navarch.
# Idempotent: installs only what is missing, one line per thing installed; a second run takes well
# under 2 s. Target: Debian 12 as root, Go at /usr/local/go/bin, npm with any Node >= 20.
#
#   bash scripts/setup.sh          npm packages (Node 24), nats-server, the nats CLI, the host tools of
#                                  HOST_TOOLS marked "start", Docker running, the local images built,
#                                  and navctl + nats on PATH
#   bash scripts/setup.sh --test   also the tools marked "test" and python grpcio/grpcio-tools/pytest
#
# Env: NAVARCH_TOOLS (default ~/.navarch/tools/bin) is where nats-server and nats are built to;
#      NAVARCH_BIN where the navctl and nats commands go (default /usr/local/bin as root, else ~/.local/bin);
#      NAVARCH_NODE_AGENT=false (as for npm start): no node on this machine, so no Docker, nft, images.
set -euo pipefail
cd "$(dirname "$0")/.."

NATS_SERVER_VERSION=v2.15.2 # built with `go install` when no nats-server >= 2.10 is present
NATS_SERVER_MIN=2.10.0      # multi-filter watch; older servers silently ignore it
NATSCLI_VERSION=v0.3.0      # the proxy refuses natscli's version list, so `go install @latest` cannot work
NFT_MIN=0.9.4               # the service proxy's `dnat ip to ... map { : ip . port }` (NAT to a concatenation)
GRPCIO_VERSION=1.85.1       # grpcio and grpcio-tools (python clients generated from proto/)
PYTEST_VERSION=9.2.0

# Every program Navarch, its scripts, its tests and its benchmarks run on this machine, except
# those of Debian's Essential packages (bash, coreutils, util-linux's flock/nsenter/setsid,
# findutils, tar, sed, grep, libc-bin's ldd/getent), which every Debian has. Node 24, nats-server,
# the nats CLI and python's grpcio have sections of their own below.
#   program (a name on PATH or /usr/sbin, or an absolute path) | Debian package | start or test | needed for
HOST_TOOLS=(
  "dockerd|docker.io|start|the local node's container runtime (setup starts it when it is stopped)"
  "docker|docker.io|start|scripts/build-images.sh, npm run killall, tests"
  "nft|nftables|start|the service proxy (copied into navarch/netfilter:1 by scripts/build-images.sh), npm run killall"
  "/bin/busybox|busybox-static|start|the FROM scratch images of scripts/build-images.sh (must be the static build)"
  "curl|curl|start|the README tour (NodePort, Ingress)"
  "pgrep|procps|test|tests that look for leftover processes"
  "wrk|wrk|test|npm run bench -- services"
  "strip|binutils|test|scripts/build-navarch-images.sh (smaller e2e images)"
  "/usr/bin/docker-registry|docker-registry|test|image pull tests (a local registry on 127.0.0.1)"
  "python3|python3|test|the python gRPC client test"
)

: "${HOME:=$(getent passwd "$(id -u)" | cut -d: -f6)}"
TOOLS=${NAVARCH_TOOLS:-$HOME/.navarch/tools/bin}
LOG=${TMPDIR:-/tmp}/navarch-setup.log

for_tests=false # the test tools too
for_start=true  # also point the navctl command at this checkout (not for --test: CI clones are temporary)
for arg in "$@"; do
  case $arg in
    --test) for_tests=true; for_start=false ;;
    -h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup: unknown argument: $arg (usage: setup.sh [--test])" >&2; exit 2 ;;
  esac
done
[ "${CI:-}" = true ] && for_tests=true
with_node=true
case "${NAVARCH_NODE_AGENT:-true}" in false | 0 | no) $for_tests || with_node=false ;; esac

say() { echo "setup: $*"; }
warn() { echo "setup: WARNING: $*" >&2; }
die() { echo "setup: ERROR: $*" >&2; exit 1; }
# Runs a noisy command with its output in $LOG; shows the end of it when the command fails.
quiet() {
  if ! "$@" >>"$LOG" 2>&1; then
    echo "setup: '$*' failed; last lines of $LOG:" >&2
    tail -n 25 "$LOG" >&2
    return 1
  fi
}
: >"$LOG"

# a >= b for dotted versions
version_ge() { [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n 1)" = "$2" ]; }
version_of() { "$@" 2>/dev/null | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n 1; }

SUDO=()
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO=(sudo); fi
apt_updated=false
apt_install() { # at most one `apt-get update` per run, and only when something must be installed
  command -v apt-get >/dev/null || { warn "no apt-get: install $* by hand"; return 1; }
  if ! $apt_updated; then
    # Another apt (e.g. unattended-upgrades on a fresh machine) may hold the lock for a while.
    quiet "${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=300 update -q || return 1
    apt_updated=true
  fi
  quiet "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "$@"
}
deb_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }

# The path of a HOST_TOOLS program, or nothing. /usr/sbin and /sbin count even when not on PATH.
tool_path() {
  case $1 in
    /bin/busybox) # must be static: it runs alone in FROM scratch images
      local b=${NAVARCH_BUSYBOX:-/bin/busybox}
      [ -x "$b" ] && ! ldd "$b" >/dev/null 2>&1 && echo "$b"
      return 0 ;;
    /*) [ -x "$1" ] && echo "$1"; return 0 ;;
  esac
  command -v "$1" 2>/dev/null && return 0
  local d
  for d in /usr/sbin /sbin; do [ -x "$d/$1" ] && { echo "$d/$1"; return 0; }; done
  return 0
}

GO=$(command -v go || true)
[ -z "$GO" ] && [ -x /usr/local/go/bin/go ] && GO=/usr/local/go/bin/go
go_env=(env GOTOOLCHAIN=local GOFLAGS=-buildvcs=false)

# --- npm packages, and Node 24 with them -------------------------------------------------------
command -v npm >/dev/null || die "npm not found: install Node.js (>= 20) with npm first"
repo_node=node_modules/.bin/node
node24() { [ -x "$repo_node" ] && "$repo_node" --version 2>/dev/null | grep -q '^v24\.'; }
if [ ! -d node_modules ] || [ ! -f node_modules/.package-lock.json ] \
  || [ package-lock.json -nt node_modules/.package-lock.json ] || ! node24; then
  say "installing npm packages (npm ci)"
  if ! npm ci --no-audit --no-fund >>"$LOG" 2>&1; then
    # npm 11's ci refuses (EUSAGE) a lock without every platform's optional packages
    # (@nx/nx-darwin-*, @bufbuild/buf-win32-*, ...). install --no-save takes the same locked
    # versions and leaves package-lock.json as it is; npm's complaint stays in the log.
    if ! grep -q 'EUSAGE' "$LOG"; then
      grep -m 5 -E '^npm error .+' "$LOG" | grep -vx 'npm error' >&2 || true
      warn "npm ci failed (see $LOG); trying npm install --no-save with the same lock file"
    fi
    quiet npm install --no-save --no-audit --no-fund || die "npm install failed"
  fi
fi
node24 || die "$repo_node is not Node 24 after npm ci (did npm block the install script of the 'node' package? allow it, e.g. npm ci --foreground-scripts, or check 'npm config get ignore-scripts')"

# --- host tools --------------------------------------------------------------------------------
missing_pkgs=()
missing_what=()
for entry in "${HOST_TOOLS[@]}"; do
  IFS='|' read -r tool pkg when why <<<"$entry"
  [ "$when" = test ] && ! $for_tests && continue
  [ "$when" = start ] && ! $with_node && ! $for_tests && continue
  [ -n "$(tool_path "$tool")" ] && continue
  [[ " ${missing_pkgs[*]} " == *" $pkg "* ]] || missing_pkgs+=("$pkg")
  missing_what+=("$tool ($pkg: $why)")
done
if [ ${#missing_pkgs[@]} -gt 0 ]; then
  say "installing ${missing_pkgs[*]} (apt-get)"
  apt_install "${missing_pkgs[@]}" || true
  for w in "${missing_what[@]}"; do
    [ -n "$(tool_path "${w%% *}")" ] || die "$w is missing and could not be installed (see $LOG)"
  done
fi
if $with_node || $for_tests; then
  nft_version=$(version_of "$(tool_path nft)" --version)
  version_ge "${nft_version:-0}" "$NFT_MIN" || die "nft $nft_version is older than $NFT_MIN (the service proxy's NAT maps need it)"
fi

# --- nats-server >= 2.10 -----------------------------------------------------------------------
nats_server_ok() { [ -n "$1" ] && [ -x "$1" ] && v=$(version_of "$1" --version) && [ -n "$v" ] && version_ge "$v" "$NATS_SERVER_MIN"; }
path_server=$(command -v nats-server || true)
nats_server=""
for c in "${NAVARCH_NATS_SERVER:-}" "$path_server" "$TOOLS/nats-server"; do
  if nats_server_ok "$c"; then nats_server=$c; break; fi
done
if [ -z "$nats_server" ] && [ -n "$GO" ]; then
  say "building nats-server $NATS_SERVER_VERSION into $TOOLS (go install, about a minute)"
  mkdir -p "$TOOLS"
  if quiet "${go_env[@]}" GOBIN="$TOOLS" "$GO" install "github.com/nats-io/nats-server/v2@$NATS_SERVER_VERSION" \
    && nats_server_ok "$TOOLS/nats-server"; then
    nats_server=$TOOLS/nats-server
  else
    warn "could not build nats-server $NATS_SERVER_VERSION"
  fi
fi
if [ -z "$nats_server" ]; then
  [ -n "$GO" ] || warn "Go not found (expected at /usr/local/go/bin), cannot build nats-server $NATS_SERVER_VERSION"
  if [ -z "$path_server" ] && [ ! -x /usr/sbin/nats-server ]; then
    say "installing Debian's nats-server (apt-get)"
    apt_install nats-server || die "no nats-server: could neither build $NATS_SERVER_VERSION nor apt-get install it"
  fi
  nats_server=$(command -v nats-server || echo /usr/sbin/nats-server)
  warn "using $nats_server $(version_of "$nats_server" --version): older than $NATS_SERVER_MIN; per-key TTL, atomic batch, multi-filter watch and safe clustered CAS are missing"
fi
if [ -n "$path_server" ] && [ "$nats_server" != "$path_server" ] && [ "$nats_server" != "${NAVARCH_NATS_SERVER:-}" ]; then
  warn "the nats-server first on PATH ($path_server, $(version_of "$path_server" --version)) is too old; use export NAVARCH_NATS_SERVER=$nats_server"
fi
summary="node $("$repo_node" --version), nats-server $(version_of "$nats_server" --version) ($nats_server)"

# --- the nats CLI: the docs' way to look into the store, and e2e/src/nats-cli.test.ts ----------
nats_cli=""
for c in "$TOOLS/nats" "$(command -v nats || true)"; do
  if [ -n "$c" ] && [ -x "$c" ] && "$c" --version >/dev/null 2>&1; then nats_cli=$c; break; fi
done
if [ -z "$nats_cli" ]; then
  [ -n "$GO" ] || die "the nats CLI is missing and Go (expected at /usr/local/go/bin) is not there to build it"
  # `go install natscli/nats@v...` fails here: it checks deprecation via the module's version list,
  # which the proxy answers 403. Build it in a throwaway module instead; natscli has no replace
  # directives, so the dependency versions are the same as go install would pick.
  say "building nats CLI $NATSCLI_VERSION into $TOOLS (go build, about a minute)"
  mkdir -p "$TOOLS"
  gomod=$(mktemp -d)
  if (cd "$gomod" && quiet "${go_env[@]}" "$GO" mod init navarch-tools \
    && quiet "${go_env[@]}" "$GO" get "github.com/nats-io/natscli/nats@$NATSCLI_VERSION" \
    && quiet "${go_env[@]}" "$GO" build -o "$TOOLS/nats" github.com/nats-io/natscli/nats); then
    nats_cli=$TOOLS/nats
  fi
  rm -rf "$gomod"
  [ -n "$nats_cli" ] || die "could not build the nats CLI $NATSCLI_VERSION (see $LOG)"
fi
summary+=", nats $("$nats_cli" --version 2>/dev/null)"

# --- navctl and nats on PATH, for any terminal ---------------------------------------------------
# navctl is this checkout's cli with its Node 24, never `npx navctl` (outside the repo npx would ask
# the registry for a package of that name). The wrapper also carries the NAVARCH_HOME that npm start
# ran with, so navctl in another terminal finds that cluster's config; the last npm start wins.
if [ "$(id -u)" = 0 ] && [ -w /usr/local/bin ]; then BIN=${NAVARCH_BIN:-/usr/local/bin}; else BIN=${NAVARCH_BIN:-$HOME/.local/bin}; fi
mkdir -p "$BIN"
# install_file <dest> <content>: writes only when different, one line when it does.
install_file() {
  if [ -f "$1" ] && [ ! -L "$1" ] && [ "$(cat "$1")" = "$2" ]; then return 0; fi
  local tmp
  tmp=$(mktemp "$1.XXXXXX")
  printf '%s\n' "$2" >"$tmp"
  chmod 755 "$tmp"
  mv -f "$tmp" "$1"
  say "installed $1"
}
q() { printf '%q' "$1"; }
repo=$(pwd -P)
if $for_start; then
  home_line="# npm start ran with the default NAVARCH_HOME (~/.navarch)"
  [ -n "${NAVARCH_HOME:-}" ] && home_line=": \"\${NAVARCH_HOME:=$(q "$(realpath -m "$NAVARCH_HOME")")}\"; export NAVARCH_HOME # npm start's"
  install_file "$BIN/navctl" "#!/bin/sh
# navctl of the Navarch checkout $repo, written by its scripts/setup.sh (npm start).
$home_line
[ -x $(q "$repo/node_modules/node/bin/node") ] || { echo \"navctl: $(q "$repo") has no node_modules/node any more: run npm start (or bash scripts/setup.sh) in a Navarch checkout\" >&2; exit 127; }
exec $(q "$repo/node_modules/node/bin/node") $(q "$repo/cli/bin/navctl.js") \"\$@\""
fi # not for npm test: a temporary clone must not become the navctl of this machine
# nats: a link to the built CLI, unless another nats is already on PATH.
path_nats=$(command -v nats || true)
if [ -z "$path_nats" ] || [ "$path_nats" = "$BIN/nats" ]; then
  if [ "$(readlink "$BIN/nats" 2>/dev/null)" != "$nats_cli" ]; then
    ln -sfn "$nats_cli" "$BIN/nats"
    say "installed $BIN/nats -> $nats_cli"
  fi
fi
case ":$PATH:" in
  *":$BIN:"*) ;;
  *) say "$BIN is not on PATH; add it (e.g. to ~/.bashrc): export PATH=\"$BIN:\$PATH\"" ;;
esac

if $for_tests; then
  # --- python gRPC clients + pytest --------------------------------------------------------------
  py_ok() {
    python3 - "$GRPCIO_VERSION" "$PYTEST_VERSION" 2>/dev/null <<'PY'
import sys
from importlib.metadata import version
want = {"grpcio": sys.argv[1], "grpcio-tools": sys.argv[1], "pytest": sys.argv[2]}
sys.exit(0 if all(version(p) == v for p, v in want.items()) else 1)
PY
  }
  if ! py_ok; then
    python3 -m pip --version >/dev/null 2>&1 || { say "installing python3-pip (apt-get)"; apt_install python3-pip || true; }
    say "installing grpcio $GRPCIO_VERSION, grpcio-tools $GRPCIO_VERSION, pytest $PYTEST_VERSION (pip)"
    # Debian marks its python "externally managed"; these pinned packages may go beside its own.
    PIP_BREAK_SYSTEM_PACKAGES=1 PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1 \
      quiet python3 -m pip install --quiet "grpcio==$GRPCIO_VERSION" "grpcio-tools==$GRPCIO_VERSION" "pytest==$PYTEST_VERSION" \
      || die "pip install of grpcio/grpcio-tools/pytest failed"
    py_ok || die "grpcio/grpcio-tools/pytest still not importable by $(command -v python3)"
  fi
  summary+=", grpcio $GRPCIO_VERSION"
fi

if $with_node || $for_tests; then
  # --- Docker running, and the local images built -------------------------------------------------
  if ! timeout 10 docker info >/dev/null 2>&1; then
    [ "$(id -u)" = 0 ] || die "the Docker engine is not running and this is not root: start dockerd (or run npm start as root)"
    say "starting dockerd in the background (log: /tmp/dockerd.log)"
    setsid nohup "$(tool_path dockerd)" >/tmp/dockerd.log 2>&1 </dev/null &
    for _ in $(seq 30); do
      timeout 5 docker info >/dev/null 2>&1 && break
      sleep 1
    done
    timeout 10 docker info >/dev/null 2>&1 || die "dockerd did not answer within 30 s; see /tmp/dockerd.log"
  fi
  summary+=", docker $(timeout 10 docker version --format '{{.Server.Version}}' 2>/dev/null), nft ${nft_version}"
  # The node agent's service proxy needs navarch/netfilter:1, the tour the demo images (< 1 s when up to date).
  built=$(bash scripts/build-images.sh 2>&1) || { echo "$built" >&2; die "scripts/build-images.sh failed"; }
  grep -v '^up to date' <<<"$built" | sed 's/^/setup: /' || true
else
  say "NAVARCH_NODE_AGENT=false: no node on this machine, so no Docker, nftables or images"
fi

say "ready: $summary"
