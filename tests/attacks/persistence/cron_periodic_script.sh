#!/bin/bash
# desc: a script planted in /etc/cron.daily and made executable (run-parts runs it as root every day)
# mitre: T1053.003
# expect: cron_job_modified
source "$ATTACK_LIB"

f=/etc/cron.daily/$(tmpname)
undo "rm -f $f"
printf '#!/bin/sh\n: %s\n' "$ATTACK_ID" >"$f"
chmod 755 "$f"
