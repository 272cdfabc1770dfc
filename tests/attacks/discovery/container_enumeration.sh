#!/bin/bash
# desc: an intruder surveying a container command by command (each from a new docker exec): accounts, processes, network and system commands counted per container
# mitre: T1087.001, T1057, T1016, T1082, T1613
# expect: discovery_burst
source "$ATTACK_LIB"
source "$(dirname "$ATTACK_LIB")/container.sh"

container_create
for c in id whoami 'cat /etc/passwd' 'ps aux' 'ip a' 'ss -tan' 'uname -a' hostname \
	'cat /etc/os-release' 'df -h' mount; do
	ct_sh "$c" >/dev/null 2>&1 || true
done
