#!/bin/bash
# desc: encoded commands decoded into a shell, typed into an interactive shell so no command line shows the pipe: base64 -d | bash, xxd -r -p | sh, rev | sh, tr rot13 | sh, base64 -d | gunzip | sh, openssl base64 -d | python3
# mitre: T1140, T1027, T1059.004
# expect: decoded_payload_piped_to_shell*6
source "$ATTACK_LIB"

b64=$(printf 'id >/dev/null\n' | base64 -w0)
hex=$(printf 'id >/dev/null\n' | xxd -p | tr -d '\n')
rot=$(printf 'id >/dev/null\n' | tr 'A-Za-z' 'N-ZA-Mn-za-m')
gz=$(printf 'id >/dev/null\n' | gzip -c | base64 -w0)
py=$(printf 'import os\nos.getuid()\n' | base64 -w0)
printf '%s\n' "echo $b64 | base64 -d | bash" "echo $hex | xxd -r -p | sh" \
	"echo 'llun/ved/> di' | rev | sh" "echo '$rot' | tr 'A-Za-z' 'N-ZA-Mn-za-m' | sh" \
	"echo $gz | base64 -d | gunzip | sh" "echo $py | openssl base64 -d | python3" exit |
	bash --norc -i >/dev/null 2>&1
