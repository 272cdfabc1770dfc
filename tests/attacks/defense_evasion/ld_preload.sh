#!/bin/bash
# desc: a library preloaded into programs: env LD_PRELOAD=, a shell assignment, LD_AUDIT, and an exported LD_PRELOAD in an interactive shell
# mitre: T1574.006
# expect: library_preload_in_environment
source "$ATTACK_LIB"

# A harmless library: its constructor only counts how often it was loaded.
cat >hook.c <<'C'
__attribute__((constructor)) static void hook(void) { static volatile int loaded; loaded++; }
C
cc -shared -fPIC -o libhook.so hook.c
env LD_PRELOAD="$PWD/libhook.so" /bin/true
sh -c "LD_PRELOAD=$PWD/libhook.so id >/dev/null"
env LD_AUDIT="$PWD/libhook.so" /bin/true 2>/dev/null || true
printf 'export LD_PRELOAD=%s\nid\nexit\n' "$PWD/libhook.so" | bash --norc -i >/dev/null 2>&1
