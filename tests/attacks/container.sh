# A container made the way runtimes make one, for attack scripts that act
# from inside a container: source "$(dirname "$ATTACK_LIB")/container.sh"
# after lib.sh.
#
#   container_create        make and start it; sets CT_ID, CT_ROOT, CT_PID
#                           (its init, as the host sees it); undone at exit
#   ct CMD...               run CMD inside, as root, like `docker exec`
#   ct_sh 'SCRIPT'          run a shell script inside (`ct /bin/sh -c SCRIPT`)
#
# What makes it a container for the agent is what makes one for docker: a
# cgroup named docker/<64 hex> in the unified and the memory hierarchy.
# Its root file system is an overlay, as overlay2 makes it: the host's /
# as the read-only image below, a tmpfs above that takes every write (a
# file written inside lands in the upper layer, and is gone with the
# container). Its init runs in new mount, PID, UTS and IPC namespaces;
# `ct` enters them with nsenter from the host, joins the cgroup, and
# changes root, as `docker exec` does (runc: setns, cgroup, then exec).

CT_V2=$(if [ -e /sys/fs/cgroup/unified/cgroup.procs ]; then echo /sys/fs/cgroup/unified;
        else echo /sys/fs/cgroup; fi)
CT_V1=/sys/fs/cgroup/memory

_ct_mkdir_cg() { # make $1/docker/$CT_ID, remember what to remove
	local root=$1
	[ -d "$root" ] || return 0
	if [ ! -d "$root/docker" ]; then
		mkdir "$root/docker"
		undo "rmdir '$root/docker'"
	fi
	mkdir "$root/docker/$CT_ID"
	undo "_ct_rmdir '$root/docker/$CT_ID'"
}

_ct_rmdir() { # a cgroup, once the processes in it are gone
	local i
	for i in $(seq 1 50); do
		rmdir "$1" 2>/dev/null && return 0
		[ -d "$1" ] || return 0
		sleep 0.1
	done
}

container_create() {
	CT_ID=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
	CT_DIR=$(mktemp -d "${ATTACK_TMP:-/tmp}/ct.XXXXXX")
	CT_ROOT=$CT_DIR/root
	mkdir "$CT_ROOT" "$CT_DIR/rw"
	_ct_mkdir_cg "$CT_V2"
	_ct_mkdir_cg "$CT_V1"
	undo "_ct_stop"
	export CT_ID CT_ROOT CT_V2 CT_V1
	# The init: mounts first (the runtime's work, on the host's side), then
	# the cgroup, then the new root.
	unshare --mount --pid --fork --uts --ipc --propagation private /bin/sh -c '
		mount -t tmpfs -o mode=755 tmpfs "$0/rw" &&
		mkdir "$0/rw/upper" "$0/rw/work" &&
		mount -t overlay overlay -o "lowerdir=/,upperdir=$0/rw/upper,workdir=$0/rw/work" "$0/root" &&
		mount -t proc proc "$0/root/proc" &&
		mount -t tmpfs -o mode=1777 tmpfs "$0/root/tmp" &&
		mount --rbind /dev "$0/root/dev" &&
		hostname "ct-${CT_ID%${CT_ID#????????????}}" &&
		echo 0 >"$CT_V2/docker/$CT_ID/cgroup.procs" &&
		{ [ ! -d "$CT_V1/docker/$CT_ID" ] || echo 0 >"$CT_V1/docker/$CT_ID/cgroup.procs"; } &&
		exec chroot "$0/root" /bin/sleep infinity' "$CT_DIR" </dev/null >/dev/null 2>&1 &
	CT_UNSHARE=$!
	local i
	for i in $(seq 1 100); do
		CT_PID=$(pgrep -P "$CT_UNSHARE" -x sleep || true)
		[ -n "$CT_PID" ] && break
		sleep 0.05
	done
	[ -n "$CT_PID" ] || { echo "container did not start" >&2; return 1; }
}

_ct_stop() {
	kill -9 "$CT_PID" 2>/dev/null # the PID namespace ends with its init
	wait "$CT_UNSHARE" 2>/dev/null
}

ct() {
	nsenter --target "$CT_PID" --mount --pid --uts --ipc /bin/sh -c '
		echo 0 >"$CT_V2/docker/$CT_ID/cgroup.procs" &&
		{ [ ! -d "$CT_V1/docker/$CT_ID" ] || echo 0 >"$CT_V1/docker/$CT_ID/cgroup.procs"; } &&
		exec chroot "$0" "$@"' "$CT_ROOT" "$@"
}

ct_sh() { ct /bin/sh -c "$1"; }
