#!/bin/bash
# desc: a Kerberos ticket cache and a keytab copied for pass-the-ticket
# mitre: T1558.005
# expect: kerberos_credentials_read
source "$ATTACK_LIB"

cc="/tmp/krb5cc_${ATTACK_UID}_$ATTACK_ID"
kt="$ATTACK_TMP/host-$ATTACK_ID.keytab"
undo "rm -f '$cc'"
as_user sh -c "printf 'ticket' > '$cc'"
printf 'keytab' >"$kt"
cp "$cc" "$ATTACK_TMP/ticket"
/usr/bin/python3 -c 'import sys; open(sys.argv[1], "rb").read()' "$kt"
