#!/usr/bin/env bash
# Makes this machine ready to run (npm start) and, with --test or CI=true, to test (npm test) Navarch.
# Idempotent: installs only what is missing, one line per thing installed; a second run takes well
# under 2 s. Target: Debian 12 as root, Go at /usr/local/go/bin, npm with any Node >= 20.
#
#   bash scripts/setup.sh          npm packages (Node 24 comes from the `node` devDependency), nats-server
#   bash scripts/setup.sh --test   also the nats CLI, python grpcio/grpcio-tools/pytest, Docker, busybox-static, wrk
#
# Env: NAVARCH_TOOLS (default ~/.navarch/tools/bin) is where nats-server and nats are built to.
set -euo pipefail
cd "$(dirname "$0")/.."

NATS_SERVER_VERSION=v2.15.2 # built with `go install` when no nats-server >= 2.10 is present
NATS_SERVER_MIN=2.10.0      # multi-filter watch; older servers silently ignore it
NATSCLI_VERSION=v0.3.0      # the proxy refuses natscli's version list, so `go install @latest` cannot work
GRPCIO_VERSION=1.85.1       # grpcio and grpcio-tools (python clients generated from proto/)
PYTEST_VERSION=9.2.0

: "${HOME:=$(getent passwd "$(id -u)" | cut -d: -f6)}"
TOOLS=${NAVARCH_TOOLS:-$HOME/.navarch/tools/bin}
LOG=${TMPDIR:-/tmp}/navarch-setup.log

for_tests=false
for arg in "$@"; do
  case $arg in
    --test) for_tests=true ;;
    -h | --help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup: unknown argument: $arg (usage: setup.sh [--test])" >&2; exit 2 ;;
  esac
done
[ "${CI:-}" = true ] && for_tests=true

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
    quiet "${SUDO[@]}" apt-get update -q || return 1
    apt_updated=true
  fi
  quiet "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
}
deb_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }

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
    grep -m 5 -E '^npm error .+' "$LOG" | grep -vx 'npm error' >&2 || true
    # npm 11's ci refuses a lock without every platform's optional packages (@nx/nx-darwin-*,
    # @bufbuild/buf-win32-*, ...), and this registry has none of them. install --no-save takes the
    # same locked versions and leaves package-lock.json as it is.
    warn "npm ci failed; trying npm install --no-save with the same lock file"
    quiet npm install --no-save --no-audit --no-fund || die "npm install failed"
  fi
fi
node24 || die "$repo_node is not Node 24 after npm ci (did npm block the install script of the 'node' package? allow it, e.g. npm ci --foreground-scripts, or check 'npm config get ignore-scripts')"

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

if $for_tests; then
  # --- nats CLI: optional, the test that uses it skips itself without it -----------------------
  nats_cli=""
  for c in "$(command -v nats || true)" "$TOOLS/nats"; do
    if [ -n "$c" ] && [ -x "$c" ] && "$c" --version >/dev/null 2>&1; then nats_cli=$c; break; fi
  done
  if [ -z "$nats_cli" ] && [ -n "$GO" ]; then
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
    else
      warn "could not build the nats CLI $NATSCLI_VERSION; the tests that use it will skip"
    fi
    rm -rf "$gomod"
  elif [ -z "$nats_cli" ]; then
    warn "Go not found: no nats CLI; the tests that use it will skip"
  fi
  [ -n "$nats_cli" ] && summary+=", nats $("$nats_cli" --version 2>/dev/null) ($nats_cli)"

  # --- python gRPC clients + pytest --------------------------------------------------------------
  py_ok() {
    python3 - "$GRPCIO_VERSION" "$PYTEST_VERSION" 2>/dev/null <<'EOF'
import sys
from importlib.metadata import version
want = {"grpcio": sys.argv[1], "grpcio-tools": sys.argv[1], "pytest": sys.argv[2]}
sys.exit(0 if all(version(p) == v for p, v in want.items()) else 1)
EOF
  }
  if ! py_ok; then
    command -v python3 >/dev/null || { say "installing python3 (apt-get)"; apt_install python3 python3-pip || true; }
    python3 -m pip --version >/dev/null 2>&1 || { say "installing python3-pip (apt-get)"; apt_install python3-pip || true; }
    say "installing grpcio $GRPCIO_VERSION, grpcio-tools $GRPCIO_VERSION, pytest $PYTEST_VERSION (pip)"
    # Debian marks its python "externally managed"; these pinned packages may go beside its own.
    PIP_BREAK_SYSTEM_PACKAGES=1 PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1 \
      quiet python3 -m pip install --quiet "grpcio==$GRPCIO_VERSION" "grpcio-tools==$GRPCIO_VERSION" "pytest==$PYTEST_VERSION" \
      || die "pip install of grpcio/grpcio-tools/pytest failed"
    py_ok || die "grpcio/grpcio-tools/pytest still not importable by $(command -v python3)"
  fi
  summary+=", grpcio $GRPCIO_VERSION"

  # --- Docker engine and busybox-static (not needed by every test yet; never fatal) ---------------
  if ! command -v dockerd >/dev/null; then
    say "installing Docker engine (apt-get install docker.io)"
    apt_install docker.io || warn "could not install docker.io; Docker tests will fail or skip"
  fi
  if command -v dockerd >/dev/null && ! timeout 10 docker info >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
      say "starting dockerd in the background (log: /tmp/dockerd.log)"
      setsid nohup dockerd >/tmp/dockerd.log 2>&1 </dev/null &
      for _ in $(seq 30); do
        timeout 5 docker info >/dev/null 2>&1 && break
        sleep 1
      done
      timeout 10 docker info >/dev/null 2>&1 || warn "dockerd did not answer within 30 s; see /tmp/dockerd.log"
    else
      warn "Docker is not running and this is not root: start dockerd yourself"
    fi
  fi
  if timeout 10 docker info >/dev/null 2>&1; then
    summary+=", docker $(timeout 10 docker version --format '{{.Server.Version}}' 2>/dev/null)"
  fi
  if command -v dpkg-query >/dev/null && ! deb_installed busybox-static; then
    say "installing busybox-static (apt-get; static binary for locally built images)"
    apt_install busybox-static || warn "could not install busybox-static"
  fi
  if ! command -v wrk >/dev/null; then
    say "installing wrk (apt-get; load tool of npm run bench -- services)"
    apt_install wrk || warn "could not install wrk; the services benchmark will skip"
  fi
fi

say "ready: $summary"
