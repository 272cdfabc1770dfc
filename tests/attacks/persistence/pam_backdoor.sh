#!/bin/bash
# desc: a PAM module dropped next to the system's (a copy of pam_permit.so) and a PAM service file naming it
# (for a service nothing uses)
# mitre: T1556.003
# expect: pam_configuration_modified
source "$ATTACK_LIB"

dir=
for d in /usr/lib/*/security /lib/*/security /lib64/security /lib/security; do
	if [ -e "$d/pam_permit.so" ]; then dir=$d; break; fi
done
[ -n "$dir" ]
mod="$dir/pam_tpatk_${ATTACK_ID}.so"
svc=/etc/pam.d/$(tmpname)
undo "rm -f '$mod' '$svc'"
cp "$dir/pam_permit.so" "$mod"
printf 'auth sufficient %s\n' "$mod" >"$svc"
