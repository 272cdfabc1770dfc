#!/bin/bash
# desc: programs run from anonymous memory files however they are named: C memfd_create + fexecve, C execveat(AT_EMPTY_PATH), a symbolic link in /tmp pointing at a python process's memfd, python os.execve of the memfd's descriptor
# mitre: T1620, T1027, T1106
# expect: fileless_execution*4
source "$ATTACK_LIB"

cat >loader.c <<'C'
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
/* loader fexecve|execveat FILE: copy FILE into a memfd and run it from there */
int main(int argc, char **argv)
{
	char buf[65536];
	ssize_t n;
	int in, fd;
	char *args[] = {"kswapd0", "0", NULL}, *env[] = {NULL};

	if (argc != 3 || (in = open(argv[2], O_RDONLY)) < 0)
		return 2;
	fd = memfd_create("kswapd0", MFD_CLOEXEC);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(fd, buf, (size_t)n) != n)
			return 3;
	if (!strcmp(argv[1], "fexecve"))
		fexecve(fd, args, env);
	else
		syscall(SYS_execveat, fd, "", args, env, AT_EMPTY_PATH);
	perror("exec");
	return 1;
}
C
cc -O2 -o loader loader.c
./loader fexecve /bin/sleep
./loader execveat /bin/sleep
# the program behind an innocent name: /tmp/... -> /proc/PID/fd/N of a memfd
link=/tmp/$(tmpname)-update
undo "rm -f '$link'"
/usr/bin/python3 - "$link" <<'PY'
import os, sys
fd = os.memfd_create("update", 0)
os.write(fd, open("/bin/true", "rb").read())
os.symlink("/proc/%d/fd/%d" % (os.getpid(), fd), sys.argv[1])
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[1], ["update"])
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
PY
# python handing the memfd itself to execve (fexecve)
/usr/bin/python3 - <<'PY'
import os
fd = os.memfd_create("dbus-daemon", os.MFD_CLOEXEC)
os.write(fd, open("/bin/true", "rb").read())
pid = os.fork()
if pid == 0:
    os.execve(fd, ["dbus-daemon"], {})
_, status = os.waitpid(pid, 0)
raise SystemExit(os.waitstatus_to_exitcode(status))
PY
