#!/usr/bin/env bash
# Checks that `-j 2` prints what `-j 1` prints, byte for byte, on every
# capture under a directory (default: the shared corpus), for a wide field
# row and for a filtered one. Prints the captures that differ.
#
#   bench/compare-jobs.sh [DIR] [BIN]
set -uo pipefail
DIR=${1:-../shared/corpus}
BIN=${2:-target/release/dorsal}
FIELDS=(frame.number frame.protocols frame.time_delta_displayed ip.src ip.dst
    ip.reassembled_in tcp.stream tcp.seq tcp.ack tcp.analysis.flags
    tcp.reassembled_in udp.stream icmp.resp_in dns.qry.name dns.response_in
    http.request.uri http.response_in tls.handshake.type
    tls.handshake.extensions_server_name ftp.request.command ftp-data.command
    smb2.filename)
ARGS=()
for f in "${FIELDS[@]}"; do ARGS+=(-e "$f"); done
L2L4=(-e frame.number -e eth.src -e ip.src -e ip.dst -e tcp.stream -e tcp.seq
    -e udp.stream -e frame.time_delta_displayed)
checked=0 differ=0
while IFS= read -r -d '' cap; do
    checked=$((checked + 1))
    for run in wide filtered l2l4; do
        case $run in
            wide) a=(-T fields "${ARGS[@]}") ;;
            filtered) a=(-Y "tcp.len > 0 || dns" -T fields "${ARGS[@]}") ;;
            l2l4) a=(-T fields "${L2L4[@]}") ;;
        esac
        one=$(timeout 60 "$BIN" -j 1 -r "$cap" "${a[@]}" 2>&1; echo "rc=$?")
        two=$(timeout 60 "$BIN" -j 2 -r "$cap" "${a[@]}" 2>&1; echo "rc=$?")
        if [ "$one" != "$two" ]; then
            echo "DIFFERS ($run): $cap"
            differ=$((differ + 1))
        fi
    done
done < <(find "$DIR" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' \
    -o -name '*.pcap.gz' -o -name '*.pcapng.gz' \) -print0 | sort -z)
echo "$checked captures, $differ runs differ"
[ "$differ" -eq 0 ]
