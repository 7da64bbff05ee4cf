#!/usr/bin/env bash
# The benchmark suite. It generates its own archives, then measures, in one run:
#  - audit: MB/s, notifications/s, CPU-seconds per GB and peak memory, for plain and gzip input,
#    at 100k and 1M notifications (and 10M with --full);
#  - audit --rules both beside --rules 2014, on the 1M archive;
#  - audit --memory with a budget of a quarter of the 1M archive, beside the plain run;
#  - that every mode writes the same report (plain, gzip, --memory: one checksum);
#  - the interactive replay with the 1M archive loaded (10M with --full): first frame,
#    key-to-frame, seek, and when a list rebuilt in the background is on screen.
# Usage: scripts/bench.sh [--full] [WORKDIR]   (default target/bench; needs ~6 GB of disk,
# ~60 GB and an hour with --full)
set -euo pipefail
cd "$(dirname "$0")/.."
full=0
if [ "${1:-}" = "--full" ]; then
  full=1
  shift
fi
work=${1:-target/bench}
mkdir -p "$work"
cargo build --release --quiet
bin=target/release/usage-replay

# About 3.6 notifications per instance-day: 100k ≈ 9,300 instances × 3 days; 1M ≈ 93,000;
# 10M ≈ 930,000.
declare -A sizes=([100k]=9300 [1M]=93000 [10M]=930000)
names=(100k 1M)
if [ "$full" = 1 ]; then names+=(10M); fi
for n in "${names[@]}"; do
  f="$work/bench-$n.jsonl"
  if [ ! -s "$f" ]; then
    echo "generating $f"
    $bin generate --instances "${sizes[$n]}" --days 3 --seed 1 --anomalies 0.05 --out "$f" --truth "$f.truth" -q
  fi
  if [ ! -s "$f.gz" ]; then
    echo "compressing $f"
    gzip -1 -c "$f" > "$f.gz.tmp" && mv "$f.gz.tmp" "$f.gz"
  fi
done

# One audit: wall and CPU seconds, peak memory, and the report's checksum.
# Prints: name, MB (of the uncompressed archive), notifications, wall s, cpu s, peak KiB, sha.
measure() {
  local label=$1 plain=$2
  shift 2
  local bytes lines stats sha
  bytes=$(stat -c %s "$plain")
  lines=$(wc -l < "$plain")
  # Warm the page cache so that the figure is the tool's, not the disk's.
  cat "${@: -1}" > /dev/null
  stats=$(mktemp)
  sha=$( { /usr/bin/time -o "$stats" -f "%e %U %S %M" "$bin" audit --format json "$@" || true; } | sha256sum | cut -c1-12)
  read -r wall user sys peak < <(tail -1 "$stats")
  rm -f "$stats"
  awk -v label="$label" -v b="$bytes" -v l="$lines" -v w="$wall" -v u="$user" -v s="$sys" -v p="$peak" -v sha="$sha" 'BEGIN {
    printf "  %-34s %8.1f MB %10d  %7.2f s %8.1f MB/s %10.0f/s %6.2f cpu-s/GB  peak %6d MiB (%3.0f%%)  %s\n",
      label, b/1e6, l, w, b/1e6/w, l/w, (u+s)/(b/1e9), p/1024, 100*p*1024/b, sha }'
}

echo
echo "audit --format json (release build, $(nproc) cores; the last column is the report's checksum):"
printf "  %-34s %11s %10s  %9s %13s %12s %15s  %-21s %s\n" "run" "archive" "notifs" "wall" "throughput" "notifs/s" "cpu" "peak (of archive)" "report"
for n in "${names[@]}"; do
  f="$work/bench-$n.jsonl"
  measure "$n plain" "$f" "$f"
  measure "$n gzip" "$f" "$f.gz"
done

f="$work/bench-1M.jsonl"
echo
echo "both rule sets beside 2014, on $(basename "$f"):"
measure "1M --rules 2014" "$f" --rules 2014 "$f"
measure "1M --rules both" "$f" --rules both "$f"

# docs/scale.md#bounded-memory: the 1M archive under a budget of a quarter of its size.
budget=$(( $(stat -c %s "$f") / 4 ))
echo
echo "bounded memory: --memory $((budget >> 20))M, a quarter of $(basename "$f") (the same checksum as plain above):"
measure "1M --memory $((budget >> 20))M" "$f" --memory "$budget" "$f"
measure "1M --rules both --memory $((budget >> 20))M" "$f" --rules both --memory "$budget" "$f"

for n in 1M $( [ "$full" = 1 ] && echo 10M ); do
  echo
  echo "interactive replay with the $n archive loaded (both rule sets, in-process, 120x40 test backend):"
  /usr/bin/time -f "  peak memory %M KB" cargo bench --quiet --bench ui_keys -- "$work/bench-$n.jsonl"
done
