#!/usr/bin/env bash
# Benchmark: builds a large capture with the project's generator, then times
# dorsal and (when installed) tshark on the same command lines, several runs
# each, and prints wall times, their ratio and peak memory.
#
#   bench/run.sh [REPEAT] [RUNS]
#
# REPEAT is how many times the generator writes its set of conversations
# (34 frames each); RUNS how many times each command is timed (best kept).
set -euo pipefail
cd "$(dirname "$0")/.."
REPEAT=${1:-60000}
RUNS=${2:-3}
OUT=target/bench
mkdir -p "$OUT"

cargo build --release -q -p dorsal -p dorsal-fixtures
CAP="$OUT/big.pcap"
if [ ! -f "$CAP" ] || [ "$(cat "$OUT/repeat" 2>/dev/null)" != "$REPEAT" ]; then
    ./target/release/gen-fixtures "$OUT" --repeat "$REPEAT" >/dev/null
    echo "$REPEAT" > "$OUT/repeat"
fi
SIZE=$(stat -c %s "$CAP")
FRAMES=$(./target/release/dorsal -r "$CAP" -T fields -e frame.number | tail -n 1)
echo "capture: $CAP, $SIZE bytes, $FRAMES frames"

# Best wall time (seconds) and peak RSS (kB) of RUNS runs of a command.
measure() {
    local best="" mem=0
    for _ in $(seq "$RUNS"); do
        /usr/bin/time -f "%e %M" -o "$OUT/time" "$@" >/dev/null 2>"$OUT/stderr" || true
        read -r secs kb < <(tail -n 1 "$OUT/time")
        if [ -z "$best" ] || awk "BEGIN{exit !($secs < $best)}"; then best=$secs; fi
        [ "$kb" -gt "$mem" ] && mem=$kb
    done
    echo "$best $mem"
}

read -r floor _ < <(measure cat "$CAP")
echo "read floor (cat): ${floor}s"
printf '%-62s %9s %9s %8s %9s %9s\n' "command line" "dorsal s" "tshark s" "ratio" "dorsal MB" "tshark MB"

run_case() {
    local label=$1; shift
    read -r d dm < <(measure ./target/release/dorsal -r "$CAP" "$@")
    if command -v tshark >/dev/null 2>&1; then
        read -r t tm < <(measure tshark -r "$CAP" "$@")
        ratio=$(awk "BEGIN{ if ($d > 0) printf \"%.1fx\", $t / $d; else print \"-\" }")
    else
        t="-"; tm=0; ratio="-"
    fi
    printf '%-62s %9s %9s %8s %9d %9d\n' "$label" "$d" "$t" "$ratio" $((dm / 1024)) $((tm / 1024))
}

run_case "-T fields -e frame.number" -T fields -e frame.number
run_case "L2-L4 row" -T fields -e frame.number -e eth.src -e ip.src -e ip.dst -e ip.proto -e tcp.srcport -e tcp.dstport -e tcp.stream -e tcp.seq -e udp.port
run_case "-Y http.request -e http.host -e http.request.uri" -Y http.request -T fields -e http.host -e http.request.uri
run_case "-Y dns.flags.response == 0 -e dns.qry.name" -Y "dns.flags.response == 0" -T fields -e dns.qry.name
run_case "-Y tls.handshake.type == 1 -e tls...server_name" -Y "tls.handshake.type == 1" -T fields -e tls.handshake.extensions_server_name
