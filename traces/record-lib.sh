# traces/record-lib.sh — what the recording scripts share: two network
# namespaces joined by one veth pair, tcpdump on the server's end, bounded
# process handling and a trap that removes everything on any exit.
# Source it from a script that runs under `set -euo pipefail`:
#
#   REC_NAME=my-script.sh                    # prefix of log lines (default: the script's name)
#   source "$(dirname "${BASH_SOURCE[0]}")/record-lib.sh"
#   rec_need ip tcpdump tshark memcached     # root and these tools, or exit 1
#   rec_topology                             # namespaces, veth, offloads off, addresses, neighbours
#   serve NAME CMD...; wait_listen tcp PORT; cap_start FILE; ...; cap_stop; unserve
#
# Topology: namespaces $NSC (client) and $NSS (server), veth $VC <-> $VS,
# $C4/24 <-> $S4/24 and $C6/64 <-> $S6/64 (198.18.0.0/15 and a ULA prefix,
# so nothing leaves the two namespaces), fixed MAC addresses, permanent
# neighbour entries (no ARP/ND in the captures), router solicitations and DAD
# off, and checksum/segmentation offloads off on both ends (so every recorded
# frame is a real <= MTU frame with a real checksum). Temp files go to $WORK.
export LC_ALL=C
REC_NAME=${REC_NAME:-$(basename "$0")}
PY=/usr/bin/python3
[[ -x $PY ]] || PY=$(command -v python3 || echo python3)

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

rec_need() {          # rec_need TOOL... — root and every tool, or exit 1
  [[ $(id -u) -eq 0 ]] || { log "must run as root (namespaces, tcpdump)"; exit 1; }
  local t
  for t in "$@"; do
    command -v "$t" >/dev/null || { log "missing tool '$t' (apt-get install it)"; exit 1; }
  done
}

rec_topology() {      # the two namespaces and the veth pair (see the header)
  local ns dev d n
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
