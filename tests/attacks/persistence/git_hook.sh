#!/bin/bash
# desc: a post-checkout hook planted in someone's repository, and made executable
# mitre: T1546
# expect: git_hook_modified
source "$ATTACK_LIB"

repo="$ATTACK_HOME/repo-$ATTACK_ID"
undo "rm -rf '$repo'"
as_user git init -q "$repo"
printf '#!/bin/sh\n: %s\n' "$ATTACK_ID" >"$repo/.git/hooks/post-checkout"
chmod +x "$repo/.git/hooks/post-checkout"
