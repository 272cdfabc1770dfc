#!/bin/bash
# desc: programs that are not in the container's image run inside it: a tool copied in and run, an image binary overwritten in place, a payload written by python, chmod +x and run, one dropped by dd into /var/lib
# mitre: T1610, T1105
# expect: container_drift_executed*4
source "$ATTACK_LIB"
source "$(dirname "$ATTACK_LIB")/container.sh"

container_create
# every write lands in the container's upper layer (a tmpfs), never on the host
ct_sh 'cp /bin/sleep /usr/local/bin/kdevtmpfsi && /usr/local/bin/kdevtmpfsi 0'
ct_sh 'cat /bin/true >/usr/bin/hostid && /usr/bin/hostid'
ct /usr/bin/python3 -c '
import os, subprocess
data = open("/bin/true", "rb").read()
with open("/root/.implant", "wb") as f:
    f.write(data)
os.chmod("/root/.implant", 0o755)
subprocess.run(["/root/.implant"], check=True)'
ct_sh 'mkdir -p /var/lib/app && dd if=/bin/true of=/var/lib/app/worker status=none && chmod +x /var/lib/app/worker && /var/lib/app/worker'
