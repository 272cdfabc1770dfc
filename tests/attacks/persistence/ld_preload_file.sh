#!/bin/bash
# desc: /etc/ld.so.preload opened for appending, how userland rootkits install themselves
# (nothing is written: a library named there would load into every program on this machine)
# mitre: T1574.006
# expect: ld_preload_file_modified
source "$ATTACK_LIB"

[ -e /etc/ld.so.preload ] || undo "[ -s /etc/ld.so.preload ] || rm -f /etc/ld.so.preload"
: >>/etc/ld.so.preload
