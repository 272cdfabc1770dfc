#!/bin/bash
# desc: shells given a terminal of their own by whatever program holds the connection: python pty.spawn, ruby PTY.spawn, socat pty,setsid, expect spawn, a C forkpty binary
# mitre: T1059.004, T1059.006
# expect: shell_on_new_terminal*5
source "$ATTACK_LIB"

/usr/bin/python3 -c 'import pty; pty.spawn(["/bin/sh", "-c", "id"])' </dev/null >/dev/null
ruby -rpty -e 'PTY.spawn("/bin/bash", "-c", "id") { |r, w, pid| begin; r.read; rescue Errno::EIO; end; Process.wait(pid) }' </dev/null >/dev/null
socat -u 'EXEC:/bin/dash -c id,pty,setsid,ctty' STDOUT </dev/null >/dev/null
expect -c 'spawn /bin/bash -c id; expect eof' </dev/null >/dev/null
cat >ptyshell.c <<'C'
#include <pty.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
/* what a compiled implant does: a shell on a pty it reads itself */
int main(void)
{
	char buf[256];
	int master, status;
	pid_t pid = forkpty(&master, NULL, NULL, NULL);

	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", "id", (char *)NULL);
		_exit(127);
	}
	while (pid > 0 && read(master, buf, sizeof(buf)) > 0)
		;
	return pid > 0 && waitpid(pid, &status, 0) == pid ? 0 : 1;
}
C
cc -O2 -o ptyshell ptyshell.c -lutil
./ptyshell
