# "Another host" for attack scripts whose traffic must leave this one: a
# network namespace reached over a veth pair, so nothing goes further than
# this machine. source "$(dirname "$ATTACK_LIB")/netns.sh" after lib.sh.
#
#   netns_create        sets NS (its name), PEER (its address) and HOST (ours);
#                       removed at exit with everything running in it
#   in_ns CMD...        run CMD in it (a listener, a fake server...)
#   ns_name_server      the attacker's name server on $PEER:53/udp (every
#                       answer NXDOMAIN); returns once it listens
#   listen_once         the attacker's listener on loopback (no namespace
#                       needed): sends "id; exit" once; sets $port
#
# Addresses come from 10.213.0.0/16, one /30 per namespace, picked at
# random; a pair some other run already uses is skipped.

netns_create() {
	local try a b
	NS=tpatk-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
	ip netns add "$NS"
	undo "_netns_delete '$NS'"
	NS_LINK=v$NS # 15 characters, the most an interface name may have
	ip link add "$NS_LINK" type veth peer name eth0 netns "$NS"
	for try in $(seq 1 20); do
		a=$(( $(od -An -N1 -tu1 /dev/urandom) % 250 + 1 ))
		b=$(( $(od -An -N1 -tu1 /dev/urandom) / 4 * 4 ))
		HOST=10.213.$a.$((b + 1))
		PEER=10.213.$a.$((b + 2))
		if ! ip -o addr show | grep -q " 10\.213\.$a\.$((b + 1))/\| 10\.213\.$a\.$((b + 2))/"; then
			ip addr add "$HOST/30" dev "$NS_LINK" && break
		fi
		HOST=
	done
	[ -n "$HOST" ] || { echo "no free address pair in 10.213.0.0/16" >&2; return 1; }
	ip link set "$NS_LINK" up
	ip -n "$NS" addr add "$PEER/30" dev eth0
	ip -n "$NS" link set eth0 up
	ip -n "$NS" link set lo up
	# No default route: the namespace reaches $HOST on its /30 and nothing
	# else, even where this machine forwards (docker sets ip_forward=1). A
	# server that looks up its own name (python's http.server calls getfqdn
	# before it listens) gets "network unreachable" from the resolver at
	# once; with a default route the query left for this machine's name
	# server and waited out the resolver's timeouts, 10 s (the CI of stop
	# 21: "nothing listens on $PEER:8080").
	export NS PEER HOST
}

_netns_delete() {
	local p
	for p in $(ip netns pids "$1" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	ip netns del "$1"
}

in_ns() { ip netns exec "$NS" "$@"; }

# A TCP port nothing listens on (on loopback), for a listener the script starts.
free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Wait until something listens on TCP port $2 of address $1 (at most 5 s).
wait_listen() {
	local i
	for i in $(seq 1 100); do
		ss -Hltn "src $1:$2" 2>/dev/null | grep -q . && return 0
		ip netns exec "${NS:-}" ss -Hltn "src $1:$2" 2>/dev/null | grep -q . && return 0
		sleep 0.05
	done
	echo "nothing listens on $1:$2" >&2
	return 1
}

ns_name_server() {
	local i
	in_ns /usr/bin/python3 - "$PEER" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 53)); s.settimeout(20)
try:
    while True:
        q, a = s.recvfrom(512)
        s.sendto(q[:2] + b"\x81\x83" + q[4:], a)
except socket.timeout:
    pass
PY
	for i in $(seq 1 100); do
		in_ns ss -Hlun "src $PEER:53" 2>/dev/null | grep -q . && return 0
		sleep 0.05
	done
	echo "no name server on $PEER:53" >&2
	return 1
}

listen_once() {
	port=$(free_port)
	printf 'id\nexit\n' | timeout 10 nc -lN 127.0.0.1 "$port" >/dev/null &
	wait_listen 127.0.0.1 "$port"
}
