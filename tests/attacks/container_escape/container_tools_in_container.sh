#!/bin/bash
# desc: container management tools run inside a container: nsenter, runc, unshare's sibling tools as an attacker brings them in
# mitre: T1609, T1610, T1611
# expect: container_tool_run_in_container
source "$ATTACK_LIB"
source "$(dirname "$ATTACK_LIB")/container.sh"

container_create
ct nsenter --version >/dev/null
ct runc --version >/dev/null
ct runc --root /tmp/runc list >/dev/null 2>&1 || true
