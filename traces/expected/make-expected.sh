#!/usr/bin/env bash
# traces/expected/make-expected.sh — tshark-derived expectations for every
# capture in traces/ (see ../README.md).
#
# For each traces/X (X = *.pcap, *.pcapng) it writes
#   expected/X.dump.jsonl     one object per frame, the shape of `ixwasm dump --jsonl`
#   expected/X.inspect.json   the fields of `ixwasm inspect --json`
# and expected/tshark-version.txt.
#
# tshark runs with its built-in defaults (an empty, private configuration
# directory, so no personal preferences leak in), no name resolution (-n),
# and reassembly off, so every frame is decoded on its own:
#   -o tcp.desegment_tcp_streams:FALSE -o ip.defragment:FALSE -o ipv6.defragment:FALSE
# The per-frame command is
#   tshark -n -r X <prefs> -T fields -E header=y -E separator=/t
#          -E occurrence=a -E aggregator=, -e <FIELDS below>
# and the inspect counts are `tshark -n -r X <prefs> -Y <filter>` frame
# counts for the display filters ip, ipv6, tcp and udp.  tshark2expected.py
# turns the fields into JSON (rules in its docstring).
set -euo pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TRACES=$(dirname "$HERE")
command -v tshark >/dev/null || { echo "make-expected.sh: tshark not found (apt-get install tshark)" >&2; exit 1; }
PY=$(command -v python3) || { echo "make-expected.sh: python3 not found" >&2; exit 1; }

TMP=$(mktemp -d /tmp/ixw-expected.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
export WIRESHARK_CONFIG_DIR=$TMP/config     # TShark's defaults, nothing personal
mkdir -p "$WIRESHARK_CONFIG_DIR"

PREFS=(-o tcp.desegment_tcp_streams:FALSE -o ip.defragment:FALSE -o ipv6.defragment:FALSE)
FIELDS=(frame.number frame.time_epoch frame.cap_len frame.len frame.protocols
        ip.src ip.dst ip.proto
        ipv6.src ipv6.dst ipv6.nxt ipv6.hopopts.nxt ipv6.routing.nxt ipv6.fraghdr.nxt ipv6.dstopts.nxt
        tcp.srcport tcp.dstport tcp.flags tcp.seq_raw tcp.ack_raw tcp.len tcp.stream
        udp.srcport udp.dstport udp.length)
EARGS=()
for f in "${FIELDS[@]}"; do EARGS+=(-e "$f"); done

ts() {                # tshark, with the "running as root" banner dropped
  tshark "$@" 2>"$TMP/stderr" || { cat "$TMP/stderr" >&2; return 1; }
  grep -v '^Running as user' "$TMP/stderr" >&2 || true
}

tshark --version 2>/dev/null | head -1 >"$HERE/tshark-version.txt"
shopt -s nullglob
n=0
for cap in "$TRACES"/*.pcap "$TRACES"/*.pcapng; do
  name=$(basename "$cap")
  ts -n -r "$cap" "${PREFS[@]}" -T fields -E header=y -E separator=/t \
     -E occurrence=a -E aggregator=, "${EARGS[@]}" >"$TMP/$name.tsv"
  counts=
  for flt in ip ipv6 tcp udp; do
    c=$(ts -n -r "$cap" "${PREFS[@]}" -Y "$flt" -T fields -e frame.number | wc -l)
    counts+="${counts:+,}$flt=$c"
  done
  "$PY" "$HERE/tshark2expected.py" "$cap" "$TMP/$name.tsv" \
    "$HERE/$name.dump.jsonl" "$HERE/$name.inspect.json" "$counts"
  echo "make-expected.sh: $name: $(wc -l <"$HERE/$name.dump.jsonl") frames ($counts)" >&2
  n=$((n + 1))
done
(( n > 0 )) || { echo "make-expected.sh: no captures in $TRACES" >&2; exit 1; }
