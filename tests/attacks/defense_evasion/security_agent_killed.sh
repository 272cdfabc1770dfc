#!/bin/bash
# desc: security agents stopped by signal: auditd with the kill builtin, falco with pkill -9, osqueryd with kill -9 from python, wazuh-agentd frozen with /bin/kill -STOP (stand-ins named as the agents, started here; pkill only looks in this script's session)
# mitre: T1562.001
# expect: security_agent_killed*4
source "$ATTACK_LIB"

mkdir bin
for n in auditd falco osqueryd wazuh-agentd; do ln -s /bin/sleep "bin/$n"; done
bin/auditd 60 & a=$!
bin/falco 60 & f=$!
bin/osqueryd 60 & o=$!
bin/wazuh-agentd 60 & w=$!
undo "kill -9 $a $f $o $w"
# each has become its agent (exec done) before it is signalled
for p in $a $f $o $w; do
	for _ in $(seq 1 100); do [ "$(cat /proc/$p/comm 2>/dev/null)" != bash ] && break; sleep 0.02; done
done
kill "$a"
pkill -9 -s 0 -x falco
/usr/bin/python3 -c "import os, signal; os.kill($o, signal.SIGKILL)"
/bin/kill -STOP "$w" && kill -9 "$w"
wait || true
