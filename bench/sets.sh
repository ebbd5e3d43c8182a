#!/usr/bin/env bash
# Reading a rotated set against reading the same packets merged in one file.
#
#   bench/sets.sh CAPTURE [PIECES] [RUNS]
#
# Cuts CAPTURE (e.g. the corpus mix, ../shared/bench/mkmix 4) with editcap -c
# into PIECES files named as tcpdump -C -W names them, merges them back with
# dorsal's own -w (the same order the set is read in), checks that the seed
# command lines print the same on both, and times them in pairs with
# farm-bench (A = the set, B = the merged file; quote the median A/B).
set -euo pipefail
cd "$(dirname "$0")/.."
CAP=${1:?capture}
PIECES=${2:-5}
RUNS=${3:-5}
OUT=target/bench/sets
rm -rf "$OUT" && mkdir -p "$OUT/set"
cargo build --release -q -p dorsal
D=$PWD/target/release/dorsal
FRAMES=$("$D" -r "$CAP" -T fields -e frame.number | tail -n 1)
editcap -c $(( (FRAMES + PIECES - 1) / PIECES )) "$CAP" "$OUT/raw.pcap" >/dev/null
i=0
for f in $(ls "$OUT"/raw_*.pcap | sort); do mv "$f" "$OUT/set/capture.pcap$i"; i=$((i + 1)); done
"$D" -r "$OUT/set" -F pcap -w "$OUT/merged.pcap"
lines=(
    "-Y http.request -T fields -e http.host -e http.request.uri"
    "-Y dns.flags.response==0 -T fields -e dns.qry.name"
    "-q -z conv,tcp"
    "-q -z io,phs"
)
for args in "${lines[@]}"; do
    # shellcheck disable=SC2086
    if ! cmp -s <("$D" -r "$OUT/set" $args) <("$D" -r "$OUT/merged.pcap" $args); then
        echo "output differs: $args" >&2
        exit 1
    fi
    echo "== $args"
    # shellcheck disable=SC2086
    farm-bench -n "$RUNS" --vs "$D -r $OUT/merged.pcap $args" -- "$D" -r "$OUT/set" $args 2>&1 |
        grep -E '^(A|B) wall|^A/B (wall|cpu)'
done
