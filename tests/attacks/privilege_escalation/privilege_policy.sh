#!/bin/bash
# desc: root without a password granted outside sudoers: a polkit rule (written by a script) and a doas.conf (by a shell redirect); both hold only comments here
# mitre: T1548
# expect: privilege_policy_modified*2
source "$ATTACK_LIB"

d=/etc/polkit-1/rules.d
if [ ! -d $d ]; then
  undo "rmdir $d /etc/polkit-1 2>/dev/null || true"
  mkdir -p $d
fi
f=$d/00-$(tmpname).rules
undo "rm -f $f"
python3 - "$f" "$ATTACK_USER" <<'PY'
import sys
with open(sys.argv[1], "w") as out:
    out.write("// polkit.addRule(function(action, subject) {\n"
              "//   if (subject.user == '%s') return polkit.Result.YES; });\n" % sys.argv[2])
PY

if [ -e /etc/doas.conf ]; then
  append_line /etc/doas.conf "# permit nopass $ATTACK_USER as root"
else
  undo "rm -f /etc/doas.conf"
  sh -c "echo '# permit nopass $ATTACK_USER as root' > /etc/doas.conf"
fi
