#!/usr/bin/env bash
# Removes what local Navarch clusters made on this machine, like k3s-killall.sh. Ctrl-C of npm start
# stops the control plane, NATS and the node agent but leaves the pods' containers running (the next
# npm start adopts them); this removes them and the rest:
#   - containers labelled navarch.node (pod sandboxes and app containers) or
#     navarch.netfilter.owner (a service proxy's helper whose agent did not stop cleanly)
#   - Docker networks labelled dev.navarch.managed=true (the pods' network, "navarch" by default)
#   - nftables tables named navarch-* (the service proxy's table of each node)
#   - last, and only without --node/--cluster/--network: the routing rules and routes that keep
#     each service range on this host (ip rules 5200/5201 -> tables 222/223, ADR 18)
#   - with --state, also $NAVARCH_HOME (default ~/.navarch): the store, client config and logs,
#     but not its tools/ folder (the built nats-server and nats CLI)
# Only things carrying those labels or names are touched. It stops no process: stop npm start first,
# or its node agent starts its pods again.
#
#   bash scripts/killall.sh              everything above, of every Navarch node on this Docker engine
#   npm run killall [-- options]         the same
#   --node NAME      only that node's containers and nftables table (no networks unless --network)
#   --cluster ID     only containers of that cluster (navarch.cluster label; `navctl version` shows
#                    the id); with --node, that node of that cluster; networks and tables only
#                    with --network / --node
#   --network NAME   only that Docker network (it must carry the label)
#   --state          also remove $NAVARCH_HOME except tools/
#   --dry-run        print what would be removed, remove nothing
# Exit status: 0 when everything found was removed (or there was nothing), 1 otherwise.
set -euo pipefail

node="" cluster="" network="" state=false dry=false
while [ $# -gt 0 ]; do
  case $1 in
    --node) [ $# -ge 2 ] && [ -n "$2" ] || { echo "killall: --node needs a node name" >&2; exit 2; }; node=$2; shift ;;
    --cluster) [ $# -ge 2 ] && [ -n "$2" ] || { echo "killall: --cluster needs a cluster id" >&2; exit 2; }; cluster=$2; shift ;;
    --network) [ $# -ge 2 ] && [ -n "$2" ] || { echo "killall: --network needs a network name" >&2; exit 2; }; network=$2; shift ;;
    --state) state=true ;;
    --dry-run) dry=true ;;
    -h | --help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "killall: unknown argument: $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

MANAGED_LABEL=dev.navarch.managed  # libs/runtime docker-client.ts
NODE_LABEL=navarch.node            # libs/runtime runtime.ts LABELS.node
HELPER_LABEL=navarch.netfilter.owner # libs/runtime docker-netfilter.ts
CLUSTER_LABEL=navarch.cluster      # libs/runtime runtime.ts LABELS.cluster (ADR 14)
: "${HOME:=$(getent passwd "$(id -u)" | cut -d: -f6)}"
home=${NAVARCH_HOME:-$HOME/.navarch}

failed=0
say() { echo "killall: $*"; }
fail() { echo "killall: ERROR: $*" >&2; failed=1; }
# run <what> <command...>: runs it (or only says it with --dry-run).
run() {
  local what=$1 out
  shift
  if $dry; then say "would remove $what"; return 0; fi
  if out=$("$@" 2>&1); then say "removed $what"; else fail "could not remove $what: $out"; fi
}

# A cluster still running would start its pods again; say so (its pid file is the embedded NATS's).
pidfile=$home/nats/nats-server.pid
if [ -f "$pidfile" ] && pid=$(cat "$pidfile") && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
  say "WARNING: the cluster of $home still runs (nats-server pid $pid): stop npm start first, or its agent recreates its pods"
fi

# The service proxy's table name of a node (services/node-agent service-proxy/reconcile.ts tableName).
table_of() { local t=${1//./_}; echo "navarch-${t//[^a-zA-Z0-9_-]/-}"; }

# --- containers, then networks (a network with containers on it cannot be removed) --------------
if ! command -v docker >/dev/null; then
  fail "docker not found: cannot look for Navarch's containers and networks"
elif ! docker info >/dev/null 2>&1; then
  say "the Docker engine is not reachable: no containers or networks to look at"
else
  if [ -n "$node" ]; then filters=("label=$NODE_LABEL=$node" "label=$HELPER_LABEL=$node"); else filters=("label=$NODE_LABEL" "label=$HELPER_LABEL"); fi
  ids=()
  for f in "${filters[@]}"; do
    cf=()
    [ -n "$cluster" ] && cf=(--filter "label=$CLUSTER_LABEL=$cluster")
    mapfile -t found < <(docker ps -aq --no-trunc --filter "$f" "${cf[@]}")
    ids+=("${found[@]}")
  done
  if [ ${#ids[@]} -gt 0 ]; then
    mapfile -t ids < <(printf '%s\n' "${ids[@]}" | grep -v '^$' | sort -u)
  fi
  for id in "${ids[@]}"; do
    name=$(docker inspect -f '{{.Name}}' "$id" 2>/dev/null | sed 's|^/||') || continue # gone meanwhile
    run "container ${name:-$id}" docker rm -f -v "$id"
  done
  if [ -n "$network" ]; then
    label=$(docker network inspect -f "{{index .Labels \"$MANAGED_LABEL\"}}" "$network" 2>/dev/null || true)
    if [ "$label" = true ]; then
      run "network $network" docker network rm "$network"
    elif docker network inspect "$network" >/dev/null 2>&1; then
      fail "network $network has no label $MANAGED_LABEL=true: not Navarch's, left alone"
    fi
  elif [ -z "$node" ] && [ -z "$cluster" ]; then
    mapfile -t nets < <(docker network ls --filter "label=$MANAGED_LABEL=true" --format '{{.Name}}')
    for n in "${nets[@]}"; do [ -n "$n" ] && run "network $n" docker network rm "$n"; done
  fi
fi

# --- nftables ----------------------------------------------------------------------------------
nft=$(command -v nft || true)
for d in /usr/sbin /sbin; do [ -z "$nft" ] && [ -x "$d/nft" ] && nft=$d/nft; done
if [ -z "$nft" ]; then
  fail "nft not found: cannot remove the service proxy's nftables tables (apt-get install nftables)"
elif ! listed=$("$nft" list tables 2>&1); then
  fail "nft list tables failed (root needed?): $listed"
else
  # "table <family> <name>" lines; ours are named navarch-*.
  while read -r _ family name; do
    case $name in navarch-*) ;; *) continue ;; esac
    [ -n "$node" ] && [ "$name" != "$(table_of "$node")" ] && continue
    # A table is named after its node only: with --cluster alone, which one is that cluster's is unknown.
    [ -z "$node" ] && [ -n "$cluster" ] && continue
    run "nftables table $family $name" "$nft" delete table "$family" "$name"
  done <<<"$listed"
fi

# --- the service ranges' guard (last: until here a packet to a ClusterIP cannot leave) ---------
# Host-wide, shared by every node and cluster on this machine: removed only by a full killall.
# Priorities and tables: libs/runtime docker-netfilter.ts GUARD_* (ADR 18).
if [ -z "$node" ] && [ -z "$cluster" ] && [ -z "$network" ]; then
  if ! command -v ip >/dev/null; then
    fail "ip (iproute2) not found: cannot remove the service ranges' routing rules"
  else
    # "5200:	from all to 10.96.0.0/16 iif lo lookup 222" -> pref 5200, range 10.96.0.0/16
    while read -r pref _ _ _ range rest; do
      case "$pref $rest" in "5200: iif lo lookup 222" | "5201: lookup 223") ;; *) continue ;; esac
      run "routing rule ${pref%:} for $range" ip rule del pref "${pref%:}" to "$range"
    done < <(ip rule show | tr '\t' ' ')
    for table in 222 223; do
      while read -r route; do
        [ -n "$route" ] && run "route $route (table $table)" ip route del $route table "$table"
      done < <(ip route show table "$table" 2>/dev/null)
    done
  fi
fi

# --- state -------------------------------------------------------------------------------------
if $state && [ -d "$home" ]; then
  for entry in "$home"/* "$home"/.[!.]*; do
    [ -e "$entry" ] || [ -L "$entry" ] || continue
    [ "$(basename "$entry")" = tools ] && continue
    run "$entry" rm -rf -- "$entry"
  done
fi

exit "$failed"
