#!/bin/bash
# desc: interpreters evaluating code they decode on the spot: python exec(b64decode), perl eval(decode_base64), node eval(Buffer.from base64), ruby eval(Base64.decode64), python zlib
# mitre: T1140, T1027, T1059.006
# expect: interpreter_runs_decoded_code
source "$ATTACK_LIB"

/usr/bin/python3 -c "import base64;exec(base64.b64decode('aW1wb3J0IG9zOyBvcy5nZXR1aWQoKQ=='))"
perl -MMIME::Base64 -e "eval(decode_base64('JHggPSAkPjs='))"
node -e "eval(Buffer.from('cHJvY2Vzcy5nZXR1aWQoKQ==', 'base64').toString())"
ruby -rbase64 -e "eval(Base64.decode64('UHJvY2Vzcy51aWQ='))"
/usr/bin/python3 -c "import zlib,base64;exec(zlib.decompress(base64.b64decode('eJzLzC3ILypRyC+2BmK99NSS0swUDU0AXzIH3A==')))"
