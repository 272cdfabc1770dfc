#!/bin/bash
# desc: crontabs edited the way people do it, crontab -e in an editor (ed here, driven by its input, taking a second as a person does): a user's own, and root editing a user's
source "$ATTACK_LIB"

undo "crontab -r -u '$ATTACK_USER' 2>/dev/null || true"
printf '!sleep 1\n$a\n30 2 * * * /bin/true\n.\nw\nq\n' |
  as_user env EDITOR=ed VISUAL=ed crontab -e >/dev/null 2>&1
printf '!sleep 1\n$a\n15 3 * * 0 /bin/true\n.\nw\nq\n' |
  EDITOR=ed VISUAL=ed crontab -u "$ATTACK_USER" -e >/dev/null 2>&1
crontab -l -u "$ATTACK_USER" | grep -q '15 3'
