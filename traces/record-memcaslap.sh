#!/usr/bin/env bash
# traces/record-memcaslap.sh — record memcaslap-cut.pcap: a memcached load
# generator whose capture stops while every session waits for an answer.
#
# Run as root on a Debian machine with: tcpdump tshark(editcap) ethtool
# iproute2 memcached libmemcached-tools (memcaslap).
#
#   sudo traces/record-memcaslap.sh          # writes traces/memcaslap-cut.pcap
#   sudo traces/expected/make-expected.sh    # then refresh the expectations
#
# The topology is record.sh's (record-lib.sh): two namespaces, one veth pair,
# offloads off, 198.18.0.1 (client) <-> 198.18.0.2 (server), tcpdump on the
# server's end. memcached 1.6 listens on 198.18.0.2:11211; memcaslap runs
# with a time limit (-t 1s), 4 connections (-c 4, one thread), 32-byte
# values (-X 32): 10% set, 90% get of its own keys, one request at a time
# per connection. A one-second run already writes 40,000-85,000 frames (7-15 MB);
# the committed file keeps only the start of it.
#
# Why a cut, and why this one: `ixwasm liveplay` must cope with a capture
# that ends before the server's last answers (tcpdump stopped, or the client
# was killed, while requests were in flight). Stopping tcpdump at the right
# moment is a race, and memcaslap itself ends cleanly (it waits for its
# answers, then FIN), so the script makes the case deterministic instead:
#   1. editcap keeps the first KEEP frames of the full recording (the four
#      handshakes and a few hundred turns per session, < 300 KB);
#   2. for each TCP stream, every frame after its last request (client
#      payload) is deleted too: the answer to that request, and the ACKs.
# So each of the 4 sessions ends with a request whose answer is not in the
# file, and with no FIN or RST: as if the capture had stopped at a different
# moment on each connection. Replayed against a fresh memcached, every
# captured turn gets its captured answer and the live server also answers
# the last request of each session: bytes beyond the capture's end.
#
# Env: IXW_REC_OUT=dir  write the capture there instead of traces/.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${IXW_REC_OUT:-$HERE}
REC_NAME=record-memcaslap.sh
# shellcheck source=record-lib.sh
source "$HERE/record-lib.sh"
rec_require memcached memcaslap
KEEP=1200
NAME=memcaslap-cut.pcap

topology_up
serve memcached memcached -u nobody -l $S4 -p 11211 -U 0 -t 1 -m 16
wait_listen tcp 11211

log "$NAME: memcaslap -t 1s -c 4 -X 32 against memcached"
cap_start full.pcap
cli memcaslap -s $S4:11211 -T 1 -c 4 -t 1s -X 32 >"$WORK/memcaslap.out" 2>&1 \
  || { cat "$WORK/memcaslap.out" >&2; log "memcaslap failed"; exit 1; }
cap_stop
unserve
# memcaslap only reads back its own keys: a miss would mean a lost set
grep -q '^get_misses: 0$' "$WORK/memcaslap.out" || { cat "$WORK/memcaslap.out" >&2; log "memcaslap saw misses"; exit 1; }

# 1. the start of the recording
editcap -F pcap -r "$WORK/full.pcap" "$WORK/head.pcap" "1-$KEEP"
# 2. per stream, the frames after its last request (tshark numbers frames from 1, as editcap does)
tshark -n -r "$WORK/head.pcap" -T fields -e frame.number -e tcp.stream -e tcp.dstport -e tcp.len \
  >"$WORK/frames.tsv" 2>/dev/null
awk -F'\t' '$3 == 11211 && $4 > 0 { last[$2] = $1 } { f[NR] = $1; s[NR] = $2 }
  END { for (i = 1; i <= NR; i++) if (f[i] > last[s[i]]) print f[i] }' "$WORK/frames.tsv" >"$WORK/drop.txt"
# shellcheck disable=SC2046
editcap -F pcap "$WORK/head.pcap" "$WORK/$NAME" $(cat "$WORK/drop.txt")

# checks: 4 sessions from their SYN, each ending with a client request and no FIN/RST
tshark -n -r "$WORK/$NAME" -T fields -e tcp.stream -e tcp.dstport -e tcp.len -e tcp.flags.syn \
  -e tcp.flags.fin -e tcp.flags.reset >"$WORK/check.tsv" 2>/dev/null
awk -F'\t' '{ n[$1]++; lastc[$1] = ($2 == 11211 && $3 > 0); if ($4 == "1") syn[$1]++; if ($5 == "1" || $6 == "1") end[$1]++ }
  END { k = 0; for (s in n) { k++; if (!syn[s] || end[s] || !lastc[s]) exit 1 } exit (k == 4 ? 0 : 1) }' \
  "$WORK/check.tsv" || { log "$NAME: the cut did not leave 4 sessions each ending with an unanswered request"; exit 1; }
log "$NAME: kept $(wc -l <"$WORK/check.tsv") of $(tshark -r "$WORK/full.pcap" -T fields -e frame.number 2>/dev/null | wc -l) frames ($(wc -l <"$WORK/drop.txt") dropped after the last requests)"

sz=$(stat -c %s "$WORK/$NAME")
(( sz < 300 * 1024 )) || { log "$NAME is too large ($sz bytes)"; exit 1; }
install -m 0644 "$WORK/$NAME" "$OUT/$NAME"
log "wrote $OUT/$NAME ($sz bytes)"
