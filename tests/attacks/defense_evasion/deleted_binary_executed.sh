#!/bin/bash
# desc: droppers that delete their payload and run it from the open descriptor: bash exec 9< then rm then /proc/self/fd/9, python unlink + execv, C fexecve of a deleted file, perl open/unlink/exec
# mitre: T1620, T1070.004
# expect: deleted_program_executed*4
source "$ATTACK_LIB"

cp /bin/true stage1
bash -c 'exec 9<./stage1; rm -f ./stage1; /proc/self/fd/9'
cp /bin/true stage2
/usr/bin/python3 - <<'PY'
import os
fd = os.open("stage2", os.O_RDONLY)
os.unlink("stage2")
pid = os.fork()
if pid == 0:
    os.execv("/proc/self/fd/%d" % fd, ["stage2"])
_, status = os.waitpid(pid, 0)
raise SystemExit(os.waitstatus_to_exitcode(status))
PY
cat >runner.c <<'C'
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
/* runner FILE: open FILE, delete it, run it from the descriptor */
int main(int argc, char **argv)
{
	char *args[] = {"stage3", NULL}, *env[] = {NULL};
	int fd = argc == 2 ? open(argv[1], O_RDONLY | O_CLOEXEC) : -1;

	if (fd < 0 || unlink(argv[1]) != 0)
		return 2;
	fexecve(fd, args, env);
	perror("fexecve");
	return 1;
}
C
cc -O2 -o runner runner.c
cp /bin/true stage3
./runner ./stage3
cp /bin/true stage4
perl -e 'open(my $f, "<", "stage4") or die; unlink("stage4") or die;
         exec { "/proc/self/fd/" . fileno($f) } "stage4";'
