#!/bin/bash
# desc: processes renaming themselves to kernel threads and daemons: python prctl(PR_SET_NAME) to [kworker/0:1], perl $0 = "sshd: ...", bash writing /proc/self/comm, a python thread renamed through /proc/self/task/TID/comm, C prctl; then a renamed process starting a shell
# mitre: T1036.004, T1036.005, T1564
# expect: process_renamed_to_system_name*6
source "$ATTACK_LIB"

/usr/bin/python3 -c '
import ctypes
PR_SET_NAME = 15
ctypes.CDLL(None).prctl(PR_SET_NAME, b"[kworker/0:1]", 0, 0, 0)'
perl -e '$0 = "sshd: root\@pts/0"; select(undef, undef, undef, 0.05);'
bash -c 'printf %s systemd-journald >/proc/$BASHPID/comm; sleep 0.05'
/usr/bin/python3 -c '
import threading
def work():
    with open("/proc/self/task/%d/comm" % threading.get_native_id(), "w") as f:
        f.write("kswapd0")
t = threading.Thread(target=work); t.start(); t.join()'
cat >rename.c <<'C'
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
/* rename NAME PROGRAM...: take NAME, then run PROGRAM in a child (which
 * starts under NAME too) */
int main(int argc, char **argv)
{
	int status;
	pid_t pid;

	if (argc < 3 || prctl(PR_SET_NAME, argv[1], 0, 0, 0) != 0)
		return 2;
	if ((pid = fork()) == 0) {
		execv(argv[2], argv + 2);
		_exit(127);
	}
	return waitpid(pid, &status, 0) == pid && WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
C
cc -O2 -o rename rename.c
./rename kthreadd /bin/true
