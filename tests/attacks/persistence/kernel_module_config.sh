#!/bin/bash
# desc: a module set to load at boot (modules-load.d) and a modprobe.d install hook (as comments)
# mitre: T1547.006
# expect: kernel_module_config_modified
source "$ATTACK_LIB"

[ -d /etc/modprobe.d ] || undo "rmdir /etc/modprobe.d"
mkdir -p /etc/modprobe.d /etc/modules-load.d
a=/etc/modules-load.d/$(tmpname).conf
b=/etc/modprobe.d/$(tmpname).conf
undo "rm -f $a $b"
printf '# rootkit_%s\n' "$ATTACK_ID" >"$a"
printf '# install dummy /tmp/x %s\n' "$ATTACK_ID" >"$b"
