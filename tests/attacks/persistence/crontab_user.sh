#!/bin/bash
# desc: user crontabs installed with crontab(1): from a file for another user, and piped in by the user
# mitre: T1053.003
# expect: cron_job_modified*2
source "$ATTACK_LIB"

undo "crontab -r -u '$ATTACK_USER'"
printf '0 0 31 2 * /bin/true %s\n' "$ATTACK_ID" >"$ATTACK_TMP/tab"
crontab -u "$ATTACK_USER" "$ATTACK_TMP/tab"
printf '@reboot /bin/true %s\n' "$ATTACK_ID" | as_user crontab -
