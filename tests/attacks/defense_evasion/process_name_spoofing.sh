#!/bin/bash
# desc: argv[0] set to a kernel thread or a daemon so ps shows it: bash exec -a '[kworker/0:2]', python execv, perl exec {} with an sshd name
# mitre: T1036.004, T1564
# expect: process_name_spoofed
source "$ATTACK_LIB"

cp /bin/sleep payload
bash -c 'exec -a "[kworker/0:2-events]" ./payload 0'
/usr/bin/python3 -c 'import os; os.execv("./payload", ["[kthreadd]", "0"])'
perl -e 'exec { "./payload" } "/usr/sbin/sshd", "0"'
bash -c 'exec -a cron ./payload 0'
