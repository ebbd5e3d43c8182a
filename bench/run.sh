#!/usr/bin/env bash
# Benchmark: builds a large capture with the project's generator, then times
# dorsal and (when installed) tshark on the same command lines, several runs
# each, and prints wall times, their ratio and peak memory.
#
#   bench/run.sh [REPEAT] [RUNS] [TSHARK_RUNS]
#
# REPEAT is how many times the generator writes its set of conversations
# (94 frames, about 40 kB each: HTTP pages and bulk downloads in MSS-sized
# segments, DNS, a TLS ClientHello, FTP and SMB2; 27000 gives 1.1 GB and
# 2.5M frames); RUNS how many times each dorsal command is timed, TSHARK_RUNS
# each tshark one (best kept; tshark takes minutes on the full capture).
# Prints a Markdown table, as pasted into bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
REPEAT=${1:-27000}
RUNS=${2:-3}
TSHARK_RUNS=${3:-1}
OUT=target/bench
mkdir -p "$OUT"

cargo build --release -q -p dorsal -p dorsal-fixtures
CAP="$OUT/big.pcap"
if [ ! -f "$CAP" ] || [ "$(cat "$OUT/repeat" 2>/dev/null)" != "$REPEAT" ]; then
    ./target/release/gen-fixtures "$OUT" --repeat "$REPEAT" >/dev/null
    echo "$REPEAT" > "$OUT/repeat"
fi
SIZE=$(stat -L -c %s "$CAP")
FRAMES=$(./target/release/dorsal -r "$CAP" -T fields -e frame.number | tail -n 1)
echo "capture: $CAP, $SIZE bytes, $FRAMES frames"

# Best wall time (seconds) and peak RSS (kB) of N runs of a command; the
# directory in $CLEAN (export objects) is emptied before each run.
measure() {
    local n=$1; shift
    local best="" mem=0
    for _ in $(seq "$n"); do
        # Exports write a gigabyte: flush the last run's before timing the next.
        if [ -n "${CLEAN:-}" ]; then rm -rf "$CLEAN"; sync; fi
        # Every run starts with the capture in the page cache, as the floor
        # does: the kernel may drop pages idle for a while (this machine's
        # DAMON pages out what was not touched for a minute, and one tshark
        # run takes longer than that), which would time the disk instead.
        cat "$CAP" >/dev/null
        /usr/bin/time -f "%e %M" -o "$OUT/time" "$@" >/dev/null 2>"$OUT/stderr" || true
        read -r secs kb < <(tail -n 1 "$OUT/time")
        if [ -z "$best" ] || awk "BEGIN{exit !($secs < $best)}"; then best=$secs; fi
        [ "$kb" -gt "$mem" ] && mem=$kb
    done
    echo "$best $mem"
}

read -r floor _ < <(measure "$RUNS" cat "$CAP")
echo "read floor (cat): ${floor}s"
echo
echo "| command line | dorsal s | tshark s | tshark/dorsal | dorsal/cat | dorsal MB | tshark MB |"
echo "|---|---:|---:|---:|---:|---:|---:|"

# run_case LABEL ARGS...: "@" in ARGS stands for a per-program scratch dir.
run_case() {
    local label=$1; shift
    local d dm t tm ratio
    read -r d dm < <(CLEAN="$OUT/eo-dorsal" measure "$RUNS" \
        ./target/release/dorsal -r "$CAP" "${@//@/$OUT/eo-dorsal}")
    if command -v tshark >/dev/null 2>&1 && [ "$TSHARK_RUNS" -gt 0 ]; then
        read -r t tm < <(CLEAN="$OUT/eo-tshark" measure "$TSHARK_RUNS" \
            tshark -r "$CAP" "${@//@/$OUT/eo-tshark}")
        ratio=$(awk "BEGIN{ if ($d > 0) printf \"%.1fx\", $t / $d; else print \"-\" }")
    else
        t="-"; tm=0; ratio="-"
    fi
    floor_ratio=$(awk "BEGIN{ if ($floor > 0) printf \"%.1fx\", $d / $floor; else print \"-\" }")
    printf '| `%s` | %s | %s | %s | %s | %d | %d |\n' "$label" "$d" "$t" "$ratio" "$floor_ratio" $((dm / 1024)) $((tm / 1024))
}

L2L4=(-T fields -e frame.number -e eth.src -e ip.src -e ip.dst -e ip.proto -e tcp.srcport -e tcp.dstport -e tcp.stream -e tcp.seq -e udp.port)
run_case "-T fields -e frame.number" -T fields -e frame.number
run_case "L2-L4 row (10 eth/ip/tcp/udp fields)" "${L2L4[@]}"
run_case "-Y http.request -e http.host -e http.request.uri" -Y http.request -T fields -e http.host -e http.request.uri
run_case "-Y dns.flags.response == 0 -e dns.qry.name" -Y "dns.flags.response == 0" -T fields -e dns.qry.name
run_case "-Y tls.handshake.type == 1 -e tls...server_name" -Y "tls.handshake.type == 1" -T fields -e tls.handshake.extensions_server_name
run_case "-q -z io,phs" -q -z io,phs
run_case "--export-objects http,DIR -q" --export-objects "http,@" -q
rm -rf "$OUT/eo-dorsal" "$OUT/eo-tshark"
sync

# Cores: the L2-L4 row on one worker thread against the default (one per
# core), alternating so that a slower spell of the machine hits both.
one="" all=""
for _ in $(seq "$RUNS"); do
    read -r a _ < <(measure 1 ./target/release/dorsal -j 1 -r "$CAP" "${L2L4[@]}")
    read -r b _ < <(measure 1 ./target/release/dorsal -r "$CAP" "${L2L4[@]}")
    if [ -z "$one" ] || awk "BEGIN{exit !($a < $one)}"; then one=$a; fi
    if [ -z "$all" ] || awk "BEGIN{exit !($b < $all)}"; then all=$b; fi
done
echo
echo "L2-L4 row: -j 1 ${one}s, -j $(nproc) ${all}s: $(awk "BEGIN{ if ($all > 0) printf \"%.2fx\", $one / $all; else print \"-\" }") with $(nproc) cores"
