#!/bin/bash
# desc: a browser's saved logins and their key copied for offline decryption (Firefox logins.json + key4.db, Chrome Login Data)
# mitre: T1555.003
# expect: browser_credentials_read
source "$ATTACK_LIB"

h="$ATTACK_HOME"
for d in .mozilla .config; do [ -e "$h/$d" ] || undo "rm -rf '$h/$d'"; done
prof="$h/.mozilla/firefox/x1y2.default-release"
chrome="$h/.config/google-chrome/Default"
as_user mkdir -p "$prof" "$chrome"
as_user sh -c "echo '{\"logins\": []}' > '$prof/logins.json'; : > '$prof/key4.db'; : > '$chrome/Login Data'"
cp "$prof/logins.json" "$prof/key4.db" "$ATTACK_TMP/"
/usr/bin/python3 -c 'import sys; open(sys.argv[1], "rb").read()' "$chrome/Login Data"
