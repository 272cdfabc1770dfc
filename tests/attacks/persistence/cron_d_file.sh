#!/bin/bash
# desc: a job dropped into /etc/cron.d (runs as root on a schedule)
# mitre: T1053.003
# expect: cron_job_modified
source "$ATTACK_LIB"

job=/etc/cron.d/$(tmpname)
undo "rm -f $job"
# Never due (31 February), and harmless if it were.
printf '0 0 31 2 * root /bin/true %s\n' "$ATTACK_ID" >"$job"
