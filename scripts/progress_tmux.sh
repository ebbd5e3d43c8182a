#!/usr/bin/env bash
# Checks the progress line in a real terminal: tmux runs dorsal on a capture
# over 50 MB, the pane shows "read, ... left" while it runs and nothing of it
# once it ended; the same run with stderr on a pipe writes nothing there.
#
#   scripts/progress_tmux.sh [BIN] [CAPTURE]   (default: the bench capture)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-target/release/dorsal}
CAP=${2:-target/bench/big.pcap}
[ -f "$CAP" ] || { echo "no $CAP: run bench/run.sh first or name a capture over 50 MB" >&2; exit 2; }
S=dorsal-progress-$$
tmux new-session -d -s "$S" -x 150 -y 10
trap 'tmux kill-session -t "$S" 2>/dev/null || true' EXIT
tmux send-keys -t "$S" "clear; $BIN -r $CAP -q -z conv,tcp > /dev/null; echo EXIT=\$?" Enter
seen=""
for _ in $(seq 100); do
    sleep 0.1
    pane=$(tmux capture-pane -t "$S" -p)
    if grep -q ' read, .* left' <<<"$pane"; then seen=yes; fi
    if grep -q '^EXIT=' <<<"$pane"; then break; fi
done
pane=$(tmux capture-pane -t "$S" -p)
[ -n "$seen" ] || { echo "FAIL: no progress line seen" >&2; exit 1; }
grep -q '^EXIT=0' <<<"$pane" || { echo "FAIL: run did not end well: $pane" >&2; exit 1; }
if grep -q ' read, .* left' <<<"$pane"; then echo "FAIL: progress line left behind" >&2; exit 1; fi
err=$("$BIN" -r "$CAP" -T fields -e frame.number -c 1 2>&1 >/dev/null | wc -c)
[ "$err" -eq 0 ] || { echo "FAIL: $err bytes on a piped stderr" >&2; exit 1; }
echo "progress line: shown while reading, cleared at the end, absent on a pipe"
