#!/usr/bin/env bash
# The benchmark suite: generates its own archives, then measures
#  - audit throughput (MB/s, notifications/s) and peak memory at 100k and 1M notifications,
#  - the interactive replay with the 1M archive loaded: first frame, key-to-frame, seek.
# Usage: scripts/bench.sh [WORKDIR]   (default target/bench; needs ~3 GB of disk)
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-target/bench}
mkdir -p "$work"
cargo build --release --quiet
bin=target/release/usage-replay

# About 3.6 notifications per instance-day: 100k ≈ 9,300 instances × 3 days; 1M ≈ 93,000 × 3 days.
declare -A sizes=([100k]=9300 [1M]=93000)
for n in 100k 1M; do
  f="$work/bench-$n.jsonl"
  if [ ! -s "$f" ]; then
    echo "generating $f"
    $bin generate --instances "${sizes[$n]}" --days 3 --seed 1 --anomalies 0.05 --out "$f" --truth "$f.truth" -q
  fi
done

report() {
  local f=$1 bytes lines
  bytes=$(stat -c %s "$f")
  lines=$(wc -l < "$f")
  # Warm the page cache so that the figure is the tool's, not the disk's.
  cat "$f" > /dev/null
  local out
  out=$(USAGE_REPLAY_TIMINGS=1 $bin audit --format json "$f" 2>&1 >/dev/null | grep '^timing:' || true)
  echo "$out" | sed 's/^/    /'
  local total peak
  total=$(echo "$out" | tail -1 | sed -E 's/.*\(total ([0-9.]+) s.*/\1/')
  peak=$(echo "$out" | tail -1 | sed -E 's/.*peak memory ([0-9]+) MiB.*/\1/')
  awk -v b="$bytes" -v l="$lines" -v t="$total" -v p="$peak" -v name="$(basename "$f")" 'BEGIN {
    printf "  %-18s %7.1f MB  %9d notifications  %6.2f s  %7.1f MB/s  %9.0f notifications/s  peak %d MiB (%.0f%% of the archive)\n",
      name, b/1e6, l, t, b/1e6/t, l/t, p, 100*p*1048576/b }'
}

echo
echo "audit (release build, $(nproc) cores):"
for n in 100k 1M; do report "$work/bench-$n.jsonl"; done

echo
echo "interactive replay with the 1M archive loaded (in-process, 120x40 test backend):"
cargo bench --quiet --bench ui_keys -- "$work/bench-1M.jsonl"

# docs/scale.md#bounded-memory: the 1M archive under a budget of a quarter of its size.
f="$work/bench-1M.jsonl"
budget=$(( $(stat -c %s "$f") / 4 ))
echo
echo "audit --memory $((budget >> 20))M on $(basename "$f") (the archive is 4x the budget), then plain:"
for memory in "--memory $budget" ""; do
  # shellcheck disable=SC2086
  /usr/bin/time -f "    %e s  peak %M KB  ${memory:-plain}" $bin audit $memory --format json "$f" 2>&1 >/dev/null \
    | grep -v -e '^timing:' -e 'exited with' | sed 's/^usage-replay: /    /' || true
done
