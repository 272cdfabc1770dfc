#!/bin/bash
# desc: a directory in root's PATH made writable by everyone (chmod 777 /usr/local/sbin, o+w), then put back
# mitre: T1574.007, T1222.002
# expect: root_path_made_writable
source "$ATTACK_LIB"

mode=$(stat -c %a /usr/local/sbin)
undo "chmod $mode /usr/local/sbin"
chmod o+w /usr/local/sbin
chmod "$mode" /usr/local/sbin
