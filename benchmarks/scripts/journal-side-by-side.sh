#!/usr/bin/env bash
# Issue 11: the default run (300 VMs x 2 vCPUs, 15 s) with the SQLite journal and in memory, two builds side by side.
# Usage: benchmarks/scripts/journal-side-by-side.sh BEFORE_HEKI AFTER_HEKI [PAIRS] [WORKDIR]
#   BEFORE_HEKI, AFTER_HEKI: the `heki` executables of two builds (dotnet build src/Cli -c Release -o DIR, then DIR/heki).
# Runs them alternately (before, after) PAIRS times (default 3) for each journal, a fresh journal file each run, and prints
# one line a run (boot, accesses/s, hypercall p50/p99 from the report's JSON, peak RSS from /usr/bin/time -v, the load)
# and the medians. The hypercall latency is the report's (PROTECT_MEMORY and LOCK_CR_UPDATE, as the guest sees them); the
# slow path's p99 and, from builds that split them (issue 11, fairness), the service p99 of both (the rest is queueing);
# from builds that report it (issue 11, fourth pass), PROTECT_MEMORY's own p99 ("pm", nan before).
set -euo pipefail
before=$1; after=$2; pairs=${3:-3}; work=${4:-$(mktemp -d)}
mkdir -p "$work"
run() { # label binary journal index
  local label=$1 bin=$2 journal=$3 i=$4 name="$work/$1-$3-$4" extra=()
  [ "$journal" = sqlite ] && extra=(--sqlite-path "$name.db")
  rm -f "$name".db*
  local load; load=$(cut -d' ' -f1 /proc/loadavg)
  /usr/bin/time -v "$bin" simulate --duration 15s --no-progress "${extra[@]}" --report "$name.json" >"$name.out" 2>"$name.time"
  python3 - "$name" "$label" "$journal" "$load" <<'P'
import json, re, sys
name, label, journal, load = sys.argv[1:]
r = json.load(open(name + '.json'))['runs'][0]; l = r['latency_ns']; h = l['hypercall']
p99 = lambda key: l[key]['p99'] / 1e6 if key in l else float('nan')
rss = int(re.search(r'Maximum resident set size \(kbytes\): (\d+)', open(name + '.time').read()).group(1)) // 1024
print(f"{label:6} {journal:6} boot {r['boot_seconds']:6.2f} s  {r['accesses_per_second']/1e6:6.1f} M acc/s  "
      f"hypercall p50 {h['p50']/1e6:8.2f} ms p99 {h['p99']/1e6:8.2f} ms pm p99 {p99('protect_memory'):8.2f} ms  slow p99 {p99('slow_path'):8.2f} ms  "
      f"service p99 hypercall {p99('hypercall_service'):8.1f} ms slow {p99('slow_path_service'):8.3f} ms  rss {rss} MiB  load {load}")
P
}
for journal in inmem sqlite; do
  for i in $(seq 1 "$pairs"); do
    run before "$before" "$journal" "$i" | tee -a "$work/lines"
    run after "$after" "$journal" "$i" | tee -a "$work/lines"
  done
done
python3 - "$work/lines" <<'P'
import re, statistics, sys, collections
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    f = line.split()
    nums = [float(x) for x in re.findall(r'([\d.]+|nan) (?:s|M|ms|MiB)', line)]
    rows[(f[0], f[1])].append(nums)
print("medians: boot s, M acc/s, hypercall p50 ms, p99 ms, PROTECT_MEMORY p99 ms, slow path p99 ms, service p99 ms (hypercall, slow path), peak RSS MiB")
for key, values in sorted(rows.items()):
    print(key[0], key[1], *[round(statistics.median(col), 2) for col in zip(*values)])
P
