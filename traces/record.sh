#!/usr/bin/env bash
# traces/record.sh — record ixwasm's bundled captures from real Linux programs.
#
# Run as root on a Debian machine with: tcpdump tshark(editcap) ethtool
# iproute2 iputils-ping curl netcat-openbsd socat memcached
# libmemcached-tools python3.
#
#   sudo traces/record.sh            # writes traces/*.pcap, *.pcapng
#   sudo traces/expected/make-expected.sh   # then refresh the expectations
#
# What it does: two fresh network namespaces (client, server) joined by one
# veth pair, 198.18.0.1/24 <-> 198.18.0.2/24 and fd00:198:18::1/64 <->
# fd00:198:18::2/64, fixed MAC addresses, checksum/segmentation offloads off
# (so every recorded frame is a real <= MTU frame with a real checksum).
# tcpdump runs on the server-side veth while real programs talk; nothing
# leaves the two namespaces.  Every namespace, device, process and temp file
# it creates is removed on exit (trap), whatever happens.
#
# Payloads and sizes are fixed, so re-recording gives the same packets
# modulo timestamps, ISNs, ports, TCP timestamps, IP IDs, HTTP Date headers
# and ping payload clocks (and, rarely, different segmentation of a burst).
#
# Env: IXW_REC_OUT=dir  write captures there instead of traces/.
set -euo pipefail
REC_NAME=record.sh
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${IXW_REC_OUT:-$HERE}
# shellcheck source=record-lib.sh
source "$HERE/record-lib.sh"
rec_require curl nc socat ping memcached memccp memccat memcrm memcexist memctouch memcping memcflush
topology_up

# ---------------------------------------------------------------- content
mkdir -p "$WORK/www" "$WORK/mc" "$WORK/out"
printf '<!doctype html>\n<title>ixwasm</title>\n<p>ixwasm test server</p>\n' >"$WORK/www/index.html"
touch -d '2024-01-01 00:00:00 UTC' "$WORK/www/index.html"
gen "$WORK/www/b100.bin" 100 http100
gen "$WORK/www/b5k.bin" 5000 http5k
gen "$WORK/www/b60k.bin" 60000 http60k
gen "$WORK/echo100k.bin" 102400 echo
gen "$WORK/mc/small.txt" 64 mcsmall
gen "$WORK/mc/blob20k.bin" 20000 mcblob
httpd_script "$WORK/httpd.py"

# ---------------------------------------------------------------- http-kernel.pcap
log "http-kernel.pcap: curl -> python3 http.server (HTTP/1.1)"
serve httpd "$PY" "$WORK/httpd.py" "$WORK/www" $S4 80
wait_listen tcp 80
cap_start http-kernel.pcap
for f in b100.bin b5k.bin b60k.bin; do
  cli curl -sS --fail -o "$WORK/out/$f" "http://$S4/$f"
  same "$WORK/www/$f" "$WORK/out/$f"
  sleep 0.2
done
# one keep-alive connection carrying two requests
conns=$(cli curl -sS --fail -o "$WORK/out/ka1" -o "$WORK/out/ka2" -w '%{num_connects} ' \
  "http://$S4/index.html" "http://$S4/b5k.bin")
[[ $conns == "1 0 " ]] || { log "keep-alive not reused (num_connects: $conns)"; exit 1; }
same "$WORK/www/index.html" "$WORK/out/ka1"
same "$WORK/www/b5k.bin" "$WORK/out/ka2"
sleep 0.2
# a 404: the server answers with "Connection: close" and closes first
code=$(cli curl -sS -o /dev/null -w '%{http_code}' "http://$S4/missing")
[[ $code == 404 ]] || { log "expected 404, got $code"; exit 1; }
sleep 0.2
cap_stop
unserve

# ---------------------------------------------------------------- nc-echo.pcap (ns)
log "nc-echo.pcap: nc -> socat TCP echo (EXEC:cat), nanosecond timestamps"
serve echo socat TCP4-LISTEN:7,bind=$S4,reuseaddr,fork EXEC:cat
wait_listen tcp 7
for i in 1 2 3 4 5; do printf 'message %d: the quick brown fox jumps over the lazy dog\n' $i; done >"$WORK/msgs.txt"
cap_start nc-echo.pcap nano
{ for i in 1 2 3 4 5; do sed -n "${i}p" "$WORK/msgs.txt"; sleep 0.2; done; } \
  | cli nc -N $S4 7 >"$WORK/out/msgs.txt"
same "$WORK/msgs.txt" "$WORK/out/msgs.txt"
sleep 0.2
cli nc -N $S4 7 <"$WORK/echo100k.bin" >"$WORK/out/echo100k.bin"
same "$WORK/echo100k.bin" "$WORK/out/echo100k.bin"
sleep 0.2
cap_stop
unserve

# ---------------------------------------------------------------- memcached
mc_start() {
  serve memcached memcached -u nobody -l $S4 -p 11211 -U 0 -m 16 -t 1
  wait_listen tcp 11211
}
MCS=--servers=$S4:11211

log "memcached-ascii.pcap: libmemcached tools + nc, ASCII protocol"
mc_start
cap_start memcached-ascii.pcap
cli memcping $MCS
cli memccp $MCS "$WORK/mc/small.txt" "$WORK/mc/blob20k.bin"
cli memccat $MCS small.txt >"$WORK/out/small.txt"
same_nl "$WORK/mc/small.txt" "$WORK/out/small.txt"
cli memccat $MCS blob20k.bin >"$WORK/out/blob20k.bin"
same_nl "$WORK/mc/blob20k.bin" "$WORK/out/blob20k.bin"
cli memcexist $MCS small.txt
cli memctouch $MCS --expire=300 small.txt
cli memcrm $MCS small.txt
sleep 0.2
# nc session 1: set, get, gets (learn the CAS unique)
{ printf 'set greeting 0 0 11\r\nhello world\r\n'; sleep 0.1
  printf 'get greeting\r\n'; sleep 0.1
  printf 'gets greeting\r\n'; sleep 0.1
  printf 'quit\r\n'; } | cli nc -N $S4 11211 >"$WORK/out/mc1.txt"
casid=$(tr -d '\r' <"$WORK/out/mc1.txt" | awk '$1 == "VALUE" && NF == 5 {print $5; exit}')
[[ $casid =~ ^[0-9]+$ ]] || { log "no CAS unique in: $(cat "$WORK/out/mc1.txt")"; exit 1; }
sleep 0.2
# nc session 2: cas ok / cas stale, incr/decr, append, multi-get, delete, miss, version
{ printf 'cas greeting 0 0 5 %s\r\nhowdy\r\n' "$casid"; sleep 0.1
  printf 'cas greeting 0 0 5 %s\r\nagain\r\n' "$casid"; sleep 0.1
  printf 'set counter 0 0 2\r\n41\r\n'; sleep 0.1
  printf 'incr counter 1\r\n'; sleep 0.1
  printf 'decr counter 2\r\n'; sleep 0.1
  printf 'append greeting 0 0 6\r\n there\r\n'; sleep 0.1
  printf 'get greeting counter\r\n'; sleep 0.1
  printf 'delete greeting\r\n'; sleep 0.1
  printf 'get greeting\r\n'; sleep 0.1
  printf 'delete nosuchkey\r\n'; sleep 0.1
  printf 'version\r\n'; sleep 0.1
  printf 'quit\r\n'; } | cli nc -N $S4 11211 >"$WORK/out/mc2.txt"
tr -d '\r' <"$WORK/out/mc2.txt" | tr '\n' ' ' | grep -q '^STORED EXISTS STORED 42 40 STORED VALUE greeting 0 11 howdy there VALUE counter 0 2 40 END DELETED END NOT_FOUND VERSION' \
  || { log "unexpected memcached replies: $(tr -d '\r' <"$WORK/out/mc2.txt" | tr '\n' ' ')"; exit 1; }
sleep 0.2
cap_stop
unserve

log "memcached-binary.pcap: libmemcached tools --binary + nc with raw binary frames"
mc_start
cap_start memcached-binary.pcap
cli memcping $MCS   # (memcping has no --binary switch: ASCII "version" probe)
cli memccp --binary $MCS "$WORK/mc/small.txt" "$WORK/mc/blob20k.bin"
cli memccat --binary $MCS small.txt >"$WORK/out/bsmall.txt"
same_nl "$WORK/mc/small.txt" "$WORK/out/bsmall.txt"
cli memccat --binary $MCS blob20k.bin >"$WORK/out/bblob20k.bin"
same_nl "$WORK/mc/blob20k.bin" "$WORK/out/bblob20k.bin"
cli memcexist --binary $MCS small.txt
cli memctouch --binary $MCS --expire=300 small.txt
cli memcrm --binary $MCS small.txt
cli memcflush --binary $MCS
sleep 0.2
# Raw binary protocol through nc: 24-byte header (magic 0x80, opcode, key
# length, extras length, data type, vbucket, body length, opaque, cas).
# One printf (one write) per request.
Z8='\x00\x00\x00\x00\x00\x00\x00\x00'
{ # INCREMENT (0x05) "counter", delta 5, initial 10, expiry 0 -> 10
  printf "\x80\x05\x00\x07\x14\x00\x00\x00\x00\x00\x00\x1b\x00\x00\x00\x01$Z8\
\x00\x00\x00\x00\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00\x0a\x00\x00\x00\x00counter"; sleep 0.1
  # INCREMENT again -> 15
  printf "\x80\x05\x00\x07\x14\x00\x00\x00\x00\x00\x00\x1b\x00\x00\x00\x02$Z8\
\x00\x00\x00\x00\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00\x0a\x00\x00\x00\x00counter"; sleep 0.1
  # GET (0x00) "missing" -> Not found
  printf "\x80\x00\x00\x07\x00\x00\x00\x00\x00\x00\x00\x07\x00\x00\x00\x03${Z8}missing"; sleep 0.1
  # VERSION (0x0b)
  printf "\x80\x0b\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x04$Z8"; sleep 0.1
  # QUIT (0x07): the server answers and closes
  printf "\x80\x07\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x05$Z8"; sleep 0.1
} | cli nc -N $S4 11211 >"$WORK/out/mcb.bin"
# expect 5 responses: incr -> 10, incr -> 15, get -> status 1 (not found), version, quit
"$PY" - "$WORK/out/mcb.bin" <<'EOF2' || { log "unexpected binary replies"; exit 1; }
import struct, sys
d, got = open(sys.argv[1], "rb").read(), []
while len(d) >= 24:
    magic, op, _, _, _, status, blen = struct.unpack(">BBHBBHI", d[:12])
    body, d = d[24:24 + blen], d[24 + blen:]
    got.append((op, status, struct.unpack(">Q", body)[0] if op == 5 else None))
want = [(5, 0, 10), (5, 0, 15), (0, 1, None), (11, 0, None), (7, 0, None)]
sys.exit(0 if got == want and not d else "got %r" % got)
EOF2
sleep 0.2
cap_stop
unserve

# ---------------------------------------------------------------- udp-echo-v6.pcapng
log "udp-echo-v6.pcapng: ARP/ND, ping/ping -6, UDP echo v4+v6 (incl. fragments), TCP over IPv6, ICMP errors"
ip -n "$NSC" neigh del $S4 dev "$VC"
ip -n "$NSS" neigh del $C4 dev "$VS"
ip -n "$NSC" neigh del $S6 dev "$VC"
ip -n "$NSS" neigh del $C6 dev "$VS"
serve udp6 socat -T 1 UDP6-RECVFROM:7,bind=[$S6],fork PIPE
serve udp4 socat -T 1 UDP4-RECVFROM:7,bind=$S4,fork PIPE
serve tcp6 socat TCP6-LISTEN:7,bind=[$S6],reuseaddr,fork EXEC:cat
wait_listen udp 7
wait_listen tcp 7
sleep 0.5
printf 'udp over ipv6\n' >"$WORK/u6.txt"
printf 'udp over ipv4\n' >"$WORK/u4.txt"
printf 'tcp over ipv6: hello\n' >"$WORK/t6.txt"
gen "$WORK/big3000.bin" 3000 frag
cap_start udp-echo-v6.pcapng.tmp nano
cli ping -c 3 -i 0.2 -W 2 $S4 >/dev/null          # ARP first, then 3 echo/reply pairs
cli ping -6 -c 3 -i 0.2 -W 2 $S6 >/dev/null       # neighbour solicitation/advert, then echoes
sleep 0.2
cli socat -T 1 - UDP6:[$S6]:7 <"$WORK/u6.txt" >"$WORK/out/u6.txt"
same "$WORK/u6.txt" "$WORK/out/u6.txt"
cli socat -T 1 - UDP4:$S4:7 <"$WORK/u4.txt" >"$WORK/out/u4.txt"
same "$WORK/u4.txt" "$WORK/out/u4.txt"
# 3000-byte datagrams: IPv6 fragment extension headers / IPv4 fragments, both ways
cli socat -T 1 - UDP6:[$S6]:7 <"$WORK/big3000.bin" >"$WORK/out/big6.bin"
same "$WORK/big3000.bin" "$WORK/out/big6.bin"
cli socat -T 1 - UDP4:$S4:7 <"$WORK/big3000.bin" >"$WORK/out/big4.bin"
same "$WORK/big3000.bin" "$WORK/out/big4.bin"
cli nc -6 -N $S6 7 <"$WORK/t6.txt" >"$WORK/out/t6.txt"
same "$WORK/t6.txt" "$WORK/out/t6.txt"
sleep 0.2
# closed UDP ports: ICMPv6 / ICMP port unreachable quoting the datagram
for dst in "UDP6:[$S6]:9" "UDP4:$S4:9"; do
  rc=0
  printf 'nobody listens here\n' | cli socat -T 0.5 - "$dst" 2>"$WORK/unreach.log" || rc=$?
  # socat must see ECONNREFUSED (the ICMP error) and fail
  (( rc != 0 )) && grep -q 'Connection refused' "$WORK/unreach.log" \
    || { log "no port unreachable for $dst (rc $rc): $(cat "$WORK/unreach.log")"; exit 1; }
  sleep 0.3
done
sleep 0.2
cap_stop
unserve
editcap -F pcapng "$WORK/udp-echo-v6.pcapng.tmp" "$WORK/udp-echo-v6.pcapng"

# ---------------------------------------------------------------- install
for f in http-kernel.pcap nc-echo.pcap memcached-ascii.pcap memcached-binary.pcap udp-echo-v6.pcapng; do
  sz=$(stat -c %s "$WORK/$f")
  (( sz < 300 * 1024 )) || { log "$f is too large ($sz bytes)"; exit 1; }
  install -m 0644 "$WORK/$f" "$OUT/$f"
  log "wrote $OUT/$f ($sz bytes)"
done
