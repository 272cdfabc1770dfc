#!/bin/bash
# desc: everyday git: init, commit, branch, merge, log, diff, a local clone, gc
source "$ATTACK_LIB"

repo="$ATTACK_HOME/work-$ATTACK_ID"
undo "rm -rf '$repo' '$repo.clone'"
g() { as_user git -C "$repo" -c user.name=Dev -c user.email=dev@example.test "$@"; }
as_user git init -q -b main "$repo"
as_user sh -c "printf 'hello\n' > '$repo/README'"
g add README
g commit -q -m "first"
g checkout -q -b feature
as_user sh -c "printf 'more\n' >> '$repo/README'"
g commit -q -am "more"
g checkout -q main
g merge -q --no-edit feature
g log --oneline >/dev/null
g diff HEAD~1 >/dev/null
g status --short >/dev/null
as_user git clone -q "$repo" "$repo.clone"
g gc -q
