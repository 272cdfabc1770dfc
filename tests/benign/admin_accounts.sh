#!/bin/bash
# desc: an admin makes an account for a colleague (useradd -m, an initial password, a team group), then removes both
source "$ATTACK_LIB"

u=tb$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
g=${u}team
undo "userdel -r $u 2>/dev/null || true; groupdel $g 2>/dev/null || true"
groupadd "$g"
useradd -m -s /bin/bash -G "$g" "$u"
echo "$u:$(tmpname)" | chpasswd
chage -d 0 "$u"
id "$u" >/dev/null
usermod -c "Colleague from ops" "$u"
userdel -r "$u" 2>/dev/null
groupdel "$g"
