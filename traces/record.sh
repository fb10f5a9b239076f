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
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${IXW_REC_OUT:-$HERE}

[[ $(id -u) -eq 0 ]] || { echo "record.sh: must run as root (namespaces, tcpdump)" >&2; exit 1; }
for t in ip tcpdump tshark editcap ethtool curl nc socat ping memcached memccp memccat \
         memcrm memcexist memctouch memcping memcflush timeout; do
  command -v "$t" >/dev/null || { echo "record.sh: missing tool '$t' (apt-get install it)" >&2; exit 1; }
done
PY=/usr/bin/python3
[[ -x $PY ]] || PY=$(command -v python3)

PFX=ixw-rec-$$
NSC=$PFX-c            # client namespace
NSS=$PFX-s            # server namespace
VC=ixwc$$             # client end of the veth pair (<= 15 chars)
VS=ixws$$             # server end; tcpdump listens here
MACC=02:00:c6:12:00:01
MACS=02:00:c6:12:00:02
C4=198.18.0.1 S4=198.18.0.2
C6=fd00:198:18::1 S6=fd00:198:18::2
WORK=$(mktemp -d /tmp/ixw-rec.XXXXXX)
PIDS=()               # every background process we started
TCPDUMP_PID=

log() { printf 'record.sh: %s\n' "$*" >&2; }

stop_pid() {          # stop_pid PID [SIGNAL] — bounded: TERM/INT, 5 s, then KILL
  local pid=$1 sig=${2:-TERM} i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -"$sig" "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  set +e
  local p
  [[ -n $TCPDUMP_PID ]] && stop_pid "$TCPDUMP_PID" INT
  for p in "${PIDS[@]}"; do stop_pid "$p"; done
  ip netns del "$NSC" 2>/dev/null     # deleting a namespace removes its veth end
  ip netns del "$NSS" 2>/dev/null
  ip link del "$VC" 2>/dev/null       # only if it was left in the root namespace
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

inc() { ip netns exec "$NSC" "$@"; }         # run in the client namespace
ins() { ip netns exec "$NSS" "$@"; }         # run in the server namespace
cli() { ip netns exec "$NSC" timeout 20 "$@"; }   # a bounded client command

serve() {             # serve NAME CMD... — start a server in the server namespace
  local name=$1; shift
  ip netns exec "$NSS" "$@" >"$WORK/$name.log" 2>&1 &
  PIDS+=($!)
  LAST_PID=$!
}

unserve() {           # stop every server started so far
  local p
  for p in "${PIDS[@]}"; do stop_pid "$p"; done
  PIDS=()
}

wait_listen() {       # wait_listen tcp|udp PORT — up to 5 s
  local opt=-ltnH i
  [[ $1 == udp ]] && opt=-lunH
  for ((i = 0; i < 50; i++)); do
    ins ss $opt "sport = :$2" | grep -q . && return 0
    sleep 0.1
  done
  log "server on $1/$2 did not come up"; return 1
}

cap_start() {         # cap_start FILE [nano]
  local prec=()
  [[ ${2:-} == nano ]] && prec=(--time-stamp-precision nano)
  CAP_FILE=$WORK/$1
  # --immediate-mode: with TPACKET_V3 libpcap otherwise hands packets over
  # only when a ring block fills or its 1 s timeout expires, and a SIGINT
  # inside that window silently loses the tail of the capture.
  ip netns exec "$NSS" tcpdump -i "$VS" -s 0 -U -n -Z root --immediate-mode "${prec[@]}" \
    -w "$CAP_FILE" 2>"$WORK/tcpdump.log" &
  TCPDUMP_PID=$!
  local i
  for ((i = 0; i < 50; i++)); do
    grep -q 'listening on' "$WORK/tcpdump.log" && break
    sleep 0.1
  done
  grep -q 'listening on' "$WORK/tcpdump.log" || { cat "$WORK/tcpdump.log" >&2; exit 1; }
  sleep 0.3
}

cap_stop() {          # flush, stop tcpdump with SIGINT, check nothing was lost
  sleep 1.5
  stop_pid "$TCPDUMP_PID" INT
  TCPDUMP_PID=
  grep -E 'captured|dropped' "$WORK/tcpdump.log" | sed 's/^/    tcpdump: /' >&2 || true
  grep -q '^0 packets dropped by kernel' "$WORK/tcpdump.log" || { log "tcpdump dropped packets"; exit 1; }
  local said inside
  said=$(awk '/packets captured/ {print $1}' "$WORK/tcpdump.log")
  inside=$(tshark -r "$CAP_FILE" -T fields -e frame.number 2>/dev/null | wc -l)
  [[ $said == "$inside" ]] || { log "tcpdump said $said packets, file holds $inside"; exit 1; }
}

gen() {               # gen FILE SIZE TAG — deterministic printable content
  "$PY" - "$1" "$2" "$3" <<'EOF'
import sys
path, size, tag = sys.argv[1], int(sys.argv[2]), sys.argv[3]
out, i = bytearray(), 0
while len(out) < size:
    out += b"%s line %05d abcdefghijklmnopqrstuvwxyz 0123456789\n" % (tag.encode(), i)
    i += 1
open(path, "wb").write(bytes(out[:size]))
EOF
  touch -d '2024-01-01 00:00:00 UTC' "$1"
}

same_nl() {           # same_nl EXPECTED ACTUAL — memccat prints the value plus "\n"
  { cat "$1"; printf '\n'; } >"$1.nl"
  same "$1.nl" "$2"
}

same() {              # same EXPECTED ACTUAL — fail loudly if an exchange went wrong
  cmp -s "$1" "$2" || { log "mismatch: $2 differs from $1"; exit 1; }
}

# ---------------------------------------------------------------- topology
log "namespaces $NSC / $NSS, veth $VC <-> $VS"
ip netns add "$NSC"
ip netns add "$NSS"
for ns in "$NSC" "$NSS"; do
  # no router solicitations / DAD chatter on the new links
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.router_solicitations=0 \
    net.ipv6.conf.all.router_solicitations=0 net.ipv6.conf.default.accept_dad=0 \
    net.ipv6.conf.all.accept_dad=0
  ip -n "$ns" link set lo up
done
ip link add "$VC" netns "$NSC" address $MACC type veth peer name "$VS" netns "$NSS" address $MACS
# Offloads off on both ends: no TSO/GSO super-frames, no partial checksums.
inc ethtool -K "$VC" tx off sg off tso off gso off gro off >/dev/null 2>&1 || true
ins ethtool -K "$VS" tx off sg off tso off gso off gro off >/dev/null 2>&1 || true
for dev in "$VC:$NSC" "$VS:$NSS"; do
  d=${dev%%:*} n=${dev#*:}
  ip netns exec "$n" ethtool -k "$d" | grep -E '^(tx-checksumming|tcp-segmentation-offload|generic-segmentation-offload|generic-receive-offload):' \
    | grep -q ': on' && { log "offloads still on for $d"; exit 1; }
done
ip -n "$NSC" addr add $C4/24 dev "$VC"
ip -n "$NSS" addr add $S4/24 dev "$VS"
ip -n "$NSC" addr add $C6/64 dev "$VC" nodad
ip -n "$NSS" addr add $S6/64 dev "$VS" nodad
ip -n "$NSC" link set "$VC" up
ip -n "$NSS" link set "$VS" up
# Static neighbours: no ARP/ND in the TCP captures (udp-echo-v6 removes them
# again so that it records real ARP and neighbour discovery).
ip -n "$NSC" neigh replace $S4 lladdr $MACS dev "$VC" nud permanent
ip -n "$NSS" neigh replace $C4 lladdr $MACC dev "$VS" nud permanent
ip -n "$NSC" neigh replace $S6 lladdr $MACS dev "$VC" nud permanent
ip -n "$NSS" neigh replace $C6 lladdr $MACC dev "$VS" nud permanent
sleep 3   # let link-up MLD reports die down before the first capture

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
cat >"$WORK/httpd.py" <<'EOF'
# Minimal HTTP/1.1 (keep-alive capable) static server for the recording.
import http.server, os, sys
class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args):
        pass
os.chdir(sys.argv[1])
http.server.ThreadingHTTPServer((sys.argv[2], int(sys.argv[3])), Handler).serve_forever()
EOF

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
