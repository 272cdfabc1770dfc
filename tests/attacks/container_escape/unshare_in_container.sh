#!/bin/bash
# desc: new namespaces made inside a container to win back capabilities: unshare -UrmC (the first step of the CVE-2022-0492 cgroup escape), unshare -m, python unshare(2) of a user namespace
# mitre: T1611, T1068
# expect: namespace_created_in_container
source "$ATTACK_LIB"
source "$(dirname "$ATTACK_LIB")/container.sh"

container_create
ct unshare -UrmC /bin/true
ct unshare --mount --propagation private /bin/true
ct /usr/bin/python3 -c 'import ctypes; assert ctypes.CDLL(None).unshare(0x10000000 | 0x20000) == 0'  # NEWUSER|NEWNS
