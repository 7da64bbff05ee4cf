#!/usr/bin/env bash
# Follows README's "Getting started" literally on a fresh clone, and prints the time of each step:
#   1. `cargo run --release` builds and opens the demo (here inside tmux, until the screen shows
#      streams of every outcome; then `q`);
#   2. `cargo test --release` runs the tests, reusing the first step's build of the dependencies.
# It builds from scratch (a clone and a target directory of its own, both removed at the end), so it
# is not part of the test command. Needs git, cargo and tmux.
# Usage: scripts/getting-started.sh [REPOSITORY]   (default: this repository's HEAD)
set -euo pipefail
repo=$(cd "${1:-$(dirname "$0")/..}" && pwd)
work=$(mktemp -d /tmp/getting-started.XXXXXX)
socket="$work/tmux.sock"
cleanup() {
  tmux -S "$socket" kill-server 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

step() { printf '%-52s %6d s\n' "$1" "$2"; }
now() { date +%s; }

git clone --quiet "$repo" "$work/usage-replay"
cd "$work/usage-replay"
export CARGO_TARGET_DIR="$work/target"
echo "fresh clone of $repo at $(git rev-parse --short HEAD) on $(nproc) cores, $(rustc --version)"

# Step 1: the first command, in a terminal.
start=$(now)
tmux -S "$socket" new-session -d -s gs -x 160 -y 40 \
  "env LANG=C.UTF-8 TERM=xterm-256color cargo run --release; echo DONE-\$?; sleep 600"
shows_every_outcome() {
  local s
  s=$(tmux -S "$socket" capture-pane -p -t gs)
  for word in "drained" "demo: a built-in archive" "ok " "failed " "ERR " \
    "U0 " "U1 " "U2 " "U3 " "U4 " "U5 " "U6 " "U7 " "U8 "; do
    grep -qF -- "$word" <<<"$s" || return 1
  done
}
until shows_every_outcome; do
  if tmux -S "$socket" capture-pane -p -t gs | grep -q '^DONE-'; then
    tmux -S "$socket" capture-pane -p -t gs
    echo "the demo ended before showing every outcome" >&2
    exit 1
  fi
  sleep 1
done
step "cargo run --release (build, demo on screen)" $(($(now) - start))
tmux -S "$socket" capture-pane -p -t gs | head -3
tmux -S "$socket" send-keys -t gs q
until tmux -S "$socket" capture-pane -p -t gs | grep -q '^DONE-0'; do sleep 1; done

# Step 2: the second command.
start=$(now)
if cargo test --release --quiet >"$work/test.log" 2>&1; then status=0; else status=$?; fi
grep -E '^test result|FAILED|panicked' "$work/test.log" || tail -20 "$work/test.log"
step "cargo test --release" $(($(now) - start))
exit "$status"
