#!/usr/bin/env bash
# traces/record-servers.sh — record real Linux servers whose write patterns
# differ, for serve's fidelity checks (test/serve/servers.test.ts):
#
#   http-python.pcap    python3 http.server: files of 300 B–256 KB, each sent in
#                       64 KiB writes (a short segment ends every write)
#   http-nginx.pcap     nginx, sendfile on, keep-alive: four files per connection
#                       on four connections, and two 1 MB files
#   redis-pipeline.pcap redis-server under redis-benchmark, 16 commands
#                       pipelined per write, LRANGE replies of several KB
#   small-writes.pcap   a server writing lines of 20–300 bytes, back to back
#                       and with pauses (Nagle on: the kernel merges some)
#   bulk-socat.pcap     socat streaming a 1.5 MB file in 8 KiB writes
#
# Run as root on Debian with: tcpdump tshark(editcap) ethtool iproute2 curl
# nginx-light redis-server (redis-benchmark) socat netcat-openbsd python3.
#   sudo traces/record-servers.sh
# Same topology as record.sh (record-lib.sh): two namespaces, one veth pair,
# offloads off, tcpdump on the server's end; nothing leaves the namespaces.
# Env: IXW_REC_OUT=dir  write captures there instead of traces/servers/.
set -euo pipefail
REC_NAME=record-servers.sh
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${IXW_REC_OUT:-$HERE/servers}
# shellcheck source=record-lib.sh
source "$HERE/record-lib.sh"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
rec_require curl nc socat redis-server redis-benchmark "$NGINX"
topology_up

mkdir -p "$WORK/www" "$WORK/out" "$WORK/nginx"

# ---------------------------------------------------------------- http-python.pcap
# SimpleHTTPRequestHandler copies a file with shutil.copyfileobj (64 KiB reads,
# one sendall each): at MSS 1448 every 64 KiB write ends in a 376-byte segment.
PY_SIZES="300 1000 4000 12000 30000 65536 70000 100000 131072 150000 200000 210000 230000 262144"
for s in $PY_SIZES; do gen "$WORK/www/p$s.bin" "$s" "py$s"; done
httpd_script "$WORK/httpd.py"
log "http-python.pcap: curl -> python3 http.server, ${PY_SIZES// /, } bytes"
serve httpd "$PY" "$WORK/httpd.py" "$WORK/www" $S4 8000
wait_listen tcp 8000
cap_start http-python.pcap
for s in $PY_SIZES; do
  cli curl -sS --fail -o "$WORK/out/p$s.bin" "http://$S4:8000/p$s.bin"
  same "$WORK/www/p$s.bin" "$WORK/out/p$s.bin"
done
cap_stop
unserve

# ---------------------------------------------------------------- http-nginx.pcap
for s in 5000 40000 150000 300000; do gen "$WORK/www/n$s.bin" "$s" "ngx$s"; done
gen "$WORK/www/n1m.bin" 1048576 ngx1m
cat >"$WORK/nginx/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 64; }
http {
  access_log off;
  sendfile on;
  tcp_nopush off;
  keepalive_timeout 30;
  keepalive_requests 100;
  client_body_temp_path $WORK/nginx;
  proxy_temp_path $WORK/nginx;
  fastcgi_temp_path $WORK/nginx;
  uwsgi_temp_path $WORK/nginx;
  scgi_temp_path $WORK/nginx;
  server {
    listen $S4:80;
    root $WORK/www;
  }
}
EOF
log "http-nginx.pcap: curl -> nginx (sendfile, keep-alive)"
serve nginx "$NGINX" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log"
wait_listen tcp 80
cap_start http-nginx.pcap
for c in 1 2 3 4; do
  urls=() outs=()
  for s in 5000 40000 150000 300000; do urls+=("http://$S4/n$s.bin"); outs+=(-o "$WORK/out/n$s.$c"); done
  conns=$(cli curl -sS --fail "${outs[@]}" -w '%{num_connects} ' "${urls[@]}")
  [[ $conns == "1 0 0 0 " ]] || { log "keep-alive not reused (num_connects: $conns)"; exit 1; }
  for s in 5000 40000 150000 300000; do same "$WORK/www/n$s.bin" "$WORK/out/n$s.$c"; done
done
for c in 1 2; do
  cli curl -sS --fail -o "$WORK/out/n1m.$c" "http://$S4/n1m.bin"
  same "$WORK/www/n1m.bin" "$WORK/out/n1m.$c"
done
cap_stop
unserve

# ---------------------------------------------------------------- redis-pipeline.pcap
log "redis-pipeline.pcap: redis-benchmark -P 16 -> redis-server"
serve redis redis-server --bind $S4 --port 6379 --save '' --appendonly no --protected-mode no
wait_listen tcp 6379
cap_start redis-pipeline.pcap
cli redis-benchmark -h $S4 -p 6379 -c 4 -n 800 -P 16 -d 64 -r 500 -q \
  -t ping_mbulk,set,get,incr,lpush >"$WORK/out/redis.txt"
cli redis-benchmark -h $S4 -p 6379 -c 2 -n 64 -P 16 -d 64 -q -t lrange_100 >>"$WORK/out/redis.txt"
grep -q 'LRANGE' "$WORK/out/redis.txt" || { log "redis-benchmark: $(cat "$WORK/out/redis.txt")"; exit 1; }
cap_stop
unserve

# ---------------------------------------------------------------- small-writes.pcap
# One write per line, Nagle on: lines written while earlier ones are unacknowledged
# wait and leave together (RFC 9293 §3.7.4), pauses let single lines go alone.
cat >"$WORK/lines.py" <<'EOF'
import socket, sys, time
srv = socket.create_server((sys.argv[1], int(sys.argv[2])))
for conn_no in range(3):
    c, _ = srv.accept()
    c.recv(64)  # the client's hello
    for i in range(120):
        n = 20 + (i * 37 + conn_no * 11) % 280
        c.sendall((b"c%d line %03d " % (conn_no, i)).ljust(n - 1, b"x") + b"\n")
        if i % 10 == 9:
            time.sleep(0.02)
    c.sendall(b"bye\n")
    c.close()
EOF
log "small-writes.pcap: nc -> a python server writing 20–300-byte lines"
serve lines "$PY" "$WORK/lines.py" $S4 7000
wait_listen tcp 7000
cap_start small-writes.pcap
for c in 0 1 2; do
  printf 'hello\n' | cli nc -N $S4 7000 >"$WORK/out/lines.$c"
  [[ $(tail -n 1 "$WORK/out/lines.$c") == bye && $(wc -l <"$WORK/out/lines.$c") -eq 121 ]] \
    || { log "small-writes: connection $c ended early"; exit 1; }
done
cap_stop
unserve

# ---------------------------------------------------------------- bulk-socat.pcap
gen "$WORK/bulk.bin" 1572864 bulk
log "bulk-socat.pcap: nc <- socat streaming 1.5 MB (8 KiB writes), twice"
serve bulk socat -b 8192 TCP4-LISTEN:9000,bind=$S4,reuseaddr,fork OPEN:"$WORK/bulk.bin",rdonly
wait_listen tcp 9000
cap_start bulk-socat.pcap
for c in 1 2; do
  cli nc -d $S4 9000 >"$WORK/out/bulk.$c" </dev/null
  same "$WORK/bulk.bin" "$WORK/out/bulk.$c"
done
cap_stop
unserve

# ---------------------------------------------------------------- install
for f in http-python.pcap http-nginx.pcap redis-pipeline.pcap small-writes.pcap bulk-socat.pcap; do
  sz=$(stat -c %s "$WORK/$f")
  (( sz < 8 * 1024 * 1024 )) || { log "$f is too large ($sz bytes)"; exit 1; }
  install -m 0644 "$WORK/$f" "$OUT/$f"
  log "wrote $OUT/$f ($sz bytes)"
done
