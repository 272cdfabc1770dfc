#!/bin/bash
# desc: Python start-up hooks in a user's site-packages: a .pth file and sitecustomize.py
# (both hold only a comment here)
# mitre: T1546.018
# expect: python_startup_hook_modified
source "$ATTACK_LIB"

site=$(as_user /usr/bin/python3 -c 'import site; print(site.getusersitepackages())')
[ -e "$ATTACK_HOME/.local" ] || undo "rm -rf '$ATTACK_HOME/.local'"
undo "rm -f '$site/tpatk_$ATTACK_ID.pth' '$site/sitecustomize.py'"
as_user mkdir -p "$site"
as_user sh -c "echo '# $ATTACK_ID' > '$site/tpatk_$ATTACK_ID.pth'"
[ -e "$site/sitecustomize.py" ] || as_user sh -c "echo '# $ATTACK_ID' > '$site/sitecustomize.py'"
