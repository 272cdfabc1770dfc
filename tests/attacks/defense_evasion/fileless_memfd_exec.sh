#!/bin/bash
# desc: programs run without touching the disk: python memfd_create + execve of /proc/self/fd/N, perl via the raw syscall and exec of the fd, bash exec of /dev/fd/N
# mitre: T1620, T1027
# expect: fileless_execution
source "$ATTACK_LIB"

/usr/bin/python3 - <<'PY'
import os
fd = os.memfd_create("kdevtmpfsi", 0)
os.write(fd, open("/bin/true", "rb").read())
pid = os.fork()
if pid == 0:
    os.execv("/proc/self/fd/%d" % fd, ["kdevtmpfsi"])
os.waitpid(pid, 0)
PY
perl -e '
my $name = "x"; my $fd = syscall(319, $name, 0);  # memfd_create on x86-64
open(my $m, ">&=", $fd) or die; binmode $m;
open(my $t, "<", "/bin/true") or die; binmode $t;
my $image = do { local $/; <$t> }; print $m $image; close $t;
exec { "/proc/self/fd/$fd" } "x";'
# an already open file descriptor, through /dev/fd
bash -c 'exec 7</bin/true; /dev/fd/7'
