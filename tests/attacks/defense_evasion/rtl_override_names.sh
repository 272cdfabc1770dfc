#!/bin/bash
# desc: file names with a right-to-left override (U+202E): invoice<RLO>fdp.sh shows as invoicehs.pdf; created, renamed into, and run
# mitre: T1036.002
# expect: bidi_control_in_file_name
source "$ATTACK_LIB"

rlo=$'\xe2\x80\xae'
printf '#!/bin/sh\ntrue\n' >"invoice${rlo}fdp.sh"
chmod +x "invoice${rlo}fdp.sh"
"./invoice${rlo}fdp.sh"
cp /bin/true payload && mv payload "cv${rlo}gpj.exe"
"./cv${rlo}gpj.exe"
