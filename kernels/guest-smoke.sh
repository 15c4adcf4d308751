#!/bin/bash
# Runs inside the VM (the machine's own root, read-only over 9p, chrooted by the initramfs): the
# sample steering real traffic on this kernel. Prints one "SMOKE <check> PASS|FAIL|DEGRADED <detail>" line per check.
set -u
JAR=/work/main/sample-app/target/sksteer-sample-app.jar
export HOME=/tmp
result() { echo "SMOKE $1 $2 ${3:-}"; }
echo "SMOKE kernel INFO $(uname -r)"
unshare -n bash -s <<'INNER'
set -u
result() { echo "SMOKE $1 $2 ${3:-}"; }
JAR=/work/main/sample-app/target/sksteer-sample-app.jar
ip link set lo up
java -XX:TieredStopAtLevel=1 -jar $JAR --sksteer.live-changes.enabled=true --management.endpoint.sksteer.access=unrestricted \
    --sksteer.live-changes.allowed[0].prefixes=2001:db8:77::/64 --sksteer.live-changes.allowed[0].ports=all \
    --logging.level.root=warn --logging.level.io.sksteer=info > /tmp/app.log 2>&1 &
APP=$!
for i in $(seq 1 600); do
  grep -q 'sksteer: program' /tmp/app.log && break
  kill -0 $APP 2>/dev/null || break
  sleep 1
done
if ! grep -q 'sksteer: program' /tmp/app.log; then
  result start FAIL "$(grep -m1 -A3 -E 'Description:|Caused by' /tmp/app.log | tr '\n' ' ' | cut -c1-400)"
  tail -40 /tmp/app.log | sed 's/^/APPLOG /'
  exit 0
fi
for i in $(seq 1 120); do curl -s -o /dev/null --max-time 2 http://127.78.0.1/actuator/health && break; sleep 1; done
result start PASS "$(grep -o 'sksteer: program [0-9]* attached.*rules over [0-9]* listeners' /tmp/app.log | head -1)"
r=$(curl -s --max-time 10 http://127.78.1.2/hello); case "$r" in *'"local":"127.78.1.2:80"'*) result tcp4-web-server PASS "$r";; *) result tcp4-web-server FAIL "$r";; esac
r=$(curl -s --max-time 10 http://127.77.1.2:8123/); case "$r" in 'listener=web local=127.77.1.2:8123'*) result tcp4-netty PASS "$r";; *) result tcp4-netty FAIL "$r";; esac
udp() {   # a connected client: the reply must come from the address and port it sent to
  python3 -c "
import socket, sys
host, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET, socket.SOCK_DGRAM)
s.connect((host, port)); s.settimeout(5); s.send(b'ping')
try:
    print('reply ' + s.recv(64).decode())
except Exception as e:
    print('no reply: ' + str(e))
" "$1" "$2"
}
r=$(udp 127.77.9.9 5353); [ "$r" = "reply ping" ] && result udp4-echo PASS "$r from 127.77.9.9:5353" || result udp4-echo FAIL "$r"
# IPv6: rules added live (inside a ceiling that allows them), a local route, real traffic.
ip -6 route add local 2001:db8:77::/64 dev lo 2>/dev/null
r=$(curl -s --max-time 10 -X POST -H 'Content-Type: application/json' http://127.78.0.1/actuator/sksteer/add \
    -d '{"rules": "web 2001:db8:77::/64 8080; echo 2001:db8:77::/64 5353"}')
case "$r" in *'"rules"'*) result live-add-ipv6 PASS "$r";; *) result live-add-ipv6 FAIL "$r";; esac
r=$(curl -s --max-time 10 'http://[2001:db8:77::1]:8080/'); case "$r" in 'listener=web local=[2001:db8:77:0:0:0:0:1]:8080'*) result tcp6-netty PASS "$r";; *) result tcp6-netty FAIL "$r";; esac
r=$(udp 2001:db8:77::9 5353); [ "$r" = "reply ping" ] && result udp6-echo PASS "$r from [2001:db8:77::9]:5353" || result udp6-echo FAIL "$r"
r=$(curl -s --max-time 10 -X POST -H 'Content-Type: application/json' http://127.78.0.1/actuator/sksteer/remove -d '{"rules": "web 127.77.0.0/16 443"}')
case "$r" in *'"rules"'*) result live-change PASS "$r";; *) result live-change FAIL "$r";; esac
r=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://127.77.1.2:443/); [ "$r" = 000 ] && result live-change-effect PASS "443 refused after removal" || result live-change-effect FAIL "http $r"
r=$(curl -s --max-time 20 'http://127.78.0.1/actuator/sksteer/explain?protocol=tcp&address=127.78.1.2&port=80')
case "$r" in *'"listener":"site"'*) result explain PASS "$r";; *'5.13'*) result explain DEGRADED "$r";; *) result explain FAIL "$r";; esac
f=$(curl -s --max-time 20 http://127.78.0.1/actuator/sksteer | tr -d '\n' | grep -o '"features":\[[^]]*\]')
result features INFO "$f"
kill -9 $APP; wait $APP 2>/dev/null
r=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://127.78.1.2/hello); [ "$r" = 000 ] && result sigkill-cleanup PASS "nothing steers after SIGKILL" || result sigkill-cleanup FAIL "http $r"
INNER
