# traces/record-lib.sh — what the recording scripts share: two fresh network
# namespaces joined by one veth pair (offloads off, static neighbours), servers
# started and stopped by PID, tcpdump on the server-side veth with a check that
# nothing was lost, deterministic content. Sourced by record.sh and
# record-servers.sh after they set REC_NAME (the name in log lines).
#
#   rec_require TOOL...   root and the tools, or exit with the missing one
#   topology_up           namespaces $NSC/$NSS, veth $VC <-> $VS, addresses
#                         198.18.0.1/24 <-> 198.18.0.2/24 (+ fd00:198:18::1/2)
# Every namespace, device, process and temp file is removed on exit (trap).
export LC_ALL=C
: "${REC_NAME:=record}"

rec_require() {
  [[ $(id -u) -eq 0 ]] || { echo "$REC_NAME: must run as root (namespaces, tcpdump)" >&2; exit 1; }
  local t
  for t in ip tcpdump tshark editcap ethtool timeout "$@"; do
    command -v "$t" >/dev/null || { echo "$REC_NAME: missing tool '$t' (apt-get install it)" >&2; exit 1; }
  done
}
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

log() { printf '%s: %s\n' "$REC_NAME" "$*" >&2; }

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
  # The previous capture's log says 'listening on' too: remove it first, or the
  # wait below can see it before the new tcpdump has truncated the file.
  rm -f "$WORK/tcpdump.log"
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

httpd_script() {      # httpd_script FILE: python's http.server, HTTP/1.1 (keep-alive), quiet;
  # `python3 FILE DIR ADDR PORT` serves DIR (SimpleHTTPRequestHandler: files in 64 KiB writes)
  cat >"$1" <<'EOF'
import http.server, os, sys
class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args):
        pass
os.chdir(sys.argv[1])
http.server.ThreadingHTTPServer((sys.argv[2], int(sys.argv[3])), Handler).serve_forever()
EOF
}

same() {              # same EXPECTED ACTUAL — fail loudly if an exchange went wrong
  cmp -s "$1" "$2" || { log "mismatch: $2 differs from $1"; exit 1; }
}

topology_up() {
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
}
