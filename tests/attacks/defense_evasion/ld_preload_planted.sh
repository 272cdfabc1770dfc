#!/bin/bash
# desc: dynamic linker hijacking with libraries planted in /tmp, /dev/shm, a hidden directory and a memfd: env LD_PRELOAD=, a shell assignment, an export in an interactive shell, python subprocess env, LD_AUDIT, LD_LIBRARY_PATH for a system program, a preload through /proc/self/fd
# mitre: T1574.006
# expect: library_preloaded_from_writable_place*7
source "$ATTACK_LIB"

# A harmless library: its constructor only counts how often it was loaded;
# la_version makes it a valid audit library too.
cat >hook.c <<'C'
__attribute__((constructor)) static void hook(void) { static volatile int loaded; loaded++; }
unsigned int la_version(unsigned int v) { return v; }
C
cc -shared -fPIC -o libhook.so hook.c
lib=$PWD/libhook.so
shm=/dev/shm/$(tmpname)
mkdir -p "$shm/.lib"
undo "rm -rf '$shm'"
cp libhook.so "$shm/libhook.so"
cp libhook.so "$shm/.lib/libutil.so.1"

env LD_PRELOAD="$shm/libhook.so" /bin/true
sh -c "LD_PRELOAD=$lib /usr/bin/id >/dev/null"
printf 'export LD_PRELOAD=%s\n/usr/bin/uname >/dev/null\nexit\n' "$lib" | bash --norc -i >/dev/null 2>&1
/usr/bin/python3 -c 'import subprocess, sys; subprocess.run(["/usr/bin/whoami"], env={"LD_PRELOAD": sys.argv[1]}, stdout=subprocess.DEVNULL, check=True)' "$lib"
env LD_AUDIT="$lib" /usr/bin/hostname >/dev/null
env LD_LIBRARY_PATH="$shm/.lib" /usr/bin/date >/dev/null
# fileless: the library is a memfd, preloaded through the child's own descriptor
/usr/bin/python3 - "$lib" <<'PY'
import os, subprocess, sys
fd = os.memfd_create("libc-helper", 0)
os.write(fd, open(sys.argv[1], "rb").read())
subprocess.run(["/usr/bin/true"], pass_fds=(fd,), env={"LD_PRELOAD": "/proc/self/fd/%d" % fd},
               check=True)
PY
