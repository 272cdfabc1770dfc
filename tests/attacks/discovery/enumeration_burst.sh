#!/bin/bash
# desc: a host surveyed the way enumeration scripts (LinEnum, linpeas) and intruders do it: accounts, processes, network, system, files, from one script and from one interactive shell
# mitre: T1087.001, T1033, T1057, T1016, T1049, T1082, T1083
# expect: discovery_burst*2, account_discovery_burst, process_discovery_burst, network_discovery_burst, system_discovery_burst
source "$ATTACK_LIB"

{
	id; whoami; w; last -n 5; groups; getent group sudo; cat /etc/passwd
	ps aux; pstree; lsof -i -n -P 2>/dev/null | head -5
	ip a; ip r; ss -tulpn; cat /etc/resolv.conf; cat /etc/hosts
	uname -a; hostname; cat /etc/os-release; lscpu; df -h; mount; env
	find /usr/bin -maxdepth 1 -perm -4000 2>/dev/null
} >/dev/null 2>&1 || true
# the same typed into an interactive shell
printf 'id\nwhoami\nuname -a\ncat /etc/os-release\nps -ef\nss -tan\nip -br a\ncat /etc/hosts\nexit\n' |
	bash --norc -i >/dev/null 2>&1
