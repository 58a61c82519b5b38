#!/usr/bin/env bash
# Issue 13: a throw-away cluster on this machine (127.0.0.1 only) for benchmarks and trying things out: a PostgreSQL
# server of its own (Debian's binaries, a temporary data directory, a free port) and N `heki node` processes.
# Usage: benchmarks/scripts/local-cluster.sh HEKI NODES WORKDIR -- COMMAND...
#   HEKI: the heki executable (dotnet build src/Cli -c Release -o DIR, then DIR/heki).
#   Runs COMMAND once every node is up, with $SEED (the first node's address), $JOURNAL (the connection string) and
#   $NODE_PIDS (space-separated) in its environment; then prints each node's peak RSS (VmHWM) and stops everything.
#   NODE_ARGS: more options for every node (e.g. --config F); NODE_JOURNAL=inmem: nodes without the shared journal
#   (to tell the network's share of a round trip from the journal's); PG_OPTS: server settings (-c name=value ...).
set -euo pipefail
heki=$1; nodes=$2; work=$3; shift 4
mkdir -p "$work"
bin=$(ls -d /usr/lib/postgresql/*/bin | tail -n 1)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pgdata=$(mktemp -d /tmp/heki-pg-XXXXXX); [ "$(id -u)" = 0 ] && chown postgres:postgres "$pgdata"
pgport=$(free_port)
as_pg "$bin/initdb" -D "$pgdata" -U postgres -A trust --no-sync -E UTF8 >/dev/null
as_pg "$bin/pg_ctl" -D "$pgdata" -l "$pgdata/server.log" -w -o "-p $pgport -k $pgdata -c listen_addresses=127.0.0.1 -c max_connections=200 ${PG_OPTS:-}" start >/dev/null
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  as_pg "$bin/pg_ctl" -D "$pgdata" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$pgdata"
}
trap cleanup EXIT
as_pg "$bin/createdb" -h 127.0.0.1 -p "$pgport" -U postgres heki
export JOURNAL="Host=127.0.0.1;Port=$pgport;Username=postgres;Database=heki"
first=$(free_port); export SEED="akka.tcp://heki@127.0.0.1:$first"
for i in $(seq 1 "$nodes"); do
  port=$([ "$i" = 1 ] && echo "$first" || free_port)
  journal_args=(--journal-connection "$JOURNAL"); [ "${NODE_JOURNAL:-}" = inmem ] && journal_args=(--journal inmem)
  "$heki" node --port "$port" --seed "$SEED" "${journal_args[@]}" ${NODE_ARGS:-} >"$work/node$i.out" 2>"$work/node$i.err" &
  pids+=($!)
done
for i in $(seq 1 "$nodes"); do
  for _ in $(seq 1 120); do grep -q "up at" "$work/node$i.out" 2>/dev/null && break; sleep 0.5; done
  grep -q "up at" "$work/node$i.out" || { echo "node $i did not come up" >&2; cat "$work/node$i.err" >&2; exit 1; }
done
export NODE_PIDS="${pids[*]}"
"$@"
for i in "${!pids[@]}"; do
  echo "node $((i + 1)): peak RSS $(awk '/VmHWM/ {print int($2/1024)}' "/proc/${pids[$i]}/status") MiB, now $(awk '/VmRSS/ {print int($2/1024)}' "/proc/${pids[$i]}/status") MiB"
done
