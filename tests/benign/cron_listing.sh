#!/bin/bash
# desc: an admin looks at what runs on a schedule
source "$ATTACK_LIB"

crontab -l >/dev/null 2>&1 || true
crontab -l -u "$ATTACK_USER" >/dev/null 2>&1 || true
as_user crontab -l >/dev/null 2>&1 || true
ls -la /etc/cron.d /etc/cron.daily >/dev/null 2>&1 || true
cat /etc/crontab >/dev/null 2>&1 || true
