#!/bin/bash
# desc: files named as documents run as programs: invoice.pdf.sh, photo.jpg (an ELF), notes.txt given to python, "report.doc " with a trailing space
# mitre: T1036.007, T1036.008, T1036.006
# expect: document_named_file_executed
source "$ATTACK_LIB"

printf '#!/bin/sh\nid >/dev/null\n' >invoice.pdf.sh && chmod +x invoice.pdf.sh && ./invoice.pdf.sh
cp /bin/true photo.jpg && ./photo.jpg
echo 'import os; os.getuid()' >notes.txt && /usr/bin/python3 notes.txt
cp /bin/true 'report.doc ' && './report.doc '
printf 'id >/dev/null\n' >resume.docx && bash resume.docx
