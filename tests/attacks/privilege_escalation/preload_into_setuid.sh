#!/bin/bash
# desc: libraries handed to set-uid programs by a user (LD_PRELOAD into passwd, LD_AUDIT into mount, LD_LIBRARY_PATH into sudo) and to root processes through sudo VAR=value and su without a login
# mitre: T1574.006, T1548.001, T1548.003
# expect: library_preload_into_privileged_program*5
source "$ATTACK_LIB"

cat >hook.c <<'C'
__attribute__((constructor)) static void hook(void) { static volatile int loaded; loaded++; }
unsigned int la_version(unsigned int v) { return v; }
C
cc -shared -fPIC -o libhook.so hook.c
chmod 644 libhook.so
lib=$PWD/libhook.so

# as a user: the loader ignores them in set-uid programs, the attempt shows
as_user env LD_PRELOAD="$lib" /usr/bin/passwd -S >/dev/null 2>&1 || true
as_user env LD_AUDIT="$lib" /usr/bin/mount --version >/dev/null 2>&1 || true
as_user env LD_LIBRARY_PATH="$PWD" /usr/bin/sudo -n true >/dev/null 2>&1 || true
# into root's processes: sudo VAR=value (what env_keep/SETENV allow), su keeping the environment
sudo LD_PRELOAD="$lib" /usr/bin/id >/dev/null
env LD_PRELOAD="$lib" su root -c /usr/bin/id >/dev/null
