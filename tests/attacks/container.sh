# A container made the way runtimes make one, for attack scripts that act
# from inside a container: source "$(dirname "$ATTACK_LIB")/container.sh"
# after lib.sh.
#
#   container_create [--host-pid] [--bind HOST_PATH:PATH]...
#                           make and start it; sets CT_ID, CT_ROOT, CT_PID
#                           (its init, as the host sees it); undone at exit.
#                           --host-pid shares the host's PID namespace (as
#                           docker run --pid=host), --bind mounts a host file
#                           or directory into it (as docker run -v)
#   ct CMD...               run CMD inside, as root, like `docker exec`
#   ct_sh 'SCRIPT'          run a shell script inside (`ct /bin/sh -c SCRIPT`)
#
# What makes it a container for the agent is what makes one for docker: a
# cgroup named docker/<64 hex> in the unified and the memory hierarchy.
# Its root file system is an overlay, as overlay2 makes it: the host's /
# as the read-only image below, a tmpfs above that takes every write (a
# file written inside lands in the upper layer, and is gone with the
# container), made the root with pivot_root. Its init runs in new mount,
# PID, UTS and IPC namespaces; `ct` runs _runtime/runc, which joins the
# cgroups, then the namespaces, then runs the command, as `docker exec`
# has runc do.

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
	local pidns=--pid binds=()
	while [ $# -gt 0 ]; do
		case $1 in
		--host-pid) pidns= ;;
		--bind) binds+=("$2"); shift ;;
		*) echo "container_create: unknown option $1" >&2; return 2 ;;
		esac
		shift
	done
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
	unshare --mount $pidns --fork --uts --ipc --propagation private /bin/sh -c '
		dir=$1; shift
		mount -t tmpfs -o mode=755 tmpfs "$dir/rw" &&
		mkdir "$dir/rw/upper" "$dir/rw/work" &&
		mount -t overlay overlay -o "lowerdir=/,upperdir=$dir/rw/upper,workdir=$dir/rw/work" "$dir/root" &&
		mount -t proc proc "$dir/root/proc" &&
		mount -t sysfs -o ro sysfs "$dir/root/sys" &&
		mount -t tmpfs -o mode=1777 tmpfs "$dir/root/tmp" &&
		mount -t tmpfs -o mode=755 tmpfs "$dir/root/run" &&
		mount --rbind /dev "$dir/root/dev" || exit 1
		for b in "$@"; do
			src=${b%%:*} dst=$dir/root${b#*:}
			# never through a symbolic link: it would resolve on the host
			[ "$(realpath -m "$dst")" = "$dst" ] || { echo "bind target crosses a link: ${b#*:}" >&2; exit 1; }
			if [ -d "$src" ]; then mkdir -p "$dst"; else mkdir -p "${dst%/*}" && : >"$dst"; fi
			mount --bind "$src" "$dst" || exit 1
		done
		hostname "ct-${CT_ID%${CT_ID#????????????}}" &&
		echo 0 >"$CT_V2/docker/$CT_ID/cgroup.procs" &&
		{ [ ! -d "$CT_V1/docker/$CT_ID" ] || echo 0 >"$CT_V1/docker/$CT_ID/cgroup.procs"; } &&
		cd "$dir/root" && mkdir -p .oldroot && pivot_root . .oldroot && cd / &&
		umount -l /.oldroot && exec /bin/sleep infinity' sh "$CT_DIR" "${binds[@]}" </dev/null >/dev/null 2>&1 &
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
	local procs=("$CT_V2/docker/$CT_ID/cgroup.procs")
	[ ! -d "$CT_V1/docker/$CT_ID" ] || procs+=("$CT_V1/docker/$CT_ID/cgroup.procs")
	"$(dirname "${BASH_SOURCE[0]}")/_runtime/runc" "${procs[@]}" -- "$CT_PID" "$@"
}

ct_sh() { ct /bin/sh -c "$1"; }
