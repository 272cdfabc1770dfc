#!/bin/bash
# desc: an application log under /var/log emptied and deleted: a shell redirect, truncate, cp /dev/null, dd, rm
# mitre: T1070.002
# expect: log_file_cleared
source "$ATTACK_LIB"

# A log of our own (appended to, as applications write logs), never the
# machine's.
log=/var/log/$(tmpname).log
undo "rm -f '$log'"
say() { printf '%s GET /admin 200\n' "$(date +%s)" >>"$log"; }
say
sh -c ": > '$log'"
say
truncate -s 0 "$log"
say
cp /dev/null "$log"
say
dd if=/dev/null of="$log" status=none
say
rm -f "$log"
