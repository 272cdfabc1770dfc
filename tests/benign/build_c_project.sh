#!/bin/bash
# desc: a developer builds a small C project in their home directory, runs its tests, cleans up
source "$ATTACK_LIB"

src="$ATTACK_HOME/src/calc-$ATTACK_ID"
undo "rm -rf '$src'"
as_user mkdir -p "$src/tests"
as_user tee "$src/calc.h" >/dev/null <<'C'
int add(int a, int b);
int mul(int a, int b);
C
as_user tee "$src/calc.c" >/dev/null <<'C'
#include "calc.h"
int add(int a, int b) { return a + b; }
int mul(int a, int b) { return a * b; }
C
as_user tee "$src/main.c" >/dev/null <<'C'
#include <stdio.h>
#include <stdlib.h>
#include "calc.h"
int main(int argc, char **argv) {
	if (argc != 3) return 2;
	printf("%d\n", add(atoi(argv[1]), atoi(argv[2])));
	return 0;
}
C
as_user tee "$src/tests/test_calc.c" >/dev/null <<'C'
#include <assert.h>
#include "../calc.h"
int main(void) { assert(add(2, 3) == 5); assert(mul(4, 5) == 20); return 0; }
C
as_user tee "$src/Makefile" >/dev/null <<'M'
CFLAGS ?= -O2 -Wall -Wextra
all: calc
calc: main.o calc.o
	$(CC) $(CFLAGS) -o $@ $^
libcalc.a: calc.o
	$(AR) rcs $@ $^
tests/test_calc: tests/test_calc.c libcalc.a
	$(CC) $(CFLAGS) -o $@ $< -L. -lcalc
check: calc tests/test_calc
	./tests/test_calc
	test "$$(./calc 2 3)" = 5
install: calc
	install -D -m 755 calc $(DESTDIR)/usr/local/bin/calc
clean:
	rm -f *.o *.a calc tests/test_calc
.PHONY: all check install clean
M
cd "$src"
as_user make -s -j2
as_user make -s check
as_user make -s install DESTDIR="$src/stage"
as_user make -s clean
