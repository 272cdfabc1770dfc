#!/bin/bash
# desc: an admin asks the package manager what is installed and where files come from
source "$ATTACK_LIB"

dpkg -l >/dev/null
dpkg -S /bin/ls >/dev/null
dpkg -L coreutils >/dev/null
dpkg-query -W -f='${Package} ${Version}\n' >/dev/null
dpkg --verify coreutils >/dev/null || true
apt-cache policy bash >/dev/null
