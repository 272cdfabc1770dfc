#!/bin/bash
# desc: running programs deleting their own files: a binary removing itself, a shell script running rm "$0", a python script removing __file__
# mitre: T1070.004
# expect: running_program_deleted_itself*3
source "$ATTACK_LIB"

cp /bin/rm ./cleaner && ./cleaner ./cleaner
printf '#!/bin/sh\nid >/dev/null\nrm -f -- "$0"\n' >dropper.sh && chmod +x dropper.sh && ./dropper.sh
printf 'import os\nos.remove(__file__)\n' >stage.py && /usr/bin/python3 stage.py
