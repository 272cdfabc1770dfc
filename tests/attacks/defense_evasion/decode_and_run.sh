#!/bin/bash
# desc: encoded commands decoded and run in one line: base64 -d | sh, xxd -r -p into eval, rev | bash, openssl base64 -d | sh, base64+gunzip | bash, hex escapes
# mitre: T1140, T1027, T1059.004
# expect: decoded_payload_run_by_shell
source "$ATTACK_LIB"

sh -c 'echo aWQgPi9kZXYvbnVsbAo= | base64 -d | sh'
bash -c 'eval "$(echo 6964203e2f6465762f6e756c6c | xxd -r -p)"'
bash -c 'echo llun/ved/> di | rev | bash'
sh -c 'echo aWQgPi9kZXYvbnVsbAo= | openssl enc -d -base64 | sh'
payload=$(printf 'id >/dev/null\n' | gzip | base64 -w0)
bash -c "echo $payload | base64 --decode | gunzip | bash"
bash -c "\$(printf '\\x69\\x64') >/dev/null | sh"
