#!/bin/bash
# desc: a program planted among the system's binaries (/usr/local/bin), copied then renamed into place
# mitre: T1554
# expect: system_binary_changed, system_binary_replaced
source "$ATTACK_LIB"

b=/usr/local/bin/$(tmpname)
undo "rm -f $b $b.new"
cp /bin/true "$b.new"
mv "$b.new" "$b"
