#!/bin/bash
# desc: a developer debugs their own program: gdb runs it under a breakpoint, attaches to it while it runs (same user), gcore dumps it, strace and ltrace-style tracing of own commands
# timeout: 90
source "$ATTACK_LIB"

work="$ATTACK_HOME/dbg-$ATTACK_ID"
undo "rm -rf '$work'"
as_user mkdir -p "$work"
as_user tee "$work/count.c" >/dev/null <<'C'
#include <stdio.h>
#include <unistd.h>
static int total;
static void add(int n) { total += n; }
int main(int argc, char **argv)
{
	int rounds = argc > 1 ? 600 : 3;
	for (int i = 0; i < rounds; i++) {
		add(i);
		if (argc > 1)
			usleep(50000);
	}
	printf("%d\n", total);
	return 0;
}
C
cd "$work"
as_user gcc -g -O0 -o count count.c
# run under the debugger: a breakpoint, a look at a variable, a backtrace
as_user gdb -q -batch -nx -ex 'break add' -ex run -ex 'print total' -ex bt -ex continue \
	-ex 'delete' -ex continue ./count >/dev/null 2>&1
# attach to one's own running program, look, detach; then dump it
as_user ./count slow >/dev/null &
victim=$!
sleep 0.3
as_user gdb -q -batch -nx -p "$victim" -ex 'print total' -ex detach >/dev/null 2>&1 || true
as_user gcore -o "$work/core" "$victim" >/dev/null 2>&1 || true
kill "$victim" 2>/dev/null || true
wait "$victim" 2>/dev/null || true
# strace reads the traced program's memory (process_vm_readv) for every string argument
as_user strace -f -o "$work/trace" ./count >/dev/null
as_user strace -f -o "$work/trace2" sh -c 'ls -l / >/dev/null; cat /etc/hostname >/dev/null'
