#!/bin/bash
# desc: security and logging agents stopped: pkill falco, killall -9 auditd, kill via pgrep, systemctl stop/disable auditd, service rsyslog stop
# mitre: T1562.001
# expect: security_tool_disabled
source "$ATTACK_LIB"

# Stand-ins for the agents, named as they are (the real ones do not run here).
mkdir bin
for n in falco auditd osqueryd; do ln -s /bin/sleep "bin/$n"; done
bin/falco 60 & bin/auditd 60 & bin/osqueryd 60 &
sleep 0.2
pkill -x falco
killall -9 auditd
kill -TERM $(pgrep -x osqueryd)
wait || true
# The service managers: not running here, but the command is what counts.
systemctl stop auditd.service >/dev/null 2>&1 || true
systemctl disable --now falco >/dev/null 2>&1 || true
service rsyslog stop >/dev/null 2>&1 || true
