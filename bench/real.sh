#!/usr/bin/env bash
# Real traffic and many flows: the seed command lines on the corpus mix
# (../shared/bench/mkmix 4: every Ethernet capture of the corpus that
# carries a mission protocol, four times) against tshark, outputs compared
# first, then on a capture of many short connections
# (../shared/bench/manyflows) for peak memory and how time grows with flows.
#
#   bench/real.sh [MIX] [FLOWS_1M] [FLOWS_100K] [RUNS]
#
# Defaults: the mix from mkmix, the flow captures under target/bench/.
# Prints Markdown tables; ONLY_MIX=1 stops after the mix's table.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=target/bench
mkdir -p "$OUT"
MIX=${1:-}
BIG=${2:-$OUT/flows1m.pcap}
SMALL=${3:-$OUT/flows100k.pcap}
RUNS=${4:-3}
SHARED=../shared/bench
# mkmix writes /tmp/bench/mix4.pcap and prints its path.
[ -n "$MIX" ] || MIX=$("$SHARED/mkmix" 4)
[ -f "$BIG" ] || "$SHARED/manyflows" "$BIG" 1000000
[ -f "$SMALL" ] || "$SHARED/manyflows" "$SMALL" 100000
cargo build --release -q -p dorsal
D=$PWD/target/release/dorsal

# Median wall seconds and the largest peak RSS (kB) of N runs.
measure() {
    local n=$1; shift
    local times=() mem=0
    for _ in $(seq "$n"); do
        rm -rf "$OUT/eo"
        /usr/bin/time -f "%e %M" -o "$OUT/time" "$@" >/dev/null 2>"$OUT/stderr" || true
        read -r secs kb < <(tail -n 1 "$OUT/time")
        times+=("$secs")
        [ "$kb" -gt "$mem" ] && mem=$kb
    done
    printf '%s\n' "${times[@]}" | sort -n | awk -v m="$mem" '{a[NR]=$1} END{print a[int((NR+1)/2)], m}'
}

# Output of a command line ("@" is a scratch folder): stdout, or the folder's files.
output() {
    rm -rf "$OUT/eo"
    "$@" 2>/dev/null > "$OUT/out.txt" || true
    if [ -d "$OUT/eo" ]; then (cd "$OUT/eo" && find . -type f -exec sha256sum {} + | sort); else cat "$OUT/out.txt"; fi
}

LINES=(
    ""
    "-Y http.request -T fields -e http.host -e http.request.uri"
    "-Y dns.flags.response==0 -T fields -e dns.qry.name"
    "-Y tls.handshake.type==1 -T fields -e tls.handshake.extensions_server_name"
    "-Y ftp.request.command==USER||ftp.request.command==PASS||http.authbasic||http.authorization -T fields -e frame.number -e ip.src -e ip.dst -e ftp.request.arg -e http.authbasic -e http.authorization"
    "-q -z io,phs"
    "-q -z conv,tcp"
    "-q -z endpoints,ip"
    "-q --export-objects http,@"
    "-q --export-objects smb,@"
)

echo "corpus mix: $MIX ($(stat -L -c %s "$MIX") bytes)"
echo
echo "| command line | tshark s | dorsal s | ratio | same output | dorsal MB |"
echo "|---|---:|---:|---:|---|---:|"
for line in "${LINES[@]}"; do
    # shellcheck disable=SC2206
    args=(${line//@/$OUT/eo})
    same=yes
    # One after the other: both write to $OUT/out.txt and $OUT/eo.
    output tshark -r "$MIX" "${args[@]}" > "$OUT/tshark.out"
    output "$D" -r "$MIX" "${args[@]}" > "$OUT/dorsal.out"
    if ! cmp -s "$OUT/tshark.out" "$OUT/dorsal.out"; then same=no; fi
    read -r t _ < <(measure 1 tshark -r "$MIX" "${args[@]}")
    read -r d dm < <(measure "$RUNS" "$D" -r "$MIX" "${args[@]}")
    printf '| `%s` | %s | %s | %sx | %s | %d |\n' "${line:-(default view)}" "$t" "$d" \
        "$(awk "BEGIN{ if ($d > 0) printf \"%.1f\", $t / $d; else print \"-\" }")" "$same" $((dm / 1024))
done

[ -n "${ONLY_MIX:-}" ] && exit 0

FLOWS=(
    "-T fields -e tcp.stream -e http.host"
    "-q -z io,phs"
    "-q -z conv,tcp"
    "-q -z endpoints,ip"
    "-q --export-objects http,@"
    "--report @"
    "-Y tcp.flags.syn==1&&tcp.flags.ack==0 -T fields -e ip.src"
)
echo
echo "many flows: $BIG and $SMALL"
echo
echo "| command line | 100k s | 1M s | 1M/100k | 1M peak MB |"
echo "|---|---:|---:|---:|---:|"
for line in "${FLOWS[@]}"; do
    # shellcheck disable=SC2206
    args=(${line//@/$OUT/eo})
    read -r s _ < <(measure 1 "$D" -r "$SMALL" "${args[@]}")
    read -r b bm < <(measure 1 "$D" -r "$BIG" "${args[@]}")
    printf '| `%s` | %s | %s | %sx | %d |\n' "$line" "$s" "$b" \
        "$(awk "BEGIN{ if ($s > 0) printf \"%.1f\", $b / $s; else print \"-\" }")" $((bm / 1024))
done
