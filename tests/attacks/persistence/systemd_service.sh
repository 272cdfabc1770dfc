#!/bin/bash
# desc: a systemd service written under /etc/systemd/system and enabled by hand (the wants/ symlink)
# mitre: T1543.002
# expect: systemd_unit_modified*2
source "$ATTACK_LIB"

name=$(tmpname).service
unit=/etc/systemd/system/$name
wants=/etc/systemd/system/multi-user.target.wants
[ -d "$wants" ] || undo "rmdir $wants"
undo "rm -f $unit $wants/$name"
cat >"$ATTACK_TMP/u" <<UNIT
[Service]
ExecStart=/bin/true $ATTACK_ID
[Install]
WantedBy=multi-user.target
UNIT
install -m 644 "$ATTACK_TMP/u" "$unit"
mkdir -p "$wants"
ln -s "$unit" "$wants/$name"
